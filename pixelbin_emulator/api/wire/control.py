"""The control plane's wire shapes (``/_emulator/``): fault rules, the clock, orgs, custom
domains, removals, URL stubs, the request journal and snapshot imports.

Each request body and response is declared here once; ``api/control.py`` decodes and answers
with them, ``openapi.py`` publishes their generated schemas, and the pytest plugin and
``ControlClient`` build the same :class:`FaultRuleSpec`. An org is answered as the state
document's :class:`~pixelbin_emulator.core.documents.OrgHead` (the head of its document), and a
snapshot is a :class:`~pixelbin_emulator.core.documents.StateDocument`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from ...core.clock import MAX_EPOCH, Clock, isoformat
from ...core.documents import OrgHead, StateDocument, Timestamp
from ...core.errors import ValidationError
from ...core.faults import (
    FORBIDDEN_HEADERS,
    MAX_HEADER_VALUE,
    MAX_HEADERS,
    MAX_LATENCY,
    MAX_STATUS,
    MIN_STATUS,
    NO_BODY_STATUSES,
    FaultRule,
)
from ...core.journal import JournalEntry as JournalRecord
from ...core.journal import JournalQuery
from ...core.registry import MAX_ORG_ID, MAX_TEXT_LENGTH
from ...core.url_stubs import MAX_STUB_STATUS, MIN_STUB_STATUS
from ...core.url_stubs import UrlStub as UrlStubRecord

# RFC 9110 §5.6.2 token; a field value is visible Latin-1 text, spaces and tabs (§5.5: no CR,
# LF or NUL; WSGI headers are Latin-1 strings).
TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}"
FIELD_VALUE = r"[\t\x20-\x7e\x80-\xff]*"
_TOKEN, _FIELD_VALUE = re.compile(TOKEN), re.compile(FIELD_VALUE)

NonEmpty = Annotated[str, Meta(min_length=1, description="a non-empty string")]
#: Names and values are checked by :meth:`FaultRuleSpec.check` (with its own messages); the
#: schema publishes the same patterns.
HeaderValue = Annotated[
    str,
    Meta(extra_json_schema={"maxLength": MAX_HEADER_VALUE, "pattern": f"^{FIELD_VALUE}$"}),
]
Headers = Annotated[
    dict[str, HeaderValue],
    Meta(
        max_length=MAX_HEADERS,
        description=f"an object of at most {MAX_HEADERS} strings: HTTP token names to Latin-1 "
        "text without control characters, none of " + ", ".join(sorted(FORBIDDEN_HEADERS)),
        extra_json_schema={"propertyNames": {"pattern": f"^{TOKEN}$"}},
    ),
]


class Wire(msgspec.Struct, rename="camel", omit_defaults=True):
    """Fields are snake_case in Python, camelCase on the wire."""


class FaultRuleSpec(Wire, forbid_unknown_fields=True):
    """A fault rule to add (``POST /_emulator/faults``): matchers, effects and counts."""

    operation: NonEmpty | None = None
    path: NonEmpty | None = None
    method: NonEmpty | None = None
    org_id: Annotated[int, Meta(ge=1, description="an integer >= 1")] | None = None
    status: (
        Annotated[
            int,
            Meta(
                ge=MIN_STATUS,
                le=MAX_STATUS,
                description=f"an integer from {MIN_STATUS} to {MAX_STATUS}",
            ),
        ]
        | None
    ) = None
    body: Any = None
    headers: Headers | None = None
    latency: (
        Annotated[
            float,
            Meta(ge=0, le=MAX_LATENCY, description=f"between 0 and {MAX_LATENCY:g} seconds"),
        ]
        | None
    ) = None
    drop: Annotated[bool, Meta(description="a boolean")] = False
    times: Annotated[int, Meta(ge=1, description="an integer >= 1")] | None = None
    after: Annotated[int, Meta(ge=0, description="an integer >= 0")] | None = None

    def check(self) -> None:
        """What the fields cannot say one by one; header checks repeat the patterns with
        ``fullmatch`` (a JSON Schema ``$`` would let a final newline through)."""
        status, headers = self.status, self.headers or {}
        if status is None and not self.drop and not self.latency:
            raise ValidationError("a fault rule needs an effect: status, drop or latency")
        if status is not None and self.drop:
            raise ValidationError("a fault rule cannot both answer (status) and drop")
        for name, text in headers.items():
            if not _TOKEN.fullmatch(name):
                raise ValidationError(f"header name {name!r} is not an HTTP token")
            if name.lower() in FORBIDDEN_HEADERS:
                raise ValidationError(
                    f"header {name} frames the message and cannot be set by a rule"
                )
            if len(text) > MAX_HEADER_VALUE or not _FIELD_VALUE.fullmatch(text):
                raise ValidationError(
                    f"header {name} must be at most {MAX_HEADER_VALUE} characters of Latin-1 "
                    "text without control characters (no CR or LF)"
                )
        if headers and status is None:
            raise ValidationError("headers need a status to answer with")
        if status in NO_BODY_STATUSES and self.body is not None:
            raise ValidationError(f"a {status} answer has no body")

    def rule(self) -> FaultRule:
        """The core's rule (its id is given when it is added)."""
        return FaultRule(
            id=0,
            operation=self.operation,
            path=self.path,
            method=self.method.upper() if self.method else None,
            org_id=self.org_id,
            status=self.status,
            body=self.body,
            headers=dict(self.headers or {}),
            latency=float(self.latency or 0),
            drop=self.drop,
            times=self.times,
            after=self.after or 0,
        )


