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

from .errors import NotFoundError, ValidationError

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
# RFC 9110 §5.6.2 token; a field value is visible Latin-1 text, spaces and tabs (§5.5: no CR,
# LF or NUL; WSGI headers are Latin-1 strings).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "path": self.path,
            "method": self.method,
            "orgId": self.org_id,
            "status": self.status,
            "body": self.body,
            "headers": dict(self.headers),
            "latency": self.latency,
            "drop": self.drop,
            "times": self.times,
            "after": self.after,
            "matched": self.matched,
            "fired": self.fired,
            "exhausted": self.exhausted,
        }


def _opt_str(doc: dict[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise ValidationError(f"{key} must be a non-empty string")
    return value


def _opt_int(doc: dict[str, Any], key: str, low: int, high: int | None = None) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValidationError(f"{key} must be an integer >= {low}")
    if high is not None and value > high:
        raise ValidationError(f"{key} must be an integer <= {high}")
    return value


def _headers(value: Any) -> dict[str, str]:
    """Answer headers that can be sent as given, or a 400 saying which cannot."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationError("headers must be an object of strings")
    if len(value) > MAX_HEADERS:
        raise ValidationError(f"a fault rule sets at most {MAX_HEADERS} headers")
    for name, text in value.items():
        if not _TOKEN.fullmatch(name):
            raise ValidationError(f"header name {name!r} is not an HTTP token")
        if name.lower() in FORBIDDEN_HEADERS:
            raise ValidationError(f"header {name} frames the message and cannot be set by a rule")
        if len(text) > MAX_HEADER_VALUE or not _FIELD_VALUE.fullmatch(text):
            raise ValidationError(
                f"header {name} must be at most {MAX_HEADER_VALUE} characters of Latin-1 text "
                "without control characters (no CR or LF)"
            )
    return dict(value)


_RULE_KEYS = {
    "operation", "path", "method", "orgId", "status", "body", "headers",
    "latency", "drop", "times", "after",
}  # fmt: skip


class Faults:
    """The emulator's fault rules. ``active`` is a plain bool read without the lock (hot path)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._rules: list[FaultRule] = []
        self.active = False

    def add(self, doc: dict[str, Any]) -> FaultRule:
        """Validate a rule document (the JSON shape of :meth:`FaultRule.as_dict`) and add it."""
        if not isinstance(doc, dict):
            raise ValidationError("a fault rule must be an object")
        unknown = sorted(set(doc) - _RULE_KEYS)
        if unknown:
            raise ValidationError(f"unknown fault rule fields: {', '.join(unknown)}")
        status = _opt_int(doc, "status", MIN_STATUS, MAX_STATUS)
        latency = doc.get("latency", 0) or 0
        if not isinstance(latency, int | float) or isinstance(latency, bool):
            raise ValidationError("latency must be a number of seconds")
        if not 0 <= latency <= MAX_LATENCY:
            raise ValidationError(f"latency must be between 0 and {MAX_LATENCY:g} seconds")
        drop = doc.get("drop", False)
        if not isinstance(drop, bool):
            raise ValidationError("drop must be a boolean")
        if status is None and not drop and not latency:
            raise ValidationError("a fault rule needs an effect: status, drop or latency")
        if status is not None and drop:
            raise ValidationError("a fault rule cannot both answer (status) and drop")
        headers = _headers(doc.get("headers"))
        if headers and status is None:
            raise ValidationError("headers need a status to answer with")
        if status in NO_BODY_STATUSES and doc.get("body") is not None:
            raise ValidationError(f"a {status} answer has no body")
        method = _opt_str(doc, "method")
        rule = FaultRule(
            id=0,
            operation=_opt_str(doc, "operation"),
            path=_opt_str(doc, "path"),
            method=method.upper() if method else None,
            org_id=_opt_int(doc, "orgId", 1),
            status=status,
            body=doc.get("body"),
            headers=headers,
            latency=float(latency),
            drop=drop,
            times=_opt_int(doc, "times", 1),
            after=_opt_int(doc, "after", 0) or 0,
        )
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
