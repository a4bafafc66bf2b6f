"""The Predictions API's wire shapes and its control plane's (docs/predictions.md): the job, the
models and their input schemas, the per-org settings and the webhook delivery attempts.

``api/predictions.py`` and ``api/control_predictions.py`` decode and answer with them, the pytest
plugin answers with the same structs (as plain dicts), ``openapi.py`` publishes their generated
schemas. Field order is the answers' (the SDK README's for the job).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, UnsetType, field

from ...core.clock import isoformat
from ...core.errors import ValidationError
from ...core.predictions import (
    FAILURE,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_SIDE,
    MAX_LATENCY,
    PLATFORM_PATH,
    RETENTION,
    SUCCESS,
    SUPPORTED_CONTENT_TYPES,
    WEBHOOK_MAX_DELAY,
    Delivery,
    InputField,
    Job,
    Model,
    OrgConfig,
    model,
)
from ...core.predictions import UsageBlockedError as UsageBlocked
from . import decode
from .control import Timestamp, Wire

Uri = Annotated[str, Meta(extra_json_schema={"format": "uri"})]
W = TypeVar("W", bound=Wire)


# -- requests --------------------------------------------------------------------------------


class PredictionCreate(Wire):
    """createPrediction's body (JSON, or multipart for a file) besides its ``input.<name>``
    fields, which the first pass in ``api/predictions.py`` takes out (Python sends
    ``{"input.image": ...}``; an ``input`` object is accepted too). Each input is checked by the
    core against the model's own schema (``getSchema``); the schema publishes them by pattern."""

    EXTRA_JSON_SCHEMA: ClassVar[dict[str, Any]] = {
        "patternProperties": {
            r"^input\..+$": {"description": "an input of the model (see its getSchema)"}
        },
        "additionalProperties": False,
    }

    webhook: Annotated[str, Meta(min_length=1, description="a URL")] | None = None
    input: Annotated[dict[str, Any], Meta(description="an object")] | None = None


OrgId = Annotated[int, Meta(description="an integer")]


class PredictionsComplete(Wire):
    """``POST /_emulator/predictions/complete``: all pending jobs, an org's, or one; unknown
    fields are ignored."""

    org_id: OrgId | None = None
    job_id: Annotated[str, Meta(description="a string")] | None = None


class PredictionJobsQuery(Wire):
    """``GET /_emulator/predictions``: every org's jobs, or one org's (404 for an unknown org)."""

    org_id: OrgId | None = None


class WebhookDeliveriesQuery(PredictionJobsQuery):
    """``GET /_emulator/webhooks``: the delivery attempts, of one org and/or one job."""

    job_id: str | None = None


