"""Signed uploads: sessions the platform API opens and unauthenticated clients complete.

v2 (``createSignedUrlV2``, what the SDKs' ``uploader.upload`` uses) hands out a signed multipart
URL: parts are PUT to it (concurrently, out of order, possibly repeated), then a POST lists the
parts and the file is assembled and stored. v1 (``createSignedUrl``) hands out an S3-style
presigned POST: a policy (expiry, size range, exact field values) and its signature.

Either way the file is created by :meth:`AssetTree.upload`, so the rules of a direct upload apply
(ancestors, slugify, sniffing, overwrite / filenameOverride), and nothing is visible before the
upload is complete. A part's bytes are held once, in the session, until the file is stored.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .assets import ByteBudget, Limits, UploadSpec, check_access, check_tags_and_metadata
from .clock import MAX_EPOCH, isoformat
from .errors import EmulatorError, ForbiddenError, NotFoundError, ValidationError
from .ids import IdFactory
from .media import normalize_format
from .names import clean_name, clean_path, join
from .records import File
from .signing import hmac_hex, matches

DEFAULT_EXPIRY = 3000
MAX_EXPIRY = 3600
DEFAULT_FORMAT = "jpeg"
MAX_PART_NUMBER = 10_000
POST_POLICY_SECONDS = 300
POST_MAX_BYTES = 157_286_400
BUCKET = "pixelbin-emulator-assets"
ASSET_DATA_FIELD = "x-pixb-meta-assetdata"
MULTIPART_PARAMS = ("pbs", "pbe", "pbt", "pbo", "pbu")

_FORMAT = re.compile(r"[a-z0-9]{1,16}", re.ASCII)


class InvalidSignatureError(ForbiddenError):
    exception = "InvalidSignatureError"


class SignedUrlExpiredError(ForbiddenError):
    exception = "SignedUrlExpiredError"


class MissingMultipartMetaError(ValidationError):
    """Name and message SEEN in a real response captured in the Python SDK tests."""

    exception = "MissingMultipartMetaError"


class InvalidMultipartMetaError(ValidationError):
    exception = "InvalidMultipartMetaError"


class UploadCompletedError(ValidationError):
    exception = "UploadAlreadyCompletedError"


class PendingUploadsFullError(EmulatorError):
    """The parts of unfinished signed uploads hold the emulator's whole budget (413: RFC 9110
    "larger than the server is willing or able to process"; it passes as uploads finish or
    expire)."""

    status = 413
    exception = "PendingUploadsLimitError"


class S3Error(EmulatorError):
    """A rejection of the v1 presigned POST, answered as S3 answers (``<Error><Code>``)."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.exception = code


@dataclass(slots=True)
class SignedUploadRequest:
    """The body of ``createSignedUrl`` / ``createSignedUrlV2``, parsed into Python types."""

    name: str | None = None
    path: str | None = None
    format: str | None = None
    access: str | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    overwrite: bool = False
    filename_override: bool = False
    expiry: int | None = None


@dataclass(eq=False)
class UploadSession:
    """One signed upload: what the file will be, until when, and the parts received so far."""

    id: str
    name: str
    path: str
    format: str
    access: str
    tags: list[str]
    metadata: dict[str, Any]
    overwrite: bool
    filename_override: bool
    expires_at: float
    keep_extension: bool
    asset_data: dict[str, Any] = field(default_factory=dict)
    parts: dict[int, bytes | memoryview] = field(default_factory=dict)
    size: int = 0
    completed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Where ``size`` is counted; given back when the parts go (completion, expiry, drop).
    budget: ByteBudget | None = None

    def release(self) -> None:
        """Give the parts' bytes back to the budget (they are cleared or about to go)."""
        if self.budget is not None and self.size:
            self.budget.give_back(self.size)
        self.size = 0

    def __del__(self) -> None:
        # An expired session, or one of a dropped org, still holding parts.
        if getattr(self, "size", 0):
            self.release()

    def spec(self, data: bytes) -> UploadSpec:
        return UploadSpec(
            data=data,
            name=self.name,
            path=self.path,
            access=self.access,
            tags=list(self.tags),
            metadata=dict(self.metadata),
            overwrite=self.overwrite,
            filename_override=self.filename_override,
            filename=self.name,
            declared_format=self.format,
            keep_extension=self.keep_extension,
        )


@dataclass(frozen=True, slots=True)
class MultipartTicket:
    """What ``createSignedUrlV2`` answers: the URL's query and the asset-data field."""

    query: dict[str, str]
    asset_data: str


@dataclass(frozen=True, slots=True)
class PostTicket:
    """What ``createSignedUrl`` answers: the bucket the form posts to and its fields."""

    bucket: str
    fields: dict[str, str]


