"""Fault injection: rules that make matching API requests fail, hang or lose their connection.

A rule matches on operation name (e.g. ``fileUpload``; a glob), path (a glob where ``*`` also
crosses ``/``), HTTP method and org. ``after`` lets that many matching requests through first,
then the rule fires ``times`` times (``None``: for ever). Rules are tried in the order they were
added and the first one that fires wins (later rules do not see that request); a rule counts
every request it sees and matches, so "fail the 3rd and 4th part upload" is ``after=2, times=2``.

Effects: ``latency`` (seconds slept before anything else), then either ``drop`` (the connection
is closed without an answer) or ``status`` (+ ``body``, ``headers``) answered instead of the real
handler. A rule with only ``latency`` delays the request and lets it through.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import NotFoundError

#: Longest latency a rule may ask for, so a typo cannot hang a request for hours.
MAX_LATENCY = 300.0
#: Statuses a rule may answer with: a final answer (1xx are interim: the client would wait for
#: another) that the HTTP server can send.
MIN_STATUS, MAX_STATUS = 200, 599
#: Statuses whose answer has no content (RFC 9110 §15.3.5, §15.3.6, §15.4.5): a body is refused.
NO_BODY_STATUSES = frozenset({204, 205, 304})
#: Headers a rule may not set: they frame the message or describe the connection (RFC 9110
#: §7.6.1, RFC 9112 §6), so a made-up value hangs the client or corrupts the next answer on the
#: connection; the WSGI server refuses hop-by-hop ones outright (PEP 3333).
FORBIDDEN_HEADERS = frozenset(
    {
        "connection",
        "content-length",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
MAX_HEADERS = 50
MAX_HEADER_VALUE = 8192


def _glob(pattern: str | None) -> Callable[[str], Any] | None:
    return re.compile(fnmatch.translate(pattern)).match if pattern else None


@dataclass(eq=False)
class FaultRule:
    id: int
    operation: str | None = None
    path: str | None = None
    method: str | None = None
    org_id: int | None = None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    latency: float = 0.0
    drop: bool = False
    times: int | None = None
    after: int = 0
    matched: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        self._operation = _glob(self.operation)
        self._path = _glob(self.path)

    def matches(self, operation: str | None, method: str, path: str, org_id: int | None) -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.org_id is None or self.org_id == org_id)
            and (self._operation is None or (operation is not None and self._operation(operation)))
            and (self._path is None or self._path(path) is not None)
        )

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times


class Faults:
    """The emulator's fault rules. ``active`` is a plain bool read without the lock (hot path)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._rules: list[FaultRule] = []
        self.active = False

    def add(self, rule: FaultRule) -> FaultRule:
        """Add a rule (validated by the API layer's ``FaultRuleSpec``), giving it its id."""
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
            self.active = True
        return rule

    def rules(self, org_id: int | None = None) -> list[FaultRule]:
        with self._lock:
            return [r for r in self._rules if org_id is None or r.org_id == org_id]

    def get(self, rule_id: int) -> FaultRule:
        with self._lock:
            for rule in self._rules:
                if rule.id == rule_id:
                    return rule
        raise NotFoundError(f"fault rule {rule_id} not found")

    def remove(self, rule_id: int) -> FaultRule:
        with self._lock:
            rule = None
            for index, candidate in enumerate(self._rules):
                if candidate.id == rule_id:
                    rule = self._rules.pop(index)
                    break
            self.active = bool(self._rules)
        if rule is None:
            raise NotFoundError(f"fault rule {rule_id} not found")
        return rule

    def clear(self, org_id: int | None = None) -> int:
        """Remove every rule (or every rule scoped to ``org_id``); returns how many went."""
        with self._lock:
            kept = [r for r in self._rules if org_id is not None and r.org_id != org_id]
            removed = len(self._rules) - len(kept)
            self._rules = kept
            self.active = bool(kept)
        return removed

    def check(
        self, operation: str | None, method: str, path: str, org_id: int | None
    ) -> FaultRule | None:
        """Count this request against every matching rule; the rule that fires, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.matches(operation, method, path, org_id):
                    continue
                rule.matched += 1
                if rule.matched > rule.after:
                    rule.fired += 1
                    return rule
        return None
