"""URL stubs: bytes registered for a URL, so ``urlUpload`` from it works offline.

A stub belongs to one org (tests register stubs for their own org and cannot disturb each other)
or to every org (``org_id`` ``None``); an org's own stub wins. A stub with a non-2xx ``status``
makes the fetch fail the way an unreachable or missing remote file does.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .errors import NotFoundError, ValidationError

#: The statuses a stub may answer with.
MIN_STUB_STATUS, MAX_STUB_STATUS = 100, 599


@dataclass(frozen=True, slots=True)
class UrlStub:
    url: str
    data: bytes
    status: int = 200
    org_id: int | None = None


class UrlStubs:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stubs: dict[tuple[int | None, str], UrlStub] = {}

    def add(
        self, url: str, data: bytes, *, status: int = 200, org_id: int | None = None
    ) -> UrlStub:
        if not url.lower().startswith(("http://", "https://")):
            raise ValidationError("only http(s) URLs can be stubbed")
        if not MIN_STUB_STATUS <= status <= MAX_STUB_STATUS:
            raise ValidationError("status must be an HTTP status code")
        stub = UrlStub(url, data, status, org_id)
        with self._lock:
            self._stubs[(org_id, url)] = stub
        return stub

    def find(self, url: str, org_id: int | None) -> UrlStub | None:
        """The org's stub for ``url``, else the stub for every org."""
        if not self._stubs:
            return None
        with self._lock:
            return self._stubs.get((org_id, url)) or self._stubs.get((None, url))

    def stubs(self, org_id: int | None = None) -> list[UrlStub]:
        with self._lock:
            return [s for s in self._stubs.values() if org_id is None or s.org_id == org_id]

    def remove(self, url: str, org_id: int | None = None) -> UrlStub:
        with self._lock:
            stub = self._stubs.pop((org_id, url), None)
        if stub is None:
            raise NotFoundError(f"no stub for {url!r}")
        return stub

    def clear(self, org_id: int | None = None) -> int:
        """Remove every stub (or the stubs of ``org_id``); returns how many went."""
        with self._lock:
            kept = {
                key: stub
                for key, stub in self._stubs.items()
                if org_id is not None and stub.org_id != org_id
            }
            removed = len(self._stubs) - len(kept)
            self._stubs = kept
        return removed
