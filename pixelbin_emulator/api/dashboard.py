"""The web dashboard under ``/_emulator/ui/``: a look at the emulator's state, in a browser.

Server-rendered with Flask's Jinja2; the plain JavaScript in ``static/dashboard/`` only adds
drag-and-drop uploads, the live journal and the live preset preview (no build step, nothing
loaded from elsewhere). Every page reads and changes state through the same core operations
the API and the control plane use. Forms post back and are redirected (303) to a page; bad
input re-renders as an HTML page with the error and the 4xx status of the domain error.

Authentication follows the control plane's admin token: with one configured, a request needs
``Authorization: Bearer <token>`` or the cookie the login form sets (``?token=`` on any page
sets it too). Posts from another origin are refused, so a page elsewhere cannot drive it.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Response,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as Answer

from ..core.assets import ListQuery, UploadSpec
from ..core.clock import isoformat, parse_instant
from ..core.errors import EmulatorError, NotFoundError, UnauthorizedError, ValidationError
from ..core.journal import JournalQuery
from ..core.names import join
from ..core.orgs import Org
from ..core.records import File, Folder
from ..core.signing import matches, sign_cdn_path
from ..core.snapshot import dump_state
from .context import emulator, settings
from .control import load_snapshot, snapshot_archive
from .errors import error_response
from .file_urls import cdn_path
from .uploads import default_name, with_source
from .wire import decode, to_builtins
from .wire.assets import File as FileAnswer
from .wire.control import ClockState, FaultRuleSpec, FaultRuleState, JournalEntry

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/_emulator/ui",
    template_folder="templates",
    static_folder="static/dashboard",
    static_url_path="/static",
)

COOKIE = "pixelbin_emulator_admin"
THUMBNAIL = "t.resize(w:160,h:160,f:cover)"
#: Lifetime of the signed URLs the dashboard writes for private files.
SIGNED_URL_SECONDS = 3600
PAGE_SIZE = 100
#: Journal entries a page shows at first (the live view adds newer ones).
JOURNAL_ROWS = 200
_OPEN = {"dashboard.login", "dashboard.do_login", "dashboard.static"}


class DashboardError(EmulatorError):
    """A request the dashboard cannot serve, shown as a page with this status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# -- access ----------------------------------------------------------------------------------


def _given_token() -> str:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given.strip():
        return given.strip()
    return request.cookies.get(COOKIE, "")


def _same_origin() -> bool:
    """Browsers send ``Origin`` on cross-site posts; a post from elsewhere is refused."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc.lower() == request.host.lower()


@bp.before_request
def _check_access() -> Answer | None:
    if request.method == "POST" and not _same_origin():
        raise DashboardError("a post from another origin is refused", 403)
    token = settings().admin_token
    if not token or request.endpoint in _OPEN:
        return None
    from_query = request.args.get("token")
    if from_query is not None and matches(token, from_query):
        args = {k: v for k, v in request.args.items(multi=False) if k != "token"}
        target = request.path + ("?" + urlencode(args) if args else "")
        return _with_cookie(redirect(target, 303), token)
    if matches(token, _given_token()):
        return None
    if request.method == "GET" and request.endpoint != "dashboard.journal_entries":
        return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")), 303)
    raise UnauthorizedError("the dashboard wants the admin token: log in at /_emulator/ui/login")


def _with_cookie(response: Answer, token: str) -> Answer:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/_emulator/ui/")
    return response


def _safe_next(target: str | None) -> str:
    """Only a path of the dashboard: never redirect elsewhere after a login."""
    if target and target.startswith("/_emulator/ui/") and "//" not in target:
        return target
    return url_for("dashboard.index")


@bp.get("/login")
def login() -> str:
    return render_template("dashboard/login.html", next=request.args.get("next", ""), error=None)


@bp.post("/login")
def do_login() -> Answer:
    token = settings().admin_token
    given = request.form.get("token", "")
    if token and not matches(token, given):
        page = render_template(
            "dashboard/login.html", next=request.form.get("next", ""), error="wrong token"
        )
        return make_response(page, 401)
    response = redirect(_safe_next(request.form.get("next")), 303)
    return _with_cookie(response, given) if token else response


@bp.post("/logout")
def logout() -> Answer:
    response = redirect(url_for("dashboard.login"), 303)
    response.delete_cookie(COOKIE, path="/_emulator/ui/")
    return response


@bp.errorhandler(EmulatorError)
def _error_page(error: EmulatorError) -> Response:
    if request.endpoint == "dashboard.journal_entries":
        return error_response(error.status, error.message, error.exception)
    org = _org_or_none(request.view_args or {})
    page = render_template("dashboard/error.html", error=error, **_frame(org))
    return make_response(page, error.status)


# -- helpers ---------------------------------------------------------------------------------


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    """``1536`` → ``1.5 KB``."""
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


@bp.app_template_filter("iso")
def iso(epoch_seconds: float) -> str:
    return isoformat(epoch_seconds)


def _org_or_none(view_args: dict[str, Any]) -> Org | None:
    org_id = view_args.get("org_id")
    if org_id is None:
        return None
    try:
        return emulator().org(org_id)
    except NotFoundError:
        return None


def _frame(org: Org | None, section: str = "") -> dict[str, Any]:
    """What every page's header shows: the org switcher, the clock, the current section."""
    em = emulator()
    return {
        "orgs": em.orgs(),
        "org": org,
        "section": section,
        "clock": to_builtins(ClockState.of(em.clock)),
        "auth": bool(settings().admin_token),
        "notice": request.args.get("notice"),
    }