def _check_format(raw: str | None) -> str:
    fmt = normalize_format(raw) if raw else DEFAULT_FORMAT
    if not _FORMAT.fullmatch(fmt):
        raise ValidationError("format must be 1 to 16 letters or digits, e.g. jpeg")
    return fmt


def _check_expiry(raw: int | None) -> int:
    if raw is None:
        return DEFAULT_EXPIRY
    if not 1 <= raw <= MAX_EXPIRY:
        raise ValidationError(f"expiry must be between 1 and {MAX_EXPIRY} seconds")
    return raw


def _with_extension(name: str, fmt: str) -> str:
    """v2 names carry ``.{format}``; a name that already ends in it is left alone."""
    stem, dot, ext = name.rpartition(".")
    if dot and stem and normalize_format(ext) == fmt:
        return name
    return f"{name}.{fmt}"


def _multipart_message(params: Mapping[str, str]) -> str:
    return "signed-multipart\n" + "\n".join(params[key] for key in ("pbo", "pbu", "pbe", "pbt"))


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _assemble(
    parts: dict[int, bytes | memoryview], numbers: list[int]
) -> tuple[bytes, list[tuple[int, int, int]]]:
    """Join the listed parts, releasing each once copied; also where each part landed.

    BytesIO grows in place and ``getvalue`` hands over its buffer without a copy, so the peak is
    about one file plus one part, not two files as with ``b"".join``.
    """
    buffer = io.BytesIO()
    spans = []
    for number in numbers:
        start = buffer.tell()
        buffer.write(parts.pop(number))
        spans.append((number, start, buffer.tell()))
    return buffer.getvalue(), spans


@dataclass(frozen=True, slots=True)
class UploadAccount:
    """What signed uploads need of their org's identity: where the URLs point, what signs them."""

    org_id: int
    cloud_name: str
    access_key: str
    api_secret: str


