"""The control plane under ``/_emulator/``: what tests and operators use to drive the emulator.

Health and readiness, orgs, custom domains, reset, snapshots, the request journal, fault rules,
the clock and URL stubs (docs/control-plane.md describes every route). Answers are JSON; lists
come as ``{"items": [...]}``, removals as ``{"removed": n}``; errors use the API's error format.
With an admin token configured, every route but health and ready wants
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import msgspec
from flask import Blueprint, Response, jsonify, request

from ..core.clock import parse_instant
from ..core.documents import OrgHead
from ..core.emulator import Emulator, normalize_host
from ..core.errors import UnauthorizedError, ValidationError
from ..core.faults import FaultRule
from ..core.orgs import Org
from ..core.signing import matches
from ..core.snapshot import dump_state, import_state
from ..seeds import DEFAULT_SEED_NAME, read_seed
from . import parsing
from .context import emulator, settings
from .wire import decode, decode_query, to_builtins
from .wire.control import (
    ClockAdvance,
    ClockFreeze,
    ClockState,
    ControlDomain,
    ControlOrgs,
    DomainMapping,
    FaultRuleSpec,
    FaultRuleState,
    JournalEntry,
    OrgCreate,
    OrgFilter,
    OrgsReset,
    Removed,
    RequestsFilter,
    SnapshotExport,
    SnapshotImport,
    SnapshotImported,
    UrlStub,
    UrlStubCreate,
    UrlStubsRemoval,
)

bp = Blueprint("control", __name__, url_prefix="/_emulator")

_OPEN = {"control.health", "control.ready"}
ARCHIVE_TYPES = ("application/gzip", "application/x-gzip", "application/x-tar")


@bp.before_request
def _check_admin_token() -> None:
    token = settings().admin_token
    if not token or request.endpoint in _OPEN:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not matches(token, given.strip()):
        raise UnauthorizedError("the control plane wants Authorization: Bearer <admin token>")


def _created(payload: Any) -> Response:
    response = jsonify(payload)
    response.status_code = 201
    return response


def _answer(answer: msgspec.Struct) -> Response:
    return jsonify(to_builtins(answer))


def _removed(count: int) -> Response:
    return _answer(Removed(removed=count))


def _org_id_arg() -> int | None:
    org_id = decode_query(request.args, OrgFilter).org_id
    if org_id is not None:
        emulator().org(org_id)  # 404 for an unknown org
    return org_id


# -- health ------------------------------------------------------------------------------------


@bp.get("/health")
def health() -> Response:
    return jsonify(status="ok")


@bp.get("/ready")
def ready() -> Response:
    is_ready = emulator().ready
    response = jsonify(ready=is_ready)
    response.status_code = 200 if is_ready else 503
    return response


# -- orgs ----------------------------------------------------------------------------------------


@bp.get("/orgs")
def list_orgs() -> Response:
    return _answer(ControlOrgs(items=[OrgHead.of(org) for org in emulator().orgs()]))


@bp.post("/orgs")
def create_org() -> Response:
    body = decode(parsing.json_body(), OrgCreate)
    org = emulator().create_org(
        name=body.name,
        org_id=body.org_id,
        cloud_name=body.cloud_name,
        api_secret=body.api_secret,
        access_key=body.access_key,
    )
    return _created(to_builtins(OrgHead.of(org)))


@bp.get("/orgs/<int:org_id>")
def get_org(org_id: int) -> Response:
    return _answer(OrgHead.of(emulator().org(org_id)))


@bp.delete("/orgs/<int:org_id>")
def drop_org(org_id: int) -> Response:
    return _answer(OrgHead.of(emulator().drop_org(org_id)))


# -- custom domains ------------------------------------------------------------------------------


def _domain(host: str, org_id: int) -> dict[str, Any]:
    return to_builtins(ControlDomain(host=host, org_id=org_id))


@bp.get("/domains")
def list_domains() -> Response:
    domains = emulator().domains(_org_id_arg())
    return jsonify(items=[_domain(host, org_id) for host, org_id in domains.items()])


@bp.post("/domains")
def map_domain() -> Response:
    body = decode(parsing.json_body(), DomainMapping)
    host = emulator().map_domain(body.host, body.org_id)
    return _created(_domain(host, body.org_id))


@bp.delete("/domains/<host>")
def unmap_domain(host: str) -> Response:
    org_id = emulator().unmap_domain(host)
    return jsonify(_domain(normalize_host(host), org_id))


@bp.post("/reset")
def reset() -> Response:
    em = emulator()
    em.reset()
    return _answer(OrgsReset(orgs=[OrgHead.of(org) for org in em.orgs()]))


# -- snapshots -----------------------------------------------------------------------------------


@bp.get("/snapshot")
def export_snapshot() -> Response:
    query = decode_query(request.args, SnapshotExport)
    if query.org_id is not None:
        emulator().org(query.org_id)  # 404 for an unknown org
    if query.form == "json":
        return jsonify(dump_state(emulator(), query.org_id))
    response = Response(snapshot_archive(emulator(), query.org_id), mimetype="application/gzip")
    response.headers["Content-Disposition"] = 'attachment; filename="snapshot.tar.gz"'
    return response


def snapshot_archive(em: Emulator, org_id: int | None) -> bytes:
    """The ``.tar.gz`` form of a snapshot: ``default.json`` plus ``files/{_id}``."""
    blobs: dict[str, bytes] = {}
    doc = dump_state(em, org_id, blobs=blobs)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        _add(archive, DEFAULT_SEED_NAME, json.dumps(doc, indent=1).encode())
        for name, data in blobs.items():
            _add(archive, name, data)
    return buffer.getvalue()


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def load_snapshot(em: Emulator, data: bytes, *, archive: bool, mode: str) -> list[Org]:
    """Import a snapshot given as JSON or as a ``.tar.gz`` archive; the orgs it held."""
    if archive:
        with tempfile.TemporaryDirectory(prefix="pixelbin-snapshot-") as tmp:
            try:
                with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
                    tar.extractall(tmp, filter="data")
            except (tarfile.TarError, OSError, EOFError) as error:
                raise ValidationError(f"snapshot archive is unreadable: {error}") from None
            doc, base_dir = read_seed(Path(tmp))
            return import_state(em, doc, mode=mode, base_dir=base_dir)
    return import_state(em, parsing.loads(data, "the snapshot"), mode=mode)


@bp.put("/snapshot")
def import_snapshot() -> Response:
    mode = decode_query(request.args, SnapshotImport).mode
    archive = request.mimetype in ARCHIVE_TYPES
    orgs = load_snapshot(emulator(), request.get_data(), archive=archive, mode=mode)
    return _answer(SnapshotImported(mode=mode, orgs=[OrgHead.of(org) for org in orgs]))


# -- request journal -----------------------------------------------------------------------------


@bp.get("/requests")
def list_requests() -> Response:
    query = decode_query(request.args, RequestsFilter).query()
    if query.org_id is not None:
        emulator().org(query.org_id)  # 404 for an unknown org
    entries = emulator().journal.query(query)
    return jsonify(items=[to_builtins(JournalEntry.of(entry)) for entry in entries])


@bp.delete("/requests")
def clear_requests() -> Response:
    return _removed(emulator().journal.clear(_org_id_arg()))


# -- faults --------------------------------------------------------------------------------------


def _rule(rule: FaultRule) -> dict[str, Any]:
    return to_builtins(FaultRuleState.of(rule))


@bp.get("/faults")
def list_faults() -> Response:
    return jsonify(items=[_rule(rule) for rule in emulator().faults.rules(_org_id_arg())])


@bp.post("/faults")
def add_fault() -> Response:
    spec = decode(parsing.json_body(), FaultRuleSpec, "fault rule")
    if spec.org_id is not None:
        emulator().org(spec.org_id)  # 404 for an unknown org
    return _created(_rule(emulator().faults.add(spec.rule())))


@bp.get("/faults/<int:rule_id>")
def get_fault(rule_id: int) -> Response:
    return jsonify(_rule(emulator().faults.get(rule_id)))


@bp.delete("/faults/<int:rule_id>")
def delete_fault(rule_id: int) -> Response:
    return jsonify(_rule(emulator().faults.remove(rule_id)))


@bp.delete("/faults")
def clear_faults() -> Response:
    return _removed(emulator().faults.clear(_org_id_arg()))


# -- clock ---------------------------------------------------------------------------------------


def _clock() -> Response:
    return jsonify(to_builtins(ClockState.of(emulator().clock)))


@bp.get("/clock")
def get_clock() -> Response:
    return _clock()


@bp.post("/clock/freeze")
def freeze_clock() -> Response:
    at = decode(parsing.json_body(), ClockFreeze).at
    emulator().clock.freeze(None if at is None else parse_instant(at))
    return _clock()


@bp.post("/clock/advance")
def advance_clock() -> Response:
    emulator().clock.advance(decode(parsing.json_body(), ClockAdvance).seconds)
    return _clock()


@bp.post("/clock/unfreeze")
def unfreeze_clock() -> Response:
    emulator().clock.unfreeze()
    return _clock()


@bp.post("/clock/reset")
def reset_clock() -> Response:
    emulator().clock.reset()
    return _clock()


# -- URL stubs -----------------------------------------------------------------------------------


@bp.get("/url-stubs")
def list_url_stubs() -> Response:
    stubs = emulator().url_stubs.stubs(_org_id_arg())
    return jsonify(items=[to_builtins(UrlStub.of(stub)) for stub in stubs])


@bp.post("/url-stubs")
def add_url_stub() -> Response:
    body = decode(parsing.json_body(), UrlStubCreate)
    if body.org_id is not None:
        emulator().org(body.org_id)  # 404 for an unknown org
    stub = emulator().url_stubs.add(
        body.url,
        body.content(),
        status=200 if body.status is None else body.status,
        org_id=body.org_id,
    )
    return _created(to_builtins(UrlStub.of(stub)))


@bp.delete("/url-stubs")
def remove_url_stubs() -> Response:
    org_id = _org_id_arg()
    url = decode_query(request.args, UrlStubsRemoval).url
    stubs = emulator().url_stubs
    if url is None:
        return _removed(stubs.clear(org_id))
    stubs.remove(url, org_id)
    return _removed(1)
