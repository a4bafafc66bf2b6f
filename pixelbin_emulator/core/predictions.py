"""Prediction jobs: the Predictions API's models, their input schemas, and a job life cycle on
the emulator's clock.

A model is an AI module of the catalogue (``erase.bg`` is the model ``erase_bg``). Creating a job
checks its input against the model's schema, renders the result at once with the module's
deterministic stand-in (:mod:`.standins`), and keeps it hidden: the job answers ``ACCEPTED`` until
its latency has passed on the emulator's clock, then ``SUCCESS`` with its output URLs (or
``FAILURE`` with an ``error`` when the input could not be had or decoded, or a fault rule aimed at
the job fires). Completing a job queues its webhook deliveries, which a background thread makes,
retrying non-2xx answers with bounded backoff.

Jobs are not part of snapshots: they are transient, like the request journal.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import pyvips

from . import standins
from .clock import Clock
from .errors import ForbiddenError, NotFoundError, ValidationError
from .faults import Faults
from .ids import IdFactory
from .journal import Journal
from .media import sniff
from .transformations import Catalogue, load_catalogue

ACCEPTED, SUCCESS, FAILURE = "ACCEPTED", "SUCCESS", "FAILURE"
#: The README's retention period; outputs (and uploaded inputs) are served this long.
RETENTION = "30d"
RETENTION_SECONDS = 30 * 24 * 3600
#: ``getSchema``'s ``imageValidation`` (the README's example values).
MAX_IMAGE_SIDE = 10_000
MAX_IMAGE_BYTES = 26_214_400
SUPPORTED_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/avif", "image/tiff")
#: Formats an image output keeps from its input (also their file extensions); others give PNG.
IMAGE_FORMATS = ("jpeg", "png", "webp", "avif", "tiff")
#: Jobs kept per org; past it, creating a job forgets the oldest finished one.
MAX_JOBS_PER_ORG = 1000
CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "tiff": "image/tiff",
    "json": "application/json",
}

#: Fault rules aimed at jobs match this operation name and the path ``/predictions/{model}/{id}``.
FAULT_OPERATION = "runPrediction"
#: Webhook delivery: attempts in all, first retry delay (doubling), longest delay, timeout.
WEBHOOK_ATTEMPTS = 5
WEBHOOK_RETRY_DELAY = 1.0
WEBHOOK_MAX_DELAY = 30.0
WEBHOOK_TIMEOUT = 5.0
#: Longest latency a config may set, so a typo cannot park jobs for ever.
MAX_LATENCY = 86_400.0
#: Delivery attempts kept per org (the oldest go first).
DELIVERY_LOG = 1000
#: The erasebg service's help link for its error codes (the README's example).
USAGE_INFO = "https://fynd.engineering/erasebg/docs/error/1000"


class UsageBlockedError(ForbiddenError):
    """The org's credit limit is used up: the README's ``JR-1000`` error."""

    exception = "UsageBlockedError"
    error_code = "JR-1000"
    info = USAGE_INFO


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class InputField:
    """One field of a model's input; ``param`` is the catalogue identifier it sets."""

    name: str
    kind: str  # image, string, enum, boolean, integer
    description: str
    param: str | None = None
    default: Any = None
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class Model:
    name: str
    plugin: str
    operation: str
    display_name: str
    description: str
    fields: tuple[InputField, ...]
    #: Credits one successful job consumes.
    credits: int = 1

    @property
    def detector(self) -> bool:
        return f"{self.plugin}.{self.operation}" in standins.DETECTORS

    def field(self, name: str) -> InputField | None:
        return next((f for f in self.fields if f.name == name), None)