class SignedUploads:
    """An org's open upload sessions. Thread-safe: parts of one upload arrive concurrently.

    Like the org's other stores it gets only what it uses (the account's keys, ids, the clock,
    the limits, and ``store``, which stores a completed upload as a file), never the org: a
    reference back would make a cycle that keeps a dropped org alive until the collector runs.

    ``_lock`` guards the session table only; each session's own lock serialises its parts and
    its completion, so a large assembly never blocks other uploads.
    """

    def __init__(
        self,
        account: UploadAccount,
        ids: IdFactory,
        now: Callable[[], float],
        limits: Limits,
        store: Callable[[UploadSpec], File],
    ) -> None:
        self._account = account
        self._ids = ids
        self._now = now
        self._limits = limits
        self._store = store
        self._lock = threading.Lock()
        self._sessions: dict[str, UploadSession] = {}

    def _open(
        self, request: SignedUploadRequest, name: str, fmt: str, seconds: int, *, v2: bool
    ) -> UploadSession:
        """Validate the request and register a session."""
        account = self._account
        path = clean_path(request.path or "")
        name = clean_name(name)
        access = check_access(request.access)
        check_tags_and_metadata(request.tags, request.metadata)
        now = self._now()
        session = UploadSession(
            id=self._ids.uuid(),
            name=name,
            path=path,
            format=fmt,
            access=access,
            tags=list(request.tags),
            metadata={},
            overwrite=request.overwrite,
            filename_override=request.filename_override,
            # At the end of time (year 9999) a URL cannot outlive the clock.
            expires_at=min(now + seconds, MAX_EPOCH),
            keep_extension=v2,
            budget=self._limits.pending_uploads,
        )
        announced = {"source": "signedUrl"} | ({"publicUploadId": session.id} if v2 else {})
        # The completed v2 upload answered metadata.source "direct" in a real capture.
        stored = {"source": "direct", "publicUploadId": session.id} if v2 else announced
        session.metadata = stored | request.metadata
        session.asset_data = {
            "orgId": account.org_id,
            "type": "file",
            "name": name,
            "path": path,
            "fileId": join(path, name),
            "format": fmt,
            "s3Bucket": BUCKET,
            "s3Key": f"uploads/{account.cloud_name}/original/{self._ids.uuid()}.{fmt}",
            "access": access,
            "tags": list(request.tags),
            "metadata": announced | request.metadata,
            "overwrite": request.overwrite,
            "filenameOverride": request.filename_override,
        }
        with self._lock:
            self._drop_expired(now)
            self._sessions[session.id] = session
        return session

    def _drop_expired(self, now: float) -> None:
        """Forget expired sessions (and the parts of abandoned ones); holds ``self._lock``."""
        for key in [k for k, s in self._sessions.items() if s.expires_at < now]:
            del self._sessions[key]

    def purge_expired(self) -> int:
        """Forget expired sessions and their parts (the server calls this on a timer)."""
        with self._lock:
            before = len(self._sessions)
            self._drop_expired(self._now())
            return before - len(self._sessions)

    def session(self, upload_id: str) -> UploadSession:
        with self._lock:
            self._drop_expired(self._now())
            session = self._sessions.get(upload_id)
        if session is None:
            raise NotFoundError(f"upload {upload_id!r} not found")
        return session

    # -- v2: signed multipart --------------------------------------------------------------

    def create_multipart(self, request: SignedUploadRequest) -> MultipartTicket:
        fmt = _check_format(request.format)
        seconds = _check_expiry(request.expiry)
        stem = clean_name(request.name) if request.name else f"asset-{self._ids.token(9)}"
        name = _with_extension(stem, fmt)
        session = self._open(request, name, fmt, seconds, v2=True)
        query = {
            "pbe": str(int(session.expires_at * 1000)),
            "pbt": self._account.access_key,
            "pbo": str(self._account.org_id),
            "pbu": session.id,
        }
        pbs = hmac_hex(self._account.api_secret, _multipart_message(query))
        return MultipartTicket({"pbs": pbs} | query, _json_text(session.asset_data))

    def _verify_multipart(self, params: Mapping[str, str]) -> UploadSession:
        """The session a signed multipart URL names; its signature and expiry are checked."""
        if any(not params.get(key) for key in MULTIPART_PARAMS):
            raise InvalidSignatureError("Invalid signature: the URL lacks pbs/pbe/pbt/pbo/pbu")
        expected = hmac_hex(self._account.api_secret, _multipart_message(params))
        if not matches(expected, params["pbs"]):
            raise InvalidSignatureError("Invalid signature: the upload URL was altered")
        if self._now() * 1000 > int(params["pbe"]):
            raise SignedUrlExpiredError("the signed upload URL has expired")
        return self.session(params["pbu"])

    @staticmethod
    def _check_asset_data(session: UploadSession, sent: Any) -> None:
        if sent is None or sent == "":
            raise MissingMultipartMetaError(f"Missing {ASSET_DATA_FIELD} field")
        try:
            value = json.loads(sent) if isinstance(sent, str) else sent
        except (ValueError, RecursionError):
            value = None
        if value != session.asset_data:
            raise InvalidMultipartMetaError(f"{ASSET_DATA_FIELD} does not match the signed upload")

    def multipart_session(self, params: Mapping[str, str], asset_data: Any) -> UploadSession:
        """The session a signed multipart URL names, once the URL's signature and expiry and
        the asset data sent with it are checked: what a part and a completion are judged on
        first, before anything else they carry."""
        session = self._verify_multipart(params)
        self._check_asset_data(session, asset_data)
        return session

    def add_part(
        self, params: Mapping[str, str], part_number: int, asset_data: Any, data: bytes
    ) -> None:
        """Store part ``part_number``; a part sent again replaces the earlier one."""
        session = self.multipart_session(params, asset_data)
        if not 1 <= part_number <= MAX_PART_NUMBER:
            raise ValidationError(f"partNumber must be between 1 and {MAX_PART_NUMBER}")
        limit = self._limits.max_file_bytes
        with session.lock:
            if session.completed:
                raise UploadCompletedError("this upload was completed already")
            size = session.size - len(session.parts.get(part_number, b"")) + len(data)
            if size > limit:
                raise ValidationError(f"files may be at most {limit // (1024 * 1024)} MB")
            cap = self._limits.max_pending_upload_bytes
            if not self._limits.pending_uploads.take(size - session.size, cap):
                raise PendingUploadsFullError(
                    f"unfinished signed uploads hold the emulator's {cap // (1024 * 1024)} MB "
                    "for parts; complete them or wait for them to expire"
                )
            session.parts[part_number] = data
            session.size = size

    def complete(self, session: UploadSession, numbers: list[int]) -> File:
        """Assemble the listed parts of ``session`` (from :meth:`multipart_session`) in order and
        store the file; the session is then spent."""
        if len(set(numbers)) != len(numbers):
            raise ValidationError("parts lists a part more than once")
        with session.lock:
            if session.completed:
                raise UploadCompletedError("this upload was completed already")
            missing = [number for number in numbers if number not in session.parts]
            if missing:
                raise ValidationError(f"part(s) {missing[:10]} were never uploaded")
            data, spans = _assemble(session.parts, numbers)
            try:
                file = self._store(session.spec(data))
            except EmulatorError:
                # Give the parts back, as views of the assembled bytes, so a retry works.
                view = memoryview(data)
                session.parts.update((n, view[start:end]) for n, start, end in spans)
                raise
            session.completed = True
            session.parts.clear()
            session.release()
        return file

    # -- v1: S3-style presigned POST -------------------------------------------------------

    def create_post(self, request: SignedUploadRequest) -> PostTicket:
        fmt = _check_format(request.format)
        name = request.name or f"asset-{self._ids.token(9)}"
        session = self._open(request, name, fmt, POST_POLICY_SECONDS, v2=False)
        now = self._now()
        moment = datetime.fromtimestamp(now, tz=UTC)
        fields = {
            "key": session.asset_data["s3Key"],
            "x-amz-meta-assetData": _json_text(session.asset_data),
            "x-amz-meta-token": session.id,
            "bucket": BUCKET,
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": (
                f"{self._account.access_key}/{moment:%Y%m%d}/emulator/s3/aws4_request"
            ),
            "X-Amz-Date": f"{moment:%Y%m%dT%H%M%SZ}",
        }
        policy = {
            "expiration": isoformat(session.expires_at),
            "conditions": [["content-length-range", 0, POST_MAX_BYTES]]
            + [{key: value} for key, value in fields.items()],
        }
        encoded = base64.b64encode(_json_text(policy).encode()).decode()
        fields["Policy"] = encoded
        fields["X-Amz-Signature"] = hmac_hex(self._account.api_secret, encoded)
        return PostTicket(BUCKET, fields)

    def post(self, fields: Mapping[str, str], data: bytes | None) -> File:
        """A browser's POST of the form: check signature, policy and size; store the file.

        Field names are matched case-insensitively, as S3 does.
        """
        form = {key.lower(): value for key, value in fields.items()}
        policy = _verified_policy(self._account.api_secret, form)
        expiration = policy.get("expiration")
        try:
            expires = datetime.fromisoformat(expiration).timestamp()  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise S3Error("AccessDenied", "Invalid Policy: Invalid 'expiration' value") from None
        if self._now() > expires:
            raise S3Error("AccessDenied", "Invalid according to Policy: Policy expired.")
        if data is None:
            message = "POST requires exactly one file upload per request."
            raise S3Error("InvalidArgument", message, 400)
        conditions = policy.get("conditions")
        if not isinstance(conditions, list):
            raise S3Error("AccessDenied", "Invalid Policy: no conditions")
        for condition in conditions:
            _check_condition(condition, form, len(data))
        try:
            session = self.session(form.get("x-amz-meta-token", ""))
        except NotFoundError:
            raise S3Error("AccessDenied", "this presigned POST is unknown") from None
        with session.lock:
            if session.completed:
                raise S3Error("AccessDenied", "this presigned POST was used already")
            file = self._store(session.spec(data))
            session.completed = True
        return file