def _redirect(endpoint: str, notice: str | None = None, **values: Any) -> Answer:
    if notice:
        values["notice"] = notice
    return redirect(url_for(endpoint, **values), 303)


def _form_int(name: str, low: int | None = None) -> int | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a whole number") from None
    if low is not None and value < low:
        raise ValidationError(f"{name} must be at least {low}")
    return value


def _form_float(name: str) -> float | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a number") from None


def file_links(org: Org, file: File) -> dict[str, str]:
    """Root-relative CDN paths of a file: ``original`` and ``thumbnail``, signed when private."""
    links = {"original": cdn_path(org, file)}
    if file.asset_type == "image":
        links["thumbnail"] = cdn_path(org, file, THUMBNAIL)
    if file.access != "public-read":
        expiry = int(org.clock.time()) + SIGNED_URL_SECONDS
        links = {
            key: sign_cdn_path(
                path, api_secret=org.api_secret, access_key=org.access_key, expiry=expiry
            )
            for key, path in links.items()
        }
    return links


def _crumbs(path: str) -> list[tuple[str, str]]:
    """``a/b`` → ``[("a", "a"), ("b", "a/b")]``: each folder and the path to open it."""
    crumbs: list[tuple[str, str]] = []
    so_far = ""
    for part in [p for p in path.split("/") if p]:
        so_far = join(so_far, part)
        crumbs.append((part, so_far))
    return crumbs


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationError("page must be a whole number from 1")
    return int(raw)


# -- overview --------------------------------------------------------------------------------


@bp.get("/")
def index() -> Answer | str:
    picked = request.args.get("org")
    if picked:
        if not picked.isdigit():
            raise ValidationError("org must be an org id")
        return _redirect("dashboard.files", org_id=emulator().org(int(picked)).org_id)
    return render_template("dashboard/index.html", **_frame(None, "orgs"))


@bp.post("/orgs")
def create_org() -> Answer:
    org = emulator().create_org(name=request.form.get("name", "").strip() or None)
    return _redirect("dashboard.files", f"org {org.org_id} created", org_id=org.org_id)


# -- files -----------------------------------------------------------------------------------


@bp.get("/orgs/<int:org_id>/files")
def files(org_id: int) -> str:
    org = emulator().org(org_id)
    path = request.args.get("path", "").strip("/")
    page_no = _page_arg()
    page = org.assets.listing(ListQuery(path=path, page_no=page_no, page_size=PAGE_SIZE))
    if path and page.item_total == 0:
        org.assets.get_folder(*_split(path))  # 404 for a folder that does not exist
    folders = [entry for entry in page.items if isinstance(entry, Folder)]
    items = [(entry, file_links(org, entry)) for entry in page.items if isinstance(entry, File)]
    return render_template(
        "dashboard/files.html",
        path=path,
        crumbs=_crumbs(path),
        folders=folders,
        files=items,
        page=page,
        **_frame(org, "files"),
    )


def _split(path: str) -> tuple[str, str]:
    parent, _, name = path.rpartition("/")
    return parent, name


@bp.post("/orgs/<int:org_id>/files")
def upload(org_id: int) -> Answer:
    org = emulator().org(org_id)
    path = request.form.get("path", "").strip("/")
    uploads = [f for f in request.files.getlist("file") if f.filename]
    if not uploads:
        raise ValidationError("choose a file to upload")
    access = request.form.get("access") or None
    stored = []
    for upload in uploads:
        spec = UploadSpec(
            data=upload.read(),
            name=default_name(org, upload.filename),
            path=path,
            access=access,
            tags=[t.strip() for t in request.form.get("tags", "").split(",") if t.strip()],
            metadata=with_source({}),
            filename_override=True,
            filename=upload.filename,
        )
        stored.append(org.assets.upload(spec).file_id)
    return _redirect(
        "dashboard.files", f"uploaded {', '.join(stored)}", org_id=org_id, path=path or None
    )


