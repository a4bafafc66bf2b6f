"""The request journal: a bounded log of API requests and their answers, per org.

Each org keeps its last ``limit`` entries in a deque, so a chatty test cannot grow memory
without bound and dropping an org drops its history. Entries are small slotted records (method,
path and query cut to 2,048 characters, status, operation, org, time, duration and short body
excerpts), serialized by the HTTP layer only when someone asks for them, which keeps recording
cheap on the hot path.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

DEFAULT_LIMIT = 1000
#: Bytes of each request and response body kept in an entry.
EXCERPT_BYTES = 512
#: Characters of a request's path and of its query string kept in an entry: a client sending
#: 240 KB URLs must not make the journal hold (and ``GET /_emulator/requests`` answer) megabytes.
LINE_CHARS = 2048


@dataclass(slots=True)
class JournalEntry:
    seq: int
    time: float
    method: str
    path: str
    query: str
    status: int
    operation: str | None
    org_id: int | None
    duration: float
    request_body: str | None
    response_body: str | None
    fault: int | None

    def line(self) -> str:
        """One readable line, as shown under a failed test."""
        text = f"#{self.seq} {self.method} {self.path}"
        if self.query:
            query = self.query
            text += "?" + (query if len(query) <= 60 else query[:30] + "…" + query[-25:])
        text += f" -> {self.status} [{self.operation or '-'}] {self.duration * 1000:.1f}ms"
        if self.fault is not None:
            text += f" (fault {self.fault})"
        if self.response_body and self.status >= 400:
            text += " " + self.response_body
        return text


def cut(text: str, limit: int = LINE_CHARS) -> str:
    """``text`` bounded to ``limit`` characters, marked with ``…`` when cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def excerpt(data: bytes | None) -> str | None:
    """The first :data:`EXCERPT_BYTES` of a body as text, marked when cut."""
    if not data:
        return None
    text = data[:EXCERPT_BYTES].decode("utf-8", "replace")
    return text + "…" if len(data) > EXCERPT_BYTES else text.rstrip("\n")


@dataclass(frozen=True)
class JournalQuery:
    """Filters of :meth:`Journal.query`; ``None`` means "any". ``path`` is a glob (``*``)."""

    org_id: int | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    operation: str | None = None
    since: int | None = None
    limit: int | None = None

    def matcher(self) -> Any:
        method = self.method.upper() if self.method else None
        path = re.compile(fnmatch.translate(self.path)).match if self.path else None

        def keep(entry: JournalEntry) -> bool:
            return (
                (method is None or entry.method == method)
                and (self.status is None or entry.status == self.status)
                and (self.operation is None or entry.operation == self.operation)
                and (self.since is None or entry.seq > self.since)
                and (path is None or path(entry.path) is not None)
            )

        return keep


class Journal:
    """Thread-safe, bounded per org. ``org_id`` ``None`` holds requests no org was found for."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._by_org: dict[int | None, deque[JournalEntry]] = {}

    def record(
        self,
        *,
        time: float,
        method: str,
        path: str,
        query: str,
        status: int,
        operation: str | None,
        org_id: int | None,
        duration: float,
        request_body: bytes | None = None,
        response_body: bytes | None = None,
        fault: int | None = None,
    ) -> None:
        request_excerpt, response_excerpt = excerpt(request_body), excerpt(response_body)
        with self._lock:
            entry = JournalEntry(
                next(self._seq),
                time,
                method,
                cut(path),
                cut(query),
                status,
                operation,
                org_id,
                duration,
                request_excerpt,
                response_excerpt,
                fault,
            )
            log = self._by_org.get(org_id)
            if log is None:
                log = self._by_org[org_id] = deque(maxlen=self.limit)
            log.append(entry)

    def query(self, query: JournalQuery | None = None) -> list[JournalEntry]:
        """Matching entries, oldest first; ``limit`` keeps the newest ones."""
        query = query or JournalQuery()
        with self._lock:
            if query.org_id is not None:
                logs: Iterable[deque[JournalEntry]] = [self._by_org.get(query.org_id, deque())]
            else:
                logs = list(self._by_org.values())
            entries = [entry for log in logs for entry in log]
        if query.org_id is None:
            entries.sort(key=lambda entry: entry.seq)
        keep = query.matcher()
        selected = [entry for entry in entries if keep(entry)]
        if query.limit is not None:
            selected = selected[-query.limit :] if query.limit > 0 else []
        return selected

    def clear(self, org_id: int | None = None) -> int:
        """Forget one org's entries, or everything; returns how many went."""
        with self._lock:
            if org_id is None:
                removed = sum(len(log) for log in self._by_org.values())
                self._by_org.clear()
                return removed
            return len(self._by_org.pop(org_id, ()))