def _verified_policy(secret: str, form: Mapping[str, str]) -> dict[str, Any]:
    encoded, signature = form.get("policy"), form.get("x-amz-signature")
    if not encoded or not signature:
        raise S3Error("AccessDenied", "Bucket POST must contain a Policy and an X-Amz-Signature")
    if not matches(hmac_hex(secret, encoded), signature):
        raise S3Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    try:
        policy = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError, RecursionError):
        raise S3Error("AccessDenied", "Invalid Policy: Invalid JSON.") from None
    if not isinstance(policy, dict):
        raise S3Error("AccessDenied", "Invalid Policy: Invalid JSON.")
    return policy


def _check_condition(condition: Any, form: Mapping[str, str], size: int) -> None:
    """One policy condition: ``{field: value}`` or ``["content-length-range", min, max]``."""
    if isinstance(condition, dict):
        for key, value in condition.items():
            if form.get(str(key).lower()) != value:
                raise S3Error(
                    "AccessDenied",
                    f'Invalid according to Policy: Policy Condition failed: ["eq", "${key}", '
                    f"{json.dumps(value)}]",
                )
        return
    if isinstance(condition, list) and len(condition) == 3:
        kind, low, high = condition
        if kind == "content-length-range" and isinstance(low, int) and isinstance(high, int):
            if size < low:
                message = "Your proposed upload is smaller than the minimum allowed size"
                raise S3Error("EntityTooSmall", message, 400)
            if size > high:
                message = "Your proposed upload exceeds the maximum allowed size"
                raise S3Error("EntityTooLarge", message, 400)
            return
    raise S3Error("AccessDenied", f"Invalid Policy: unsupported condition {condition!r}")


def multipart_org_id(params: Mapping[str, str]) -> int | None:
    """The ``orgId`` a signed multipart URL names (``pbo``), or None if it names none."""
    try:
        return int(params.get("pbo", ""))
    except ValueError:
        return None


def post_access_key(fields: Mapping[str, str]) -> str:
    """The access key a presigned POST's ``X-Amz-Credential`` (``{accessKey}/{date}/...``)
    names, or ``""``."""
    form = {key.lower(): value for key, value in fields.items()}
    return form.get("x-amz-credential", "").split("/", 1)[0]
