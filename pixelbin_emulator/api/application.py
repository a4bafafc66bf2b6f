"""The Flask class the emulator runs on: Flask, less per-request work it does not need.

- Flask asks ``inspect.iscoroutinefunction`` of every hook and view on every request (six times
  for a ``getFileById``: three ``before_request``, the view, two ``after_request``). Whether a
  function is a coroutine function does not change, so the answer is kept per function.
- Matching a path against the URL map walks it segment by segment (seven for a ``getFileById``);
  the match of a method and path does not change either (the map is fixed once serving starts,
  and nothing here depends on the host), so it is kept too. Failed matches (404, 405) are not,
  nor matches through a converter whose answer depends on state (``depends_on_state``, as the
  version-less CDN route's cloud name: it stops matching when the org is dropped).

Both are bounded (:data:`MAX_KEPT` entries, paths of at most :data:`MAX_PATH` characters): a key
made per request (an id in a path, a function made by ``after_this_request``) only churns them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.ctx import RequestContext
from werkzeug.routing import BaseConverter, Rule

#: Entries of each cache: far more than the app's functions, and the paths of a busy test run.
MAX_KEPT = 1024
#: Longer paths are matched every time (a client may send 200 KB ones; they are not kept).
MAX_PATH = 1024


class _Rule(Rule):
    """A rule that knows whether one of its converters depends on state."""

    depends_on_state = False

    def get_converter(
        self,
        variable_name: str,
        converter_name: str,
        args: tuple[Any, ...],
        kwargs: Any,
    ) -> BaseConverter:
        converter = super().get_converter(variable_name, converter_name, args, kwargs)
        if getattr(converter, "depends_on_state", False):
            self.depends_on_state = True
        return converter


class EmulatorFlask(Flask):
    url_rule_class = _Rule

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.routes: dict[tuple[str, str], tuple[Rule, dict[str, Any]]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        sync = self._sync.get(func)
        if sync is None:
            if len(self._sync) >= MAX_KEPT:
                self._sync.clear()
            sync = self._sync[func] = super().ensure_sync(func)
        return sync

    def request_context(self, environ: dict[str, Any]) -> RequestContext:
        return _RequestContext(self, environ)


class _RequestContext(RequestContext):
    app: EmulatorFlask

    def match_request(self) -> None:
        request = self.request
        environ = request.environ
        key = (environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        if self.url_adapter is None or "HTTP_UPGRADE" in environ or len(key[1]) > MAX_PATH:
            super().match_request()  # as Flask does it
            return
        routes = self.app.routes
        known = routes.get(key)
        if known is None:
            super().match_request()
            rule = request.url_rule
            if (
                request.routing_exception is None
                and rule is not None
                and not getattr(rule, "depends_on_state", False)
            ):
                if len(routes) >= MAX_KEPT:
                    routes.clear()
                routes[key] = (rule, dict(request.view_args or {}))
            return
        rule, args = known
        request.url_rule, request.view_args = rule, dict(args)