#: Names the SDK README shows for erase_bg (``industry_type``, ``shadow``, ``refine``) where they
#: differ from the catalogue's display names; every other field is the snake_case of its name.
_FIELD_NAMES = {("erase", "bg", "shadow"): "shadow"}
#: Inputs the README shows that set no catalogue parameter (accepted, no effect on the stand-in).
_EXTRA_FIELDS = {
    ("erase", "bg"): (InputField("quality_type", "string", "Output quality", default="original"),)
}
_DISPLAY_NAMES = {"erase_bg": "Erase Background"}


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _field_of(plugin: str, operation: str, param: Mapping[str, Any]) -> InputField:
    identifier = param["identifier"]
    name = _FIELD_NAMES.get((plugin, operation, identifier))
    name = name or _snake(param.get("name", identifier))
    kind = param.get("type")
    if kind not in ("enum", "boolean", "integer"):
        kind = "string"
    return InputField(
        name=name,
        kind=kind,
        description=param.get("title") or param.get("name") or name,
        param=identifier,
        default=param.get("default"),
        enum=tuple(param.get("enum") or ()),
        minimum=param.get("min"),
        maximum=param.get("max"),
    )


def build_models(catalogue: Catalogue) -> dict[str, Model]:
    """Every AI module of the catalogue with a stand-in, as a prediction model."""
    models: dict[str, Model] = {}
    for plugin_id, plugin in catalogue.plugins.items():
        if plugin_id == "t" or "_" in plugin_id:
            continue
        for op in plugin.get("operations", []):
            method = op.get("method", "")
            if "_" in method or not standins.has_stand_in(plugin_id, method):
                continue
            name = f"{plugin_id}_{method}"
            image = InputField("image", "image", "The image to process")
            params = [p for p in op.get("params") or [] if isinstance(p, Mapping)]
            fields = (
                image,
                *(_field_of(plugin_id, method, p) for p in params),
                *_EXTRA_FIELDS.get((plugin_id, method), ()),
            )
            models[name] = Model(
                name=name,
                plugin=plugin_id,
                operation=method,
                display_name=_DISPLAY_NAMES.get(name)
                or f"{plugin.get('name', plugin_id)}: {op.get('displayName', method)}",
                description=op.get("description") or op.get("displayName") or name,
                fields=fields,
            )
    return models


@functools.cache
def default_models() -> dict[str, Model]:
    return build_models(load_catalogue())


def model(name: str) -> Model:
    found = default_models().get(name)
    if found is None:
        raise NotFoundError(f"prediction model '{name}' not found")
    return found


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class ImageSource:
    """The image a job works on: bytes, or why they could not be had (the job then fails).

    ``url`` is what the job's ``input`` shows (the given URL, or ``None`` for an upload, which
    the store replaces by a URL of its own).
    """

    data: bytes | None
    url: str | None = None
    error: str | None = None
    uploaded: bool = False


def check_input(model: Model, values: Mapping[str, Any]) -> dict[str, Any]:
    """The non-image inputs, typed (``"true"`` → ``True``, ``"5"`` → ``5``), or a 400."""
    typed: dict[str, Any] = {}
    for name, value in values.items():
        spec = model.field(name)
        if spec is None:
            allowed = ", ".join(f.name for f in model.fields)
            raise ValidationError(f"unknown input '{name}' for {model.name} (inputs: {allowed})")
        if spec.kind == "image":
            continue
        typed[name] = _typed(spec, value, model.name)
    return typed


def _typed(spec: InputField, value: Any, model_name: str) -> Any:
    where = f"input '{spec.name}' of {model_name}"
    if isinstance(value, list):
        if len(value) != 1:
            raise ValidationError(f"{where} takes one value")
        value = value[0]
    if spec.kind == "boolean":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise ValidationError(f"{where} must be true or false")
    if spec.kind == "integer":
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,9}", value):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationError(f"{where} must be an integer")
        if spec.minimum is not None and value < spec.minimum:
            raise ValidationError(f"{where} must be at least {spec.minimum}")
        if spec.maximum is not None and value > spec.maximum:
            raise ValidationError(f"{where} must be at most {spec.maximum}")
        return value
    if not isinstance(value, str):
        raise ValidationError(f"{where} must be a string")
    if spec.kind == "enum" and value not in spec.enum:
        raise ValidationError(f"{where} must be one of {', '.join(spec.enum)}")
    if spec.param is not None and not re.fullmatch(r"[^\s:,()~/?#]*", value):
        raise ValidationError(f"{where} contains characters a parameter cannot hold")
    return value