@bp.post("/orgs/<int:org_id>/folders")
def create_folder(org_id: int) -> Answer:
    org = emulator().org(org_id)
    path = request.form.get("path", "").strip("/")
    folder = org.assets.create_folder(request.form.get("name", ""), path)
    return _redirect(
        "dashboard.files", f"folder {folder.full_path} created", org_id=org_id, path=path or None
    )


@bp.get("/orgs/<int:org_id>/file/<path:file_id>")
def file_details(org_id: int, file_id: str) -> str:
    org = emulator().org(org_id)
    file = org.assets.get_file(file_id)
    base = request.host_url.rstrip("/")
    links = file_links(org, file)
    return render_template(
        "dashboard/file.html",
        file=file,
        obj=to_builtins(FileAnswer.of(org, file, base)),
        links=links,
        base=base,
        expires=isoformat(int(org.clock.time()) + SIGNED_URL_SECONDS),
        crumbs=_crumbs(file.path),
        **_frame(org, "files"),
    )


@bp.post("/orgs/<int:org_id>/delete")
def delete_file(org_id: int) -> Answer:
    org = emulator().org(org_id)
    file = org.assets.delete_file(request.form.get("fileId", ""))
    return _redirect(
        "dashboard.files", f"deleted {file.file_id}", org_id=org_id, path=file.path or None
    )


# -- presets ---------------------------------------------------------------------------------


@bp.get("/orgs/<int:org_id>/presets")
def presets(org_id: int) -> str:
    org = emulator().org(org_id)
    images = [
        entry
        for entry in org.assets.entries()
        if isinstance(entry, File) and entry.asset_type == "image" and entry.is_active
    ]
    chosen = request.args.get("image") or (images[0].file_id if images else None)
    image = org.assets.get_file(chosen) if chosen else None
    return render_template(
        "dashboard/presets.html",
        presets=org.presets.all(),
        images=images,
        image=image,
        image_path=cdn_path(org, image).split("/original/", 1)[1] if image else "",
        signed=image is not None and image.access != "public-read",
        **_frame(org, "presets"),
    )


# -- journal ---------------------------------------------------------------------------------


def _status_filter(raw: str | None) -> tuple[int | None, int | None]:
    """``503`` → exactly 503; ``5xx`` → the class 500-599; empty → any."""
    raw = (raw or "").strip().lower()
    if not raw:
        return None, None
    if len(raw) == 3 and raw[0] in "012345" and raw[1:] == "xx":
        return None, int(raw[0])
    if raw.isdigit():
        return int(raw), None
    raise ValidationError("status must be a status code (503) or a class (5xx)")


