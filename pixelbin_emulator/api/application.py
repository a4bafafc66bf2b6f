"""The Flask class the emulator runs on: Flask, less per-request work it does not need.

Flask asks ``inspect.iscoroutinefunction`` of every hook and view on every request (six times
for a ``getFileById``: three ``before_request``, the view, two ``after_request``). Whether a
function is a coroutine function does not change, so the answer is kept per function (a bounded
number of them: a function made per request, e.g. by ``after_this_request``, only churns it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

#: Functions whose answer is kept: far more than the app's views, hooks and error handlers.
MAX_KEPT = 1024


class EmulatorFlask(Flask):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        sync = self._sync.get(func)
        if sync is None:
            if len(self._sync) >= MAX_KEPT:
                self._sync.clear()
            sync = self._sync[func] = super().ensure_sync(func)
        return sync
