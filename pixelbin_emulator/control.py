"""A small client for the control plane (``/_emulator/``), on the standard library only.

```python
from pixelbin_emulator.control import ControlClient

control = ControlClient("http://127.0.0.1:8080")
org = control.create_org()
control.add_fault(operation="fileUpload", status=503, times=2, org_id=org["orgId"])
assert len(control.requests(org_id=org["orgId"], operation="fileUpload")) == 3
```

Every method returns the decoded JSON answer (``items`` of lists unwrapped); a 4xx/5xx raises
:class:`ControlError` with the status and the error body.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode

from .api.wire import to_builtins
from .api.wire.control import FaultRuleSpec, OrgCreate, UrlStubCreate

JSON = dict[str, Any]


class ControlError(Exception):
    """The control plane answered with an error status."""

    def __init__(self, status: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"{status}: {message}")
        self.status = status
        self.body = body


def _params(**values: Any) -> str:
    query = {key: value for key, value in values.items() if value is not None}
    return "?" + urlencode(query) if query else ""


def _fields(**values: Any) -> JSON:
    """A JSON body from keyword arguments, without the ones left out (``None``)."""
    return {key: value for key, value in values.items() if value is not None}


class ControlClient:
    def __init__(self, base_url: str, *, admin_token: str | None = None, timeout: float = 30):
        self.base_url = base_url.rstrip("/") + "/_emulator"
        self.admin_token = admin_token
        self.timeout = timeout

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """One request; the decoded JSON answer, or the raw bytes of a non-JSON one."""
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        if self.admin_token:
            request.add_header("Authorization", f"Bearer {self.admin_token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
                kind = response.headers.get_content_type()
        except urllib.error.HTTPError as error:
            payload = error.read()
            try:
                detail: Any = json.loads(payload)
            except ValueError:
                detail = payload.decode("utf-8", "replace")
            raise ControlError(error.code, detail) from None
        return json.loads(payload) if kind == "application/json" else payload

    # -- health ----------------------------------------------------------------------------

    def health(self) -> JSON:
        return self.call("GET", "/health")

    def ready(self) -> bool:
        try:
            return bool(self.call("GET", "/ready")["ready"])
        except ControlError as error:
            if error.status == 503:
                return False
            raise

    # -- orgs ------------------------------------------------------------------------------

    def orgs(self) -> list[JSON]:
        return self.call("GET", "/orgs")["items"]

    def create_org(
        self,
        *,
        name: str | None = None,
        org_id: int | None = None,
        cloud_name: str | None = None,
        api_secret: str | None = None,
        access_key: str | None = None,
    ) -> JSON:
        """A fresh, empty org: ``{orgId, name, cloudName, apiSecret, accessKey, createdAt}``."""
        body = OrgCreate(
            name=name,
            org_id=org_id,
            cloud_name=cloud_name,
            api_secret=api_secret,
            access_key=access_key,
        )
        return self.call("POST", "/orgs", to_builtins(body))

    def org(self, org_id: int) -> JSON:
        return self.call("GET", f"/orgs/{org_id}")

    def drop_org(self, org_id: int) -> JSON:
        return self.call("DELETE", f"/orgs/{org_id}")

    def map_domain(self, host: str, org_id: int) -> JSON:
        """Serve the org's CDN URLs on ``host`` without the cloud name: ``{host, orgId}``."""
        return self.call("POST", "/domains", {"host": host, "orgId": org_id})

    def domains(self, org_id: int | None = None) -> list[JSON]:
        return self.call("GET", "/domains" + _params(orgId=org_id))["items"]

    def unmap_domain(self, host: str) -> JSON:
        return self.call("DELETE", f"/domains/{quote(host, safe='')}")

    def reset(self) -> list[JSON]:
        """Back to the seed; the orgs it holds."""
        return self.call("POST", "/reset")["orgs"]

    # -- snapshots -------------------------------------------------------------------------

    def export_snapshot(self, org_id: int | None = None) -> JSON:
        return self.call("GET", "/snapshot" + _params(orgId=org_id))

    def export_archive(self, org_id: int | None = None) -> bytes:
        """The snapshot as a ``.tar.gz``: ``default.json`` plus ``files/{_id}``."""
        return self.call("GET", "/snapshot" + _params(orgId=org_id, form="archive"))

    def import_snapshot(self, snapshot: JSON | bytes, *, mode: str = "replace") -> list[JSON]:
        """Load a state document (or a ``.tar.gz`` archive); the orgs it held."""
        path = "/snapshot" + _params(mode=mode)
        if isinstance(snapshot, bytes):
            answer = self.call("PUT", path, raw=snapshot, content_type="application/gzip")
        else:
            answer = self.call("PUT", path, snapshot)
        return answer["orgs"]

    # -- request journal -------------------------------------------------------------------

    def requests(
        self,
        *,
        org_id: int | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        operation: str | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> list[JSON]:
        query = _params(
            orgId=org_id,
            method=method,
            path=path,
            status=status,
            operation=operation,
            since=since,
            limit=limit,
        )
        return self.call("GET", "/requests" + query)["items"]

    def clear_requests(self, org_id: int | None = None) -> int:
        return self.call("DELETE", "/requests" + _params(orgId=org_id))["removed"]

    # -- faults ----------------------------------------------------------------------------

    def add_fault(
        self,
        *,
        operation: str | None = None,
        path: str | None = None,
        method: str | None = None,
        org_id: int | None = None,
        status: int | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        latency: float | None = None,
        drop: bool = False,
        times: int | None = None,
        after: int | None = None,
    ) -> JSON:
        """Add a fault rule; the server validates it (the same spec as the plugin's ``fault``)."""
        spec = FaultRuleSpec(
            operation=operation,
            path=path,
            method=method,
            org_id=org_id,
            status=status,
            body=body,
            headers=headers,
            latency=latency,
            drop=drop,
            times=times,
            after=after,
        )
        return self.call("POST", "/faults", to_builtins(spec))

    def faults(self, org_id: int | None = None) -> list[JSON]:
        return self.call("GET", "/faults" + _params(orgId=org_id))["items"]

    def fault(self, rule_id: int) -> JSON:
        return self.call("GET", f"/faults/{rule_id}")

    def delete_fault(self, rule_id: int) -> JSON:
        return self.call("DELETE", f"/faults/{rule_id}")

    def clear_faults(self, org_id: int | None = None) -> int:
        return self.call("DELETE", "/faults" + _params(orgId=org_id))["removed"]

    # -- clock -----------------------------------------------------------------------------

    def clock(self) -> JSON:
        """``{now (ISO-8601), epoch (seconds), frozen}``."""
        return self.call("GET", "/clock")

    def freeze_clock(self, at: float | str | None = None) -> JSON:
        """Stop the clock at ``at`` (epoch seconds or ISO-8601), or at the current time."""
        return self.call("POST", "/clock/freeze", _fields(at=at))

    def advance_clock(self, seconds: float) -> JSON:
        return self.call("POST", "/clock/advance", {"seconds": seconds})

    def unfreeze_clock(self) -> JSON:
        return self.call("POST", "/clock/unfreeze", {})

    def reset_clock(self) -> JSON:
        return self.call("POST", "/clock/reset", {})

    # -- URL stubs -------------------------------------------------------------------------

    def add_url_stub(
        self, url: str, data: bytes, *, status: int | None = None, org_id: int | None = None
    ) -> JSON:
        body = UrlStubCreate(url=url, base64=data, status=status, org_id=org_id)
        return self.call("POST", "/url-stubs", to_builtins(body))

    def url_stubs(self, org_id: int | None = None) -> list[JSON]:
        return self.call("GET", "/url-stubs" + _params(orgId=org_id))["items"]

    def remove_url_stubs(self, *, url: str | None = None, org_id: int | None = None) -> int:
        return self.call("DELETE", "/url-stubs" + _params(url=url, orgId=org_id))["removed"]

    # -- predictions -----------------------------------------------------------------------

    def prediction_jobs(self, org_id: int | None = None) -> list[JSON]:
        """Prediction jobs (each with ``dueAt``, when it completes on the emulator's clock)."""
        return self.call("GET", "/predictions" + _params(orgId=org_id))["items"]

    def complete_predictions(
        self, *, org_id: int | None = None, job_id: str | None = None
    ) -> list[JSON]:
        """Complete pending jobs now (all, an org's or one); the jobs completed."""
        return self.call("POST", "/predictions/complete", _fields(orgId=org_id, jobId=job_id))[
            "items"
        ]

    def prediction_settings(self, org_id: int) -> JSON:
        return self.call("GET", "/predictions/settings" + _params(orgId=org_id))

    def set_prediction_settings(self, org_id: int, **settings: Any) -> JSON:
        """``latency``, ``modelLatency``, ``creditLimit``, ``webhookRetryDelay`` (camelCase)."""
        return self.call("PUT", "/predictions/settings", {"orgId": org_id, **settings})

    def webhook_deliveries(
        self, *, org_id: int | None = None, job_id: str | None = None
    ) -> list[JSON]:
        return self.call("GET", "/webhooks" + _params(orgId=org_id, jobId=job_id))["items"]

    def wait_for_webhook(
        self,
        *,
        org_id: int | None = None,
        job_id: str | None = None,
        delivered: bool | None = True,
        timeout: float = 10.0,
    ) -> JSON:
        """Poll until a webhook delivery attempt (a successful one by default) is listed."""
        deadline = time.monotonic() + timeout
        while True:
            for delivery in self.webhook_deliveries(org_id=org_id, job_id=job_id):
                if delivered is None or delivery["delivered"] == delivered:
                    return delivery
            if time.monotonic() > deadline:
                raise TimeoutError(f"no webhook delivery within {timeout:g}s")
            time.sleep(0.05)
