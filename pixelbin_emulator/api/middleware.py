"""Hooks around every API request: fault rules before it; after it, the wait for durability
(``--data-dir``), the request journal and the request log (stdout).

The control plane (``/_emulator/...``) is neither faulted nor journaled, but it is logged. The
hot path, with no fault rules, is one ``perf_counter`` before and one journal append after the
request: the operation name is cached per endpoint and the org is the one authentication
already found.

A latency fault does not sleep on the worker thread when the server offers to park the request
(``server.delay``): the request is run again after the delay, and the fault's other effects
(drop, status) apply then.

A dropped connection is a response whose body makes waitress close the socket on its first read
(``server.disconnecting_body``): waitress has written nothing yet, so the client sees the
connection end without an answer, as it would when a load balancer drops it. Those two and
``server.resumed_state`` are all this module knows of the server.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response, g, jsonify
from flask import request as flask_request
from werkzeug.exceptions import HTTPException

from ..core.emulator import Emulator
from ..core.errors import EmulatorError, NotFoundError
from ..core.faults import FaultRule
from ..core.orgs import Org
from ..server import delay, disconnecting_body, resumed_state
from .context import org_for_authorization
from .cors import is_preflight
from .errors import error_response
from .request_log import RequestLog, reason

CONTROL_PREFIX = "/_emulator/"

#: Endpoints whose view function is not named after the operation (an SDK method name).
OPERATIONS = {"cdn.serve": "getCdnFile"}
#: The operation of a CORS preflight, whatever route it asks about.
PREFLIGHT = "corsPreflight"


def operation(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Name a view's operation explicitly, when its function name cannot be ``snake_case`` of it."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        view.pixelbin_operation = name  # type: ignore[attr-defined]
        return view

    return mark


def operation_of(endpoint: str, view: Callable[..., Any] | None) -> str:
    """The operation name of an endpoint: ``files.get_file_by_id`` → ``getFileById``."""
    explicit = getattr(view, "pixelbin_operation", None) or OPERATIONS.get(endpoint)
    if explicit:
        return explicit
    head, *rest = endpoint.rpartition(".")[2].split("_")
    return head + "".join(part.capitalize() for part in rest)


def request_org(em: Emulator) -> Org | None:
    """The org a request is for, without failing: authenticated, by API secret, CDN custom
    domain or cloud name, or the ``pbo`` of a signed upload URL."""
    org = g.get("org")
    if org is not None:
        return org
    request = flask_request._get_current_object()  # type: ignore[attr-defined]
    org = org_for_authorization(em, request.headers.get("Authorization", ""))
    if org is not None:
        return org
    path = request.path
    if path.startswith(("/v2/", "/v1/")):
        return em.org_by_host(request.host) or em.org_by_cloud_name(path.split("/", 3)[2])
    by_cloud = em.org_by_cloud_name(path.split("/", 2)[1]) if path.count("/") >= 3 else None
    if by_cloud is not None:
        return by_cloud
    pbo = request.args.get("pbo", "")
    if pbo.isdigit():
        with contextlib.suppress(NotFoundError):
            return em.org(int(pbo))
    return None


def _dropped(rule: FaultRule) -> Response:
    g.pixelbin_dropped = True
    return Response(disconnecting_body(f"connection dropped by fault rule {rule.id}"), status=500)


def _fault_response(rule: FaultRule) -> Response:
    status = rule.status or 500
    body = rule.body
    if body is None and status >= 400:
        response = jsonify(
            message=f"fault injected by the emulator (rule {rule.id})",
            status=status,
            code=f"CG-{status:04d}",
            exception="EmulatedFaultError",
        )
    elif isinstance(body, str):
        response = Response(body, mimetype="text/plain")
    elif body is None:
        response = Response(b"")
    else:
        response = jsonify(body)
    response.status_code = status
    response.headers.update(rule.headers)
    return response


def _request_excerpt(request: Request) -> bytes | None:
    kind = request.environ.get("CONTENT_TYPE", "")
    if not kind:
        return None
    if kind.startswith("application/json"):
        try:
            return request.get_data(cache=True)
        except HTTPException:  # e.g. over MAX_CONTENT_LENGTH: the view's 413 stands
            return None
    form = request.__dict__.get("form")  # only when the view parsed it: never parse here
    if form is not None:
        files = request.__dict__.get("files") or {}
        summary = dict(form) | {key: f"<file {f.filename}>" for key, f in files.items()}
        return json.dumps(summary).encode()
    return None


class RequestHooks:
    """``before_request``/``after_request`` of one app, bound to its emulator (no proxy
    look-ups on the hot path) and caching operation names by endpoint."""

    def __init__(self, app: Flask, emulator: Emulator, log: RequestLog | None = None) -> None:
        self.app = app
        self.emulator = emulator
        self.log = log
        self._operations: dict[str, str] = {}

    def operation(self, endpoint: str | None) -> str | None:
        if endpoint is None:
            return None
        name = self._operations.get(endpoint)
        if name is None:
            name = operation_of(endpoint, self.app.view_functions.get(endpoint))
            self._operations[endpoint] = name
        return name

    def before(self) -> Response | None:
        request = flask_request._get_current_object()  # type: ignore[attr-defined]
        ctx = g._get_current_object()
        resumed = resumed_state(request.environ)
        if resumed is not None:  # back from a latency fault: the rule was decided on arrival
            rule, ctx.pixelbin_start = resumed
        else:
            ctx.pixelbin_start = time.perf_counter()
            if request.path.startswith(CONTROL_PREFIX):  # logged, but never faulted
                return None
            rule = self._fault_for(request)
            if rule is None:
                return None
            if rule.latency:
                delay(request.environ, rule.latency, (rule, ctx.pixelbin_start))
        ctx.pixelbin_fault = rule
        if rule.drop:
            return _dropped(rule)
        if rule.status is not None:
            return _fault_response(rule)
        return None

    def _fault_for(self, request: Request) -> FaultRule | None:
        """The fault rule this request fires, if any (counted against every matching rule)."""
        em = self.emulator
        if not em.faults.active:
            return None
        if is_preflight(request):  # never faulted: a rule for the PUT is kept for the PUT
            return None
        org = request_org(em)
        return em.faults.check(
            self.operation(request.endpoint),
            request.method,
            request.path,
            org.org_id if org else None,
        )

    def after(self, response: Response) -> Response:
        ctx = g._get_current_object()
        # ``ctx.get``, not ``getattr`` with a default: a missing attribute costs an exception.
        start = ctx.get("pixelbin_start")
        try:
            # No answer may show a change that a crash could still take back (--data-dir).
            self.emulator.changes.wait()
        except EmulatorError as error:
            response = error_response(error.status, error.message, error.exception)
        if start is None:
            return response
        request = flask_request._get_current_object()  # type: ignore[attr-defined]
        org = ctx.get("org") or request_org(self.emulator)
        dropped = ctx.get("pixelbin_dropped", False)
        rule = ctx.get("pixelbin_fault")
        duration = time.perf_counter() - start
        operation = PREFLIGHT if is_preflight(request) else self.operation(request.endpoint)
        status = 0 if dropped else response.status_code
        if not request.path.startswith(CONTROL_PREFIX):
            self.emulator.journal.record(
                time=self.emulator.clock.time(),
                method=request.method,
                path=request.path,
                query=request.environ.get("QUERY_STRING", ""),
                status=status,
                operation=operation,
                org_id=org.org_id if org else None,
                duration=duration,
                request_body=_request_excerpt(request),
                response_body=(
                    response.get_data()
                    if not dropped
                    and response.mimetype == "application/json"
                    and not response.is_streamed
                    else None
                ),
                fault=rule.id if rule is not None else None,
            )
        if self.log is not None:
            self.log.write(
                method=request.method,
                path=request.path,
                query=request.environ.get("QUERY_STRING", ""),
                status=status,
                operation=operation,
                org_id=org.org_id if org else None,
                duration=duration,
                why=reason(response, rule, dropped),
            )
        return response


def install(app: Flask, emulator: Emulator, log: RequestLog | None = None) -> RequestHooks:
    """Register the hooks; app-level ``before_request`` runs before the blueprints' (auth)."""
    hooks = RequestHooks(app, emulator, log)
    app.before_request(hooks.before)
    app.after_request(hooks.after)
    return hooks