def check_upload(data: bytes, filename: str | None) -> None:
    """400 for an uploaded image the schema refuses (too large, unsupported type)."""
    problem = _image_problem(data, filename)
    if problem is not None:
        raise ValidationError(problem)


def _image_problem(data: bytes, filename: str | None) -> str | None:
    if len(data) > MAX_IMAGE_BYTES:
        return f"image is {len(data)} bytes, more than the {MAX_IMAGE_BYTES} allowed"
    info = sniff(data, filename)
    if info.content_type not in SUPPORTED_CONTENT_TYPES:
        return (
            f"image content type {info.content_type} is not supported "
            f"({', '.join(SUPPORTED_CONTENT_TYPES)})"
        )
    if (info.width or 0) > MAX_IMAGE_SIDE or (info.height or 0) > MAX_IMAGE_SIDE:
        return f"image is {info.width}x{info.height}, larger than {MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE}"
    return None


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class StoredFile:
    data: bytes
    format: str  # a key of CONTENT_TYPES

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


@dataclass(frozen=True)
class Webhook:
    """Where a job's completion is posted, and what: ``payload`` gives the body, the job as the
    API answers it (the API layer serializes it; the core only delivers)."""

    url: str
    payload: Callable[[Job], bytes]


@dataclass(frozen=True, eq=False)
class Job:
    """A prediction job. Replaced, not mutated (under the store's lock): a reader holding one
    serializes one consistent state."""

    id: str
    uuid: str
    model: Model
    org_id: int
    created_at: float
    due_at: float
    input: dict[str, Any]
    base_url: str
    webhook: Webhook | None
    remote_webhook_ok: bool
    #: What the job turns into when due (unless a fault rule says otherwise).
    outcome: str
    error: str | None
    outputs: list[StoredFile]
    inputs: dict[str, StoredFile] = field(default_factory=dict)
    status: str = ACCEPTED

    @property
    def credits(self) -> int:
        """Credits the job counts against the org's limit: none once it has failed."""
        return 0 if self.status == FAILURE else self.model.credits

    def output_urls(self) -> list[str]:
        return [
            f"{self.base_url}/predictions/outputs/{RETENTION}/{self.model.plugin}/"
            f"{self.model.operation}/{self.uuid}/result_{n}.{f.format}"
            for n, f in enumerate(self.outputs)
        ]


PLATFORM_PATH = "/service/platform/transformation/v1.0/predictions"


