"""Settings of one emulator instance (what the CLI flags and environment variables set)."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    #: Base of the CDN URLs written into file objects, e.g. ``http://localhost:8080`` when the
    #: emulator runs behind a proxy or in a container. ``None``: the address the request came to.
    external_url: str | None = None
    #: Whether ``urlUpload`` may fetch http(s) URLs that are not the emulator's own.
    allow_fetch: bool = False
    #: What a refused ``urlUpload`` suggests (under pytest: the handle's ``stub_url``).
    fetch_hint: str = "start it with --allow-fetch (PIXELBIN_EMULATOR_ALLOW_FETCH=1)"
    fetch_timeout: float = 10.0
    fetch_max_bytes: int = 150 * MB
    #: Largest request body accepted (a 150 MB upload plus its multipart framing).
    max_content_length: int = 160 * MB
    #: When set, the control plane (``/_emulator/``, except health and ready) wants
    #: ``Authorization: Bearer <admin_token>``.
    admin_token: str | None = None
    #: The request log on stdout: ``"text"``, ``"json"``, or ``None`` for none (tests, ``--quiet``).
    request_log: str | None = None
    #: Seconds from a prediction job's creation to its completion on the emulator's clock (the
    #: control plane overrides it per org and per model).
    prediction_latency: float = 0.5
    #: Origins browsers may call the public upload routes and the CDN from (CORS): ``"*"`` any
    #: origin, without credentials (the default, as a public CDN answers); otherwise exact
    #: origins or globs (``http://localhost:*``), echoed with credentials allowed; empty: none.
    cors_origins: tuple[str, ...] = ("*",)
    #: Whether browsers may call the platform API (``/service/platform/``) too.
    cors_platform: bool = False
    #: Open connections served at once, idle keep-alive ones included (waitress's default, 100,
    #: was exhausted by 100 idle clients); bounded by the open-files limit, raised to fit.
    connection_limit: int = 4096
    #: Seconds a connection with no request in progress is kept open.
    channel_timeout: int = 120
    #: Seconds a client may take to send a request's head (request line and headers) before its
    #: connection is closed, so clients trickling bytes cannot hold connections for ever.
    header_timeout: int = 30
    #: Seconds between sweeps that forget expired signed uploads (and free their parts).
    upload_purge_interval: float = 30.0
    #: Bytes of rendered CDN variants (transformations) kept in memory, in MB.
    transform_cache_mb: int = 256