class FaultRuleState(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """A fault rule as the control plane shows it, with its counters."""

    id: int
    operation: str | None
    path: str | None
    method: str | None
    org_id: int | None
    status: int | None
    body: Any
    headers: dict[str, str]
    latency: float
    drop: bool
    times: int | None
    after: int
    matched: int
    fired: int
    exhausted: bool

    @classmethod
    def of(cls, rule: FaultRule) -> FaultRuleState:
        return cls(
            id=rule.id,
            operation=rule.operation,
            path=rule.path,
            method=rule.method,
            org_id=rule.org_id,
            status=rule.status,
            body=rule.body,
            headers=dict(rule.headers),
            latency=rule.latency,
            drop=rule.drop,
            times=rule.times,
            after=rule.after,
            matched=rule.matched,
            fired=rule.fired,
            exhausted=rule.exhausted,
        )


_RANGE = "between 1970 and the end of year 9999 (UTC)"
Epoch = Annotated[float, Meta(ge=0, le=MAX_EPOCH, description=f"epoch seconds {_RANGE}")]
#: What ``datetime.fromisoformat`` reads (a date alone too), so no ``date-time`` format.
IsoInstant = Annotated[str, Meta(description="an ISO-8601 timestamp (UTC without an offset)")]


class ClockFreeze(Wire):
    """``POST /_emulator/clock/freeze``: at an instant, or (without ``at``) now."""

    at: (
        Annotated[
            Epoch | IsoInstant,
            Meta(description=f"epoch seconds or an ISO-8601 timestamp, {_RANGE}"),
        ]
        | None
    ) = None


class ClockAdvance(Wire):
    """``POST /_emulator/clock/advance``: move the clock (negative: back)."""

    seconds: Annotated[
        float,
        Meta(
            ge=-MAX_EPOCH,
            le=MAX_EPOCH,
            description="a number of seconds that keeps the clock between 1970 and the end of "
            "year 9999",
        ),
    ]


class ClockState(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """The clock as the control plane shows it."""

    now: Timestamp
    epoch: float
    frozen: bool

    @classmethod
    def of(cls, clock: Clock) -> ClockState:
        now = clock.time()
        return cls(now=isoformat(now), epoch=now, frozen=clock.frozen)


Text = Annotated[
    str,
    Meta(
        max_length=MAX_TEXT_LENGTH,
        description=f"at most {MAX_TEXT_LENGTH} printable characters on one line",
    ),
]


class OrgCreate(Wire):
    """``POST /_emulator/orgs``: every field optional (generated and unique when left out).

    An empty string counts as left out. The core checks these again (printable text, the cloud
    name in full) for state documents, which are not declared here yet.
    """

    name: Text | None = None
    org_id: (
        Annotated[int, Meta(ge=1, le=MAX_ORG_ID, description=f"an integer from 1 to {MAX_ORG_ID}")]
        | None
    ) = None
    cloud_name: (
        Annotated[
            str,
            Meta(
                pattern="^([A-Za-z0-9][A-Za-z0-9_-]{0,62})?$",
                description="1 to 63 letters, digits, '-' or '_' (one URL path segment)",
            ),
        ]
        | None
    ) = None
    api_secret: (
        Annotated[
            str,
            Meta(
                pattern="^(.{5,})?$",
                max_length=MAX_TEXT_LENGTH,
                description=f"5 to {MAX_TEXT_LENGTH} printable characters (5: the SDKs' minimum)",
            ),
        ]
        | None
    ) = None
    access_key: (
        Annotated[
            str,
            Meta(
                pattern="^[^/]*$",
                max_length=MAX_TEXT_LENGTH,
                description=f"at most {MAX_TEXT_LENGTH} printable characters, without '/'",
            ),
        ]
        | None
    ) = None


class DomainMapping(Wire):
    """``POST /_emulator/domains``: serve an org's CDN URLs on ``host`` (unknown fields ignored)."""

    host: Annotated[str, Meta(min_length=1, description="a non-empty host name")]
    org_id: Annotated[int, Meta(description="the id of an existing org")]


class ControlDomain(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """A custom domain and the org it serves, as mapped or unmapped."""

    host: str
    org_id: int


Integer = Annotated[int, Meta(description="an integer")]


class ControlOrgs(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """``GET /_emulator/orgs``."""

    items: list[OrgHead]


class OrgsReset(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """``POST /_emulator/reset``: the orgs of the seed."""

    orgs: list[OrgHead]


class OrgFilter(Wire):
    """The ``orgId`` query of the control routes that list or remove one org's entries (every
    org's without it)."""

    org_id: Integer | None = None


class UrlStubsRemoval(OrgFilter):
    """``DELETE /_emulator/url-stubs``' query: one stub by its URL, else all (of one org)."""

    url: str | None = None


class SnapshotExport(Wire):
    """``GET /_emulator/snapshot``'s query: one org's (or every org's) state, as JSON or as a
    ``.tar.gz`` with the files' bytes."""

    org_id: Integer | None = None
    form: Annotated[Literal["json", "archive"], Meta(description="'json' or 'archive'")] = "json"


class SnapshotImport(Wire):
    """``PUT /_emulator/snapshot``'s query: replace every org, or merge by ``orgId``."""

    mode: Annotated[Literal["replace", "merge"], Meta(description="'replace' or 'merge'")] = (
        "replace"
    )


class SnapshotImported(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """``PUT /_emulator/snapshot``: how it was imported and the orgs the snapshot held."""

    mode: str
    orgs: list[OrgHead]


class Removed(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """How many journal entries, fault rules or URL stubs a ``DELETE`` removed."""

    removed: Annotated[int, Meta(ge=0)]


class UrlStubCreate(Wire):
    """``POST /_emulator/url-stubs``: the bytes ``urlUpload`` gets from ``url`` (``base64``
    wins over ``text``); unknown fields are ignored. The core checks the URL's scheme."""

    url: Annotated[str, Meta(min_length=1, description="a non-empty http(s) URL")]
    base64: Annotated[bytes, Meta(description="a base64 string")] | None = None
    text: Annotated[str, Meta(description="a string")] | None = None
    status: (
        Annotated[
            int,
            Meta(
                ge=MIN_STUB_STATUS,
                le=MAX_STUB_STATUS,
                description=f"an HTTP status code ({MIN_STUB_STATUS} to {MAX_STUB_STATUS})",
            ),
        ]
        | None
    ) = None
    org_id: Integer | None = None

    def check(self) -> None:
        if self.base64 is None and self.text is None:
            raise ValidationError("a stub needs its content: base64 or text")

    def content(self) -> bytes:
        return self.base64 if self.base64 is not None else (self.text or "").encode()


class UrlStub(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """A URL stub as the control plane shows it: its size, not its bytes."""

    url: str
    org_id: int | None
    status: int
    size: int

    @classmethod
    def of(cls, stub: UrlStubRecord) -> UrlStub:
        return cls(url=stub.url, org_id=stub.org_id, status=stub.status, size=len(stub.data))


class RequestsFilter(Wire):
    """``GET /_emulator/requests``' query: every filter optional; ``path`` is a glob."""

    org_id: Integer | None = None
    method: str | None = None
    path: str | None = None
    status: Integer | None = None
    operation: str | None = None
    since: Integer | None = None
    limit: Integer | None = None

    def query(self) -> JournalQuery:
        """The core's query: the same filters, field for field."""
        return JournalQuery(**msgspec.structs.asdict(self))


class JournalEntry(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """A request and its answer as the journal holds them (bodies cut to a short excerpt)."""

    seq: int
    time: Timestamp
    method: str
    path: str
    query: str
    status: int
    operation: str | None
    org_id: int | None
    duration_ms: float
    request_body: str | None
    response_body: str | None
    fault_id: int | None

    @classmethod
    def of(cls, entry: JournalRecord) -> JournalEntry:
        return cls(
            seq=entry.seq,
            time=isoformat(entry.time),
            method=entry.method,
            path=entry.path,
            query=entry.query,
            status=entry.status,
            operation=entry.operation,
            org_id=entry.org_id,
            duration_ms=round(entry.duration * 1000, 3),
            request_body=entry.request_body,
            response_body=entry.response_body,
            fault_id=entry.fault,
        )


REQUESTS = (
    FaultRuleSpec,
    ClockFreeze,
    ClockAdvance,
    OrgCreate,
    DomainMapping,
    UrlStubCreate,
    StateDocument,
)
RESPONSES = (
    FaultRuleState,
    ClockState,
    ControlDomain,
    OrgHead,
    ControlOrgs,
    OrgsReset,
    SnapshotImported,
    Removed,
    UrlStub,
    JournalEntry,
)