@dataclass(frozen=True)
class OrgConfig:
    """Per-org settings of the Predictions API (the control plane sets them)."""

    #: Seconds from creation to completion; ``None``: the emulator's default.
    latency: float | None = None
    #: Per-model latency, over ``latency``.
    model_latency: dict[str, float] = field(default_factory=dict)
    #: Credits the org may use (successful and pending jobs); ``None``: unlimited.
    credit_limit: int | None = None
    #: First webhook retry delay in real seconds (doubling, at most WEBHOOK_MAX_DELAY).
    webhook_retry_delay: float = WEBHOOK_RETRY_DELAY


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook delivery attempt, as the control plane lists it."""

    id: int
    job_id: str
    org_id: int
    url: str
    attempt: int
    time: float
    status: int | None = None
    error: str | None = None
    delivered: bool = False
    #: Real seconds until the next attempt, or None when this was the last one.
    retry_in: float | None = None


@dataclass
class _Pending:
    job: Job
    payload: bytes
    attempt: int
    not_before: float  # time.monotonic()


@dataclass
class _OrgJobs:
    jobs: dict[str, Job] = field(default_factory=dict)
    config: OrgConfig = field(default_factory=OrgConfig)
    deliveries: deque[Delivery] = field(default_factory=lambda: deque(maxlen=DELIVERY_LOG))


def uuid7(epoch_seconds: float, ids: IdFactory) -> str:
    """A version-7 UUID (the README's ids are ``0198f54a-…-7ccc-…``) from the emulator's clock."""
    millis = int(epoch_seconds * 1000) & ((1 << 48) - 1)
    random_bits = int(ids.hex(20), 16)
    value = (
        (millis << 80)
        | (0x7 << 76)
        | (((random_bits >> 62) & 0xFFF) << 64)
        | (0b10 << 62)
        | (random_bits & ((1 << 62) - 1))
    )
    return str(uuid.UUID(int=value))


Poster = Callable[[str, bytes], int]


def _post_json(url: str, payload: bytes) -> int:
    request = urllib.request.Request(
        url, data=payload, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Predictions:
    """Every org's jobs, their configuration and their webhook deliveries (thread-safe)."""

    def __init__(
        self,
        clock: Clock,
        ids: IdFactory,
        faults: Faults,
        journal: Journal,
        *,
        poster: Poster = _post_json,
    ) -> None:
        self.clock = clock
        self.ids = ids
        self.faults = faults
        self.journal = journal
        self._post = poster
        self._lock = threading.RLock()
        self._orgs: dict[int, _OrgJobs] = {}
        self._by_uuid: dict[str, Job] = {}
        self._queue: list[_Pending] = []
        self._delivery_ids = itertools.count(1)
        self._wake = threading.Condition(self._lock)
        self._worker: threading.Thread | None = None
        self._closed = False

    # -- configuration ---------------------------------------------------------------------

    def _org(self, org_id: int) -> _OrgJobs:
        org = self._orgs.get(org_id)
        if org is None:
            org = self._orgs[org_id] = _OrgJobs()
        return org

    def config(self, org_id: int) -> OrgConfig:
        with self._lock:
            return self._org(org_id).config

    def configure(self, org_id: int, update: Callable[[OrgConfig], OrgConfig]) -> OrgConfig:
        """Replace the org's settings by ``update(current settings)``, atomically (the API
        layer checks and applies a change document)."""
        with self._lock:
            org = self._org(org_id)
            org.config = update(org.config)
            return org.config

    def credits_used(self, org_id: int) -> int:
        with self._lock:
            self._settle(org_id)
            return sum(job.credits for job in self._org(org_id).jobs.values())

    # -- jobs ------------------------------------------------------------------------------

    def create(
        self,
        org_id: int,
        model: Model,
        values: dict[str, Any],
        image: ImageSource,
        *,
        base_url: str,
        default_latency: float,
        webhook: Webhook | None = None,
        remote_webhook_ok: bool = False,
    ) -> Job:
        """Accept a job (``values`` already typed by :func:`check_input`), rendering its result
        now and revealing it when the latency has passed."""
        if webhook is not None:
            parts = urlsplit(webhook.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValidationError("webhook must be an http(s) URL")
        now = self.clock.time()
        with self._lock:
            config = self._org(org_id).config
            self._check_credits(org_id, model)  # before the work of rendering
        outcome, error, outputs, stored = _render(model, values, image)
        latency = config.model_latency.get(model.name, config.latency)
        latency = default_latency if latency is None else latency
        job_uuid = uuid7(now, self.ids)
        shown = dict(values)
        inputs: dict[str, StoredFile] = {}
        if stored is not None:
            inputs["image"] = stored
            shown["image"] = (
                f"{base_url}/predictions/inputs/{model.plugin}/{model.operation}/{job_uuid}/"
                f"image/0.{stored.format}"
            )
        elif image.url is not None:
            shown["image"] = image.url
        shown = {"image": shown["image"], **shown} if "image" in shown else shown
        job = Job(
            id=f"{model.plugin}--{model.operation}--{job_uuid}",
            uuid=job_uuid,
            model=model,
            org_id=org_id,
            created_at=now,
            due_at=now + latency,
            input=shown,
            base_url=base_url,
            webhook=webhook,
            remote_webhook_ok=remote_webhook_ok,
            outcome=outcome,
            error=error,
            outputs=outputs,
            inputs=inputs,
        )
        with self._lock:
            self._check_credits(org_id, model)  # again: another create may have used them
            jobs = self._org(org_id).jobs
            if len(jobs) >= MAX_JOBS_PER_ORG:
                self._settle(org_id)
                finished = [old for old in jobs.values() if old.status != ACCEPTED]
                for old in finished[: len(jobs) - MAX_JOBS_PER_ORG + 1]:
                    del jobs[old.id]
                    self._by_uuid.pop(old.uuid, None)
            jobs[job.id] = job
            self._by_uuid[job_uuid] = job
            self._ensure_worker()
            self._wake.notify_all()
        return job

    def _store(self, job: Job) -> Job:
        """Put ``job`` in place of the record of the same id (under the lock)."""
        self._orgs[job.org_id].jobs[job.id] = job
        self._by_uuid[job.uuid] = job
        return job

    def _check_credits(self, org_id: int, model: Model) -> None:
        """Refuse a job past the org's credit limit (successful and pending jobs count)."""
        org = self._org(org_id)
        limit = org.config.credit_limit
        if limit is None:
            return
        self._settle(org_id)
        if sum(job.credits for job in org.jobs.values()) + model.credits > limit:
            raise UsageBlockedError("Usage Limit Exceeded")

    def get(self, org_id: int, job_id: str) -> Job:
        with self._lock:
            self._settle(org_id)
            job = self._orgs.get(org_id, _OrgJobs()).jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"prediction '{job_id}' not found")
        return job

    def jobs(self, org_id: int | None = None) -> list[Job]:
        with self._lock:
            ids = [org_id] if org_id is not None else list(self._orgs)
            for each in ids:
                self._settle(each)
            return [job for each in ids for job in self._orgs.get(each, _OrgJobs()).jobs.values()]

    def complete(self, org_id: int | None = None, job_id: str | None = None) -> list[Job]:
        """Make pending jobs due now (all, the org's, or one) and settle them; the jobs settled."""
        now = self.clock.time()
        with self._lock:
            ids = [org_id] if org_id is not None else list(self._orgs)
            done: list[tuple[int, str]] = []
            for each in ids:
                jobs = self._orgs.get(each, _OrgJobs()).jobs
                if job_id is not None and job_id not in jobs:
                    raise NotFoundError(f"prediction '{job_id}' not found")
                for job in list(jobs.values()):
                    if job.status == ACCEPTED and job_id in (None, job.id):
                        self._store(replace(job, due_at=min(job.due_at, now)))
                        done.append((each, job.id))
                self._settle(each)
            self._wake.notify_all()
            return [self._orgs[each].jobs[done_id] for each, done_id in done]

    def pending(self, org_id: int | None = None) -> int:
        with self._lock:
            return sum(1 for job in self.jobs(org_id) if job.status == ACCEPTED)

    def drop_org(self, org_id: int) -> None:
        with self._lock:
            org = self._orgs.pop(org_id, None)
            if org is not None:
                for job in org.jobs.values():
                    self._by_uuid.pop(job.uuid, None)
            self._queue = [p for p in self._queue if p.job.org_id != org_id]

    def _settle(self, org_id: int) -> None:
        """Complete the org's jobs whose time has come (under the lock)."""
        org = self._orgs.get(org_id)
        if org is None:
            return
        now = self.clock.time()
        for job in list(org.jobs.values()):
            if job.status != ACCEPTED or job.due_at > now:
                continue
            rule = self.faults.check(
                FAULT_OPERATION,
                "RUN",
                f"/predictions/{job.model.name}/{job.id}",
                job.org_id,
            )
            if rule is not None and (rule.status is not None or rule.drop):
                message = _fault_message(rule.body) or f"failed by fault rule {rule.id}"
                job = self._store(replace(job, status=FAILURE, error=message))
            else:
                job = self._store(replace(job, status=job.outcome))
            if job.webhook is not None:
                payload = job.webhook.payload(job)
                self._queue.append(_Pending(job, payload, 1, time.monotonic()))
                self._ensure_worker()
                self._wake.notify_all()

    # -- served files ----------------------------------------------------------------------

    def output(self, job_uuid: str, plugin: str, operation: str, name: str) -> StoredFile:
        """An output file, while the job is done and within its retention."""
        with self._lock:
            job = self._by_uuid.get(job_uuid)
            if job is not None:
                self._settle(job.org_id)
        match = re.fullmatch(r"result_(\d{1,4})\.[a-z]+", name)
        if (
            job is None
            or match is None
            or (job.model.plugin, job.model.operation) != (plugin, operation)
            or job.status != SUCCESS
            or self.clock.time() > job.created_at + RETENTION_SECONDS
            or int(match.group(1)) >= len(job.outputs)
            or job.output_urls()[int(match.group(1))].rsplit("/", 1)[1] != name
        ):
            raise NotFoundError("prediction output not found")
        return job.outputs[int(match.group(1))]

    def input_file(self, job_uuid: str, plugin: str, operation: str, key: str) -> StoredFile:
        with self._lock:
            job = self._by_uuid.get(job_uuid)
        if (
            job is None
            or (job.model.plugin, job.model.operation) != (plugin, operation)
            or key not in job.inputs
            or self.clock.time() > job.created_at + RETENTION_SECONDS
        ):
            raise NotFoundError("prediction input not found")
        return job.inputs[key]

    # -- webhooks --------------------------------------------------------------------------

    def deliveries(self, org_id: int | None = None, job_id: str | None = None) -> list[Delivery]:
        with self._lock:
            ids = [org_id] if org_id is not None else list(self._orgs)
            found = [d for each in ids for d in self._orgs.get(each, _OrgJobs()).deliveries]
        found.sort(key=lambda d: d.id)
        return [d for d in found if job_id is None or d.job_id == job_id]

    def _ensure_worker(self) -> None:
        if self._worker is None and not self._closed:
            self._worker = threading.Thread(
                target=self._run, name="pixelbin-emulator-predictions", daemon=True
            )
            self._worker.start()

    def close(self) -> None:
        """Stop the background thread (reset replaces this object)."""
        with self._lock:
            self._closed = True
            self._wake.notify_all()

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                for org_id in list(self._orgs):
                    self._settle(org_id)
                now = time.monotonic()
                ready = [p for p in self._queue if p.not_before <= now]
                self._queue = [p for p in self._queue if p.not_before > now]
                waiting = any(
                    job.status == ACCEPTED
                    for org in self._orgs.values()
                    for job in org.jobs.values()
                )
                if not ready and not waiting and not self._queue:
                    self._worker = None  # idle: create() or a completion starts a new one
                    return
                if not ready:
                    # Pending jobs are due on the emulator's clock, which may be advanced at any
                    # moment: look again soon. Otherwise sleep until the next retry.
                    timeout = 0.05 if waiting else None
                    if self._queue:
                        soonest = min(p.not_before for p in self._queue) - now
                        timeout = soonest if timeout is None else min(timeout, soonest)
                    self._wake.wait(timeout)
                    continue
            for pending in ready:
                self._deliver(pending)

    def _deliver(self, pending: _Pending) -> None:
        job = pending.job
        url = job.webhook.url if job.webhook is not None else ""
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        if not (is_loopback(url) or job.remote_webhook_ok):
            error = (
                "not delivered: the webhook is not a loopback URL and fetching is disabled "
                "(start the emulator with --allow-fetch)"
            )
        else:
            try:
                status = self._post(url, pending.payload)
            except (OSError, ValueError) as failure:
                error = f"{type(failure).__name__}: {failure}"
        delivered = status is not None and 200 <= status < 300
        if error is None and not delivered:
            error = f"HTTP {status}"
        with self._lock:
            org = self._orgs.get(job.org_id)
            if org is None:
                return
            retry_in = None
            retryable = status is not None or (error is not None and "not delivered" not in error)
            if not delivered and retryable and pending.attempt < WEBHOOK_ATTEMPTS:
                retry_in = min(
                    WEBHOOK_MAX_DELAY,
                    org.config.webhook_retry_delay * 2 ** (pending.attempt - 1),
                )
                self._queue.append(
                    _Pending(job, pending.payload, pending.attempt + 1, time.monotonic() + retry_in)
                )
            org.deliveries.append(
                Delivery(
                    id=next(self._delivery_ids),
                    job_id=job.id,
                    org_id=job.org_id,
                    url=url,
                    attempt=pending.attempt,
                    time=self.clock.time(),
                    status=status,
                    error=None if delivered else error,
                    delivered=delivered,
                    retry_in=retry_in,
                )
            )
            self._wake.notify_all()
        self.journal.record(
            time=self.clock.time(),
            method="POST",
            path=url,
            query="",
            status=status or 0,
            operation="webhookDelivery",
            org_id=job.org_id,
            duration=time.perf_counter() - started,
            request_body=pending.payload,
        )

    def wait_for_delivery(
        self,
        org_id: int,
        *,
        job_id: str | None = None,
        delivered: bool | None = True,
        timeout: float = 10.0,
    ) -> Delivery:
        """Block until a matching delivery attempt is recorded (``delivered=None``: any)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for delivery in self.deliveries(org_id, job_id):
                    if delivered is None or delivery.delivered == delivered:
                        return delivery
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"no webhook delivery for org {org_id}"
                        + (f" job {job_id}" if job_id else "")
                        + f" within {timeout:g}s"
                    )
                self._wake.wait(left)


def _fault_message(body: Any) -> str | None:
    if isinstance(body, str) and body:
        return body
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else None


def _render(
    model: Model, values: Mapping[str, Any], image: ImageSource
) -> tuple[str, str | None, list[StoredFile], StoredFile | None]:
    """``(outcome, error, outputs, stored input)`` of a job, computed at creation."""
    stored: StoredFile | None = None
    if image.error is not None or image.data is None:
        return FAILURE, image.error or "image not found", [], None
    data = image.data
    info = sniff(data)
    fmt = info.format if info.format in IMAGE_FORMATS else None
    if image.uploaded and fmt is not None:
        stored = StoredFile(data, fmt)
    problem = None if image.uploaded else _image_problem(data, None)
    if problem is not None:
        return FAILURE, problem, [], stored
    try:
        decoded = pyvips.Image.new_from_buffer(data, "")
        params = {
            spec.param: _as_param(values[spec.name])
            for spec in model.fields
            if spec.param is not None and spec.name in values
        }
        if model.detector:
            document = standins.detect(model.plugin, model.operation, decoded, params)
            return SUCCESS, None, [StoredFile(json.dumps(document).encode(), "json")], stored
        result = standins.apply(model.plugin, model.operation, decoded, params)
        out_format = result.format or fmt or "png"
        encoded = result.image.write_to_buffer(f".{out_format}")
    except standins.StandInError as error:
        return FAILURE, str(error), [], stored
    except pyvips.Error as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else "decode failed"
        return FAILURE, f"image could not be decoded: {message}", [], stored
    return SUCCESS, None, [StoredFile(encoded, out_format)], stored


def _as_param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