class PredictionSettingsQuery(Wire):
    """``GET /_emulator/predictions/settings``: one org's."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("orgId",)

    org_id: OrgId | None = None


def _seconds(high: float) -> str:
    return f"a number of seconds between 0 and {high:g}"


Latency = Annotated[float, Meta(ge=0, le=MAX_LATENCY, description=_seconds(MAX_LATENCY))]


class PredictionSettingsChange(Wire, forbid_unknown_fields=True):
    """The settings to change (the plugin's ``prediction_settings``); a field left out keeps its
    value, ``null`` restores the default (for ``modelLatency``: per model)."""

    latency: Latency | UnsetType | None = UNSET
    #: Each entry is checked by :meth:`check`, which names it.
    model_latency: (
        Annotated[
            dict[str, Any],
            Meta(
                description="an object of model: seconds",
                extra_json_schema={
                    "additionalProperties": {
                        "anyOf": [
                            {"type": "number", "minimum": 0, "maximum": MAX_LATENCY},
                            {"type": "null"},
                        ]
                    }
                },
            ),
        ]
        | UnsetType
    ) = UNSET
    credit_limit: (
        Annotated[int, Meta(ge=0, description="an integer >= 0, or null")] | UnsetType | None
    ) = UNSET
    webhook_retry_delay: (
        Annotated[float, Meta(ge=0, le=WEBHOOK_MAX_DELAY, description=_seconds(WEBHOOK_MAX_DELAY))]
        | UnsetType
    ) = UNSET

    def check(self) -> None:
        for name, seconds in (self.model_latency or {}).items():
            if seconds is None:
                continue
            try:
                msgspec.convert(seconds, Latency)
            except msgspec.ValidationError:
                raise ValidationError(
                    f"modelLatency.{name} must be {_seconds(MAX_LATENCY)}"
                ) from None

    def apply(self, current: OrgConfig) -> OrgConfig:
        """``current`` with these changes (404 for a model that does not exist)."""
        model_latency = dict(current.model_latency)
        for name, seconds in (self.model_latency or {}).items():
            model(name)
            if seconds is None:
                model_latency.pop(name, None)
            else:
                model_latency[name] = float(seconds)
        changes: dict[str, Any] = {"model_latency": model_latency}
        for name in ("latency", "credit_limit", "webhook_retry_delay"):
            value = getattr(self, name)
            if value is not UNSET:
                changes[name] = value
        return replace(current, **changes)


class PredictionSettingsUpdate(PredictionSettingsChange):
    """``PUT /_emulator/predictions/settings``: the org and the settings to change."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("orgId",)

    org_id: OrgId | None = None


def settings_change(doc: dict[str, Any], kind: type[W]) -> W:
    """``doc`` as ``kind``; its unknown fields are named all at once, as "prediction settings"."""
    known = {each.encode_name for each in msgspec.structs.fields(kind)}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ValidationError(f"unknown prediction settings: {', '.join(unknown)}")
    return decode(doc, kind, "prediction settings")


# -- the job ---------------------------------------------------------------------------------


class JobUrls(Wire, omit_defaults=False, forbid_unknown_fields=True):
    get: Uri


class PredictionJob(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """A job as create, get and its webhook answer it: ``consumedCredits`` and ``output`` once
    it succeeded, ``error`` once it failed."""

    input: dict[str, Any]
    status: Literal["ACCEPTED", "SUCCESS", "FAILURE"]
    urls: JobUrls
    org_id: int
    retention: str
    created_at: Timestamp
    id: str = field(name="_id")
    consumed_credits: int | UnsetType = UNSET
    output: list[Uri] | UnsetType = UNSET
    error: str | UnsetType = UNSET

    @classmethod
    def of(cls, job: Job) -> PredictionJob:
        return cls(**_job_fields(job))


class ControlPredictionJob(PredictionJob, kw_only=True):
    """A job as the control plane lists it: also when it is (or was) due on the emulator's
    clock."""

    due_at: Timestamp

    @classmethod
    def of(cls, job: Job) -> ControlPredictionJob:
        return cls(**_job_fields(job), due_at=isoformat(job.due_at))


def _job_fields(job: Job) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "input": dict(job.input),
        "status": job.status,
        "urls": JobUrls(get=f"{job.base_url}{PLATFORM_PATH}/{job.id}"),
        "org_id": job.org_id,
        "retention": RETENTION,
        "created_at": isoformat(job.created_at),
        "id": job.id,
    }
    if job.status == SUCCESS:
        fields["consumed_credits"] = job.model.credits
        fields["output"] = job.output_urls()
    elif job.status == FAILURE:
        fields["error"] = job.error or "prediction failed"
    return fields


class UsageBlockedError(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """The org's credit limit is used up: the prediction service's own error shape (the SDK
    README's example), not the asset API's."""

    message: str
    status: Literal[403]
    error_code: Literal["JR-1000"]
    exception: Literal["UsageBlockedError"]
    info: str

    @classmethod
    def of(cls, error: UsageBlocked) -> UsageBlockedError:
        return cls(error.message, 403, "JR-1000", "UsageBlockedError", error.info)


# -- models ----------------------------------------------------------------------------------


class PredictionModel(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """A model as the public list shows it."""

    name: str
    display_name: str
    description: str

    @classmethod
    def of(cls, model: Model) -> PredictionModel:
        return cls(model.name, model.display_name, model.description)


class ImageValidation(Wire, omit_defaults=False, forbid_unknown_fields=True):
    max_width: int
    max_height: int
    max_size: int


class ImageInput(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """The schema of a model's image input: a URL or a file (the README's ``getSchema``)."""

    description: str
    one_of: list[dict[str, Any]]
    supported_content_types: list[str]
    image_validation: ImageValidation


class ValueInput(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """The schema of a model's other inputs (an enum is a string with ``enum``)."""

    type: Literal["string", "boolean", "integer"]
    description: str
    enum: list[str] | UnsetType = UNSET
    minimum: int | UnsetType = UNSET
    maximum: int | UnsetType = UNSET
    default: Any = UNSET


_KINDS: dict[str, Literal["string", "boolean", "integer"]] = {
    "string": "string",
    "enum": "string",
    "boolean": "boolean",
    "integer": "integer",
}


def _input(spec: InputField) -> ImageInput | ValueInput:
    if spec.kind == "image":
        return ImageInput(
            description=spec.description,
            one_of=[
                {"type": "string", "format": "uri", "description": "URL of the image"},
                {"type": "string", "format": "binary", "description": "Image file"},
            ],
            supported_content_types=list(SUPPORTED_CONTENT_TYPES),
            image_validation=ImageValidation(MAX_IMAGE_SIDE, MAX_IMAGE_SIDE, MAX_IMAGE_BYTES),
        )
    return ValueInput(
        type=_KINDS[spec.kind],
        description=spec.description,
        enum=list(spec.enum) if spec.enum else UNSET,
        minimum=UNSET if spec.minimum is None else spec.minimum,
        maximum=UNSET if spec.maximum is None else spec.maximum,
        default=UNSET if spec.default is None else spec.default,
    )


class InputSchema(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """A model's input as a closed JSON Schema object; the image is its one required input."""

    type: Literal["object"]
    #: ``ImageInput`` or ``ValueInput`` (msgspec declares no union of untagged structs).
    properties: Annotated[
        dict[str, Any],
        Meta(
            extra_json_schema={
                "additionalProperties": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/ImageInput"},
                        {"$ref": "#/components/schemas/ValueInput"},
                    ]
                }
            }
        ),
    ]
    required: list[str]
    additional_properties: bool


class PredictionSchema(PredictionModel):
    """A model with the JSON Schema of its input (``getSchema``)."""

    input: InputSchema

    @classmethod
    def of(cls, model: Model) -> PredictionSchema:
        return cls(
            model.name,
            model.display_name,
            model.description,
            InputSchema(
                type="object",
                properties={spec.name: _input(spec) for spec in model.fields},
                required=[spec.name for spec in model.fields if spec.kind == "image"],
                additional_properties=False,
            ),
        )


# -- control plane ---------------------------------------------------------------------------


class PredictionSettings(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """An org's prediction settings and the credits its jobs use (the plugin leaves out
    ``orgId``)."""

    org_id: int
    latency: float | None
    model_latency: dict[str, float]
    credit_limit: int | None
    webhook_retry_delay: float
    credits_used: int

    @classmethod
    def of(cls, org_id: int, config: OrgConfig, credits_used: int) -> PredictionSettings:
        return cls(
            org_id=org_id,
            latency=config.latency,
            model_latency=dict(config.model_latency),
            credit_limit=config.credit_limit,
            webhook_retry_delay=config.webhook_retry_delay,
            credits_used=credits_used,
        )


class WebhookDelivery(Wire, omit_defaults=False, forbid_unknown_fields=True):
    """One webhook delivery attempt; ``retryIn``: real seconds to the next, null after the
    last."""

    id: int
    job_id: str
    org_id: int
    url: str
    attempt: int
    time: Timestamp
    status: int | None
    error: str | None
    delivered: bool
    retry_in: float | None

    @classmethod
    def of(cls, delivery: Delivery) -> WebhookDelivery:
        return cls(
            id=delivery.id,
            job_id=delivery.job_id,
            org_id=delivery.org_id,
            url=delivery.url,
            attempt=delivery.attempt,
            time=isoformat(delivery.time),
            status=delivery.status,
            error=delivery.error,
            delivered=delivery.delivered,
            retry_in=delivery.retry_in,
        )


REQUESTS = (PredictionCreate, PredictionsComplete, PredictionSettingsUpdate)
QUERIES = (PredictionJobsQuery, WebhookDeliveriesQuery, PredictionSettingsQuery)
RESPONSES = (
    PredictionJob,
    UsageBlockedError,
    ControlPredictionJob,
    PredictionModel,
    PredictionSchema,
    ImageInput,
    ValueInput,
    PredictionSettings,
    WebhookDelivery,
)
