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
    fetch_timeout: float = 10.0
    fetch_max_bytes: int = 150 * MB
    #: Largest request body accepted (a 150 MB upload plus its multipart framing).
    max_content_length: int = 160 * MB
    #: When set, the control plane (``/_emulator/``, except health and ready) wants
    #: ``Authorization: Bearer <admin_token>``.
    admin_token: str | None = None
    #: The request log on stdout: ``"text"``, ``"json"``, or ``None`` for none (tests, ``--quiet``).
    request_log: str | None = None
    #: Origins browsers may call the public upload routes and the CDN from (CORS): ``"*"`` any
    #: origin, without credentials (the default, as a public CDN answers); otherwise exact
    #: origins or globs (``http://localhost:*``), echoed with credentials allowed; empty: none.
    cors_origins: tuple[str, ...] = ("*",)
    #: Whether browsers may call the platform API (``/service/platform/``) too.
    cors_platform: bool = False
