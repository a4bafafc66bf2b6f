"""Rendered CDN variants: a thread-safe LRU capped in bytes, with single-flight rendering.

A variant is keyed by the original (org, file, version) and everything else that decides the
output (the plan's key: expanded steps, dpr, the f_auto format, merge layers' versions). When a
file's version changes, its older variants are dropped the next time the file is rendered, and
the LRU evicts what is not asked for. Concurrent requests for one variant render it once: the
first renders, the others wait for its result (or its error, which is not cached).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from .rendering import Rendered

MB = 1024 * 1024
DEFAULT_MAX_MB = 256


@dataclass(frozen=True)
class Variant:
    data: bytes
    format: str
    content_type: str
    width: int
    height: int
    stand_in: bool
    #: Its own entity tag: a digest of its bytes.
    etag: str

    @classmethod
    def of(cls, rendered: Rendered) -> Variant:
        return cls(
            rendered.data,
            rendered.format,
            rendered.content_type,
            rendered.width,
            rendered.height,
            rendered.stand_in,
            hashlib.md5(rendered.data, usedforsecurity=False).hexdigest(),
        )


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.variant: Variant | None = None
        self.error: BaseException | None = None


class VariantCache:
    """``get(file_key, version, key, render)`` returns the cached variant or renders it once."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_MB * MB) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, Variant] = OrderedDict()
        self._versions: dict[Hashable, str] = {}
        self._flights: dict[tuple, _Flight] = {}
        self._bytes = 0
        #: Counters, for tests and benchmarks.
        self.hits = 0
        self.renders = 0

    @property
    def size(self) -> int:
        """Bytes held."""
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(
        self, file_key: Hashable, version: str, key: Hashable, render: Callable[[], Rendered]
    ) -> Variant:
        full = (file_key, version, key)
        with self._lock:
            if self._versions.get(file_key) != version:
                self._drop_file(file_key)
                self._versions[file_key] = version
            cached = self._entries.get(full)
            if cached is not None:
                self._entries.move_to_end(full)
                self.hits += 1
                return cached
            flight = self._flights.get(full)
            leader = flight is None
            if leader:
                flight = self._flights[full] = _Flight()
        assert flight is not None
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            assert flight.variant is not None
            return flight.variant
        try:
            variant = Variant.of(render())
        except BaseException as error:
            flight.error = error
            raise
        else:
            flight.variant = variant
            with self._lock:
                self.renders += 1
                if self._versions.get(file_key) == version:
                    self._store(full, variant)
            return variant
        finally:
            with self._lock:
                self._flights.pop(full, None)
            flight.done.set()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._versions.clear()
            self._bytes = 0

    def _store(self, full: tuple, variant: Variant) -> None:
        size = len(variant.data)
        if size > self.max_bytes:
            return
        self._entries[full] = variant
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted.data)

    def _drop_file(self, file_key: Hashable) -> None:
        for full in [k for k in self._entries if k[0] == file_key]:
            self._bytes -= len(self._entries.pop(full).data)
