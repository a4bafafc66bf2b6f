"""The request log of the dev server: one line per request on stdout.

``text`` reads like the access log of common dev servers, plus what only the emulator knows: the
org, the SDK operation, and why a request failed (the fault rule that fired, or the error message,
e.g. of a signature that did not match)::

    2026-11-30T18:55:01.123Z org=1 POST /service/platform/assets/v1.0/upload/direct 200 \
fileUpload 4.1ms
    2026-11-30T18:55:02.007Z org=1 GET /v2/local-dev-000000/original/a.jpeg?pbs=... 403 \
getCdnFile 0.9ms reason="..."

``json`` writes the same fields as one JSON object per line, for tools.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from typing import Any
from xml.sax.saxutils import unescape

from flask import Response

FORMATS = ("text", "json")
_XML_MESSAGE = re.compile(rb"<Message>(.*?)</Message>", re.S)
#: Longest reason quoted in a line.
MAX_REASON = 200


def reason(response: Response, fault: Any, dropped: bool) -> str | None:
    """Why a request failed: the fault rule that fired, else the message of an error answer."""
    if fault is not None:
        if dropped:
            return f"fault rule {fault.id}: connection dropped"
        if fault.status is not None:
            return f"fault rule {fault.id}: answered {fault.status}"
        return f"fault rule {fault.id}: delayed {fault.latency:g}s"
    if response.status_code < 400 or response.is_streamed:
        return None
    body = response.get_data()
    message: Any = None
    if response.mimetype == "application/json":
        try:
            message = json.loads(body).get("message")
        except (ValueError, AttributeError):
            message = None
    elif response.mimetype in ("application/xml", "text/xml"):
        match = _XML_MESSAGE.search(body)
        message = unescape(match.group(1).decode("utf-8", "replace")) if match else None
    if not isinstance(message, str) or not message:
        return None
    return message if len(message) <= MAX_REASON else message[: MAX_REASON - 1] + "…"


class RequestLog:
    """Writes one line per request to stdout (looked up at each write, so captures work)."""

    def __init__(self, fmt: str = "text") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
        self.format = fmt
        self._lock = threading.Lock()

    def write(
        self,
        *,
        method: str,
        path: str,
        query: str,
        status: int,
        operation: str | None,
        org_id: int | None,
        duration: float,
        why: str | None,
    ) -> None:
        now = time.time()
        stamp = f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(now))}.{int(now % 1 * 1000):03d}Z"
        if self.format == "json":
            line = json.dumps(
                {
                    "time": stamp,
                    "orgId": org_id,
                    "method": method,
                    "path": path,
                    "query": query,
                    "status": status,
                    "operation": operation,
                    "durationMs": round(duration * 1000, 3),
                    "reason": why,
                },
                ensure_ascii=False,
            )
        else:
            target = f"{path}?{query}" if query else path
            line = (
                f"{stamp} org={org_id if org_id is not None else '-'} {method} {target} {status} "
                f"{operation or '-'} {duration * 1000:.1f}ms"
            )
            if why:
                line += " reason=" + json.dumps(why, ensure_ascii=False)
        with self._lock:
            stream = sys.stdout
            stream.write(line + "\n")
            stream.flush()
