"""JSON bodies of the hot routes, encoded once and as ``jsonify`` encodes them.

The app's JSON settings (``sort_keys`` off, ``compact`` on) make ``jsonify`` write
``json.dumps(doc, ensure_ascii=True, separators=(",", ":"))`` and a newline. One encoder with
those settings, built once, writes the same bytes without what ``jsonify`` does around them per
call (building an encoder, looking up the app's provider), and gives bytes that can be kept:
``listFiles`` reuses its encoded pages (see rendered.py).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response

_encoder = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def encode(doc: Any) -> bytes:
    """``doc`` as the bytes of ``jsonify(doc)``'s body (with its trailing newline)."""
    return (_encoder.encode(doc) + "\n").encode()


def json_response(body: bytes) -> Response:
    """A 200 ``application/json`` answer of an already encoded body."""
    return Response(body, mimetype="application/json")