def _journal(org: Org, since: int | None, limit: int | None) -> list[dict[str, Any]]:
    exact, klass = _status_filter(request.args.get("status"))
    query = JournalQuery(
        org_id=org.org_id,
        operation=request.args.get("operation") or None,
        status=exact,
        since=since,
        limit=None if klass is not None else limit,
    )
    entries = emulator().journal.query(query)
    if klass is not None:
        entries = [e for e in entries if e.status // 100 == klass]
        entries = entries[-limit:] if limit else entries
    return [to_builtins(JournalEntry.of(entry)) for entry in entries]


@bp.get("/orgs/<int:org_id>/journal")
def journal(org_id: int) -> str:
    org = emulator().org(org_id)
    entries = _journal(org, None, JOURNAL_ROWS)
    operations = sorted(
        {e.operation for e in emulator().journal.query(JournalQuery(org_id=org_id)) if e.operation}
    )
    return render_template(
        "dashboard/journal.html",
        entries=entries,
        last_seq=max((e["seq"] for e in entries), default=0),
        operations=operations,
        operation=request.args.get("operation", ""),
        status=request.args.get("status", ""),
        **_frame(org, "journal"),
    )


@bp.get("/orgs/<int:org_id>/journal.json")
def journal_entries(org_id: int) -> Response:
    """What the live journal polls: entries after ``since``, with the page's filters."""
    org = emulator().org(org_id)
    since = request.args.get("since", "0")
    if not since.isdigit():
        raise ValidationError("since must be a journal sequence number")
    return jsonify(items=_journal(org, int(since), JOURNAL_ROWS))


# -- faults and the clock --------------------------------------------------------------------


@bp.get("/orgs/<int:org_id>/faults")
def faults(org_id: int) -> str:
    org = emulator().org(org_id)
    # Rules for every org (orgId null) apply to this one too.
    rules = [
        to_builtins(FaultRuleState.of(r))
        for r in emulator().faults.rules()
        if r.org_id in (None, org_id)
    ]
    return render_template("dashboard/faults.html", rules=rules, **_frame(org, "faults"))


@bp.post("/orgs/<int:org_id>/faults")
def add_fault(org_id: int) -> Answer:
    emulator().org(org_id)
    form = request.form
    doc: dict[str, Any] = {"orgId": org_id}
    for key in ("operation", "path", "method"):
        if form.get(key, "").strip():
            doc[key] = form[key].strip()
    for key, value in (
        ("status", _form_int("status")),
        ("times", _form_int("times")),
        ("after", _form_int("after")),
        ("latency", _form_float("latency")),
    ):
        if value is not None:
            doc[key] = value
    if form.get("drop"):
        doc["drop"] = True
    rule = emulator().faults.add(decode(doc, FaultRuleSpec, "fault rule").rule())
    return _redirect("dashboard.faults", f"fault rule {rule.id} added", org_id=org_id)


@bp.post("/orgs/<int:org_id>/faults/<int:rule_id>/delete")
def delete_fault(org_id: int, rule_id: int) -> Answer:
    faults = emulator().faults
    if faults.get(rule_id).org_id not in (None, org_id):
        raise NotFoundError(f"org {org_id} has no fault rule {rule_id}")
    faults.remove(rule_id)
    return _redirect("dashboard.faults", f"fault rule {rule_id} removed", org_id=org_id)


@bp.post("/clock")
def clock() -> Answer:
    em = emulator()
    action = request.form.get("action")
    if action == "freeze":
        at = request.form.get("at", "").strip()
        em.clock.freeze(parse_instant(at) if at else None)
    elif action == "advance":
        seconds = _form_float("seconds")
        if seconds is None:
            raise ValidationError("seconds must be a number")
        em.clock.advance(seconds)
    elif action == "unfreeze":
        em.clock.unfreeze()
    elif action == "reset":
        em.clock.reset()
    else:
        raise ValidationError("action must be freeze, advance, unfreeze or reset")
    target = _safe_next(request.form.get("next"))
    notice = urlencode({"notice": f"clock: {ClockState.of(em.clock).now}"})
    return redirect(target + ("&" if "?" in target else "?") + notice, 303)


# -- snapshots -------------------------------------------------------------------------------


@bp.get("/snapshot")
def snapshot() -> str:
    org = _org_or_none({"org_id": request.args.get("org", type=int)})
    return render_template("dashboard/snapshot.html", **_frame(org, "snapshot"))


@bp.get("/snapshot/export")
def export_snapshot() -> Response:
    """``?org=N`` for one org (all by default), ``form=json|archive``: a download."""
    org_id = request.args.get("org", type=int)
    if org_id is not None:
        emulator().org(org_id)
    form = request.args.get("form", "json")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(emulator().clock.time()))
    name = f"pixelbin-emulator-{stamp}" + (f"-org{org_id}" if org_id else "")
    if form == "json":
        response = jsonify(dump_state(emulator(), org_id))
        name += ".json"
    elif form == "archive":
        data = snapshot_archive(emulator(), org_id)
        response = Response(data, mimetype="application/gzip")
        name += ".tar.gz"
    else:
        raise ValidationError("form must be 'json' or 'archive'")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.post("/snapshot/import")
def import_snapshot() -> Answer:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError("choose a snapshot file (.json or .tar.gz)")
    mode = request.form.get("mode", "merge")
    data = upload.read()
    orgs = load_snapshot(emulator(), data, archive=data[:2] == b"\x1f\x8b", mode=mode)
    ids = ", ".join(str(org.org_id) for org in orgs) or "none"
    return _redirect("dashboard.index", f"imported ({mode}): orgs {ids}")


# -- GET / of the server -----------------------------------------------------------------------


def root() -> Answer:
    """``GET /``: browsers go to the dashboard; API clients get a JSON map of the server."""
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        return redirect(url_for("dashboard.index"), 302)
    return jsonify(
        name="pixelbin-emulator",
        dashboard=url_for("dashboard.index"),
        openapi="/openapi.json",
        api="/service/platform/assets/v1.0",
        control="/_emulator/",
    )
