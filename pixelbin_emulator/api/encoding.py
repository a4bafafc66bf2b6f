"""JSON bodies of the hot routes, encoded straight from their structs, as ``jsonify`` writes them.

The app's JSON settings (``sort_keys`` off, ``compact`` on) make ``jsonify`` write
``json.dumps(doc, ensure_ascii=True, separators=(",", ":"))`` and a newline. msgspec writes the
same bytes for an ASCII document from the structs themselves, several times faster than building
dicts and encoding them with ``json``; a document holding other characters (which ``jsonify``
escapes as ``\\uXXXX``, DEL included) is written by ``json`` instead, so the bytes stay the same.
msgspec spells some floats differently (``1e16`` for ``1e+16``), so a value that may hold
floats (a file's metadata) is pre-encoded by :func:`encode_value` into a ``msgspec.Raw``.
The bytes can be kept: the hot reads reuse their encoded answers (see rendered.py).
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from flask import Response

from .wire import to_builtins

_encoder = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))
_fast = msgspec.json.Encoder()


def encode(doc: Any) -> bytes:
    """``doc`` (JSON-ready values) as the bytes of ``jsonify(doc)``'s body (with its trailing
    newline)."""
    return (_encoder.encode(doc) + "\n").encode()


def encode_answer(answer: msgspec.Struct | list[Any]) -> bytes:
    """An answer struct (or a list of them) as the bytes of ``jsonify`` of its
    :func:`~.wire.to_builtins`: written by msgspec unless it holds other than ASCII (or a lone
    surrogate, which msgspec cannot write)."""
    try:
        body = _fast.encode(answer)
    except UnicodeEncodeError:  # a lone surrogate, which ``json`` writes as ``\udXXX``
        return encode(to_builtins(answer))
    if body.isascii() and b"\x7f" not in body:
        return body + b"\n"
    return encode(to_builtins(answer))


def encode_value(value: Any) -> bytes:
    """``value`` (JSON-ready) as ``jsonify`` writes it, without the newline."""
    return _encoder.encode(value).encode()


def json_response(body: bytes) -> Response:
    """A 200 ``application/json`` answer of an already encoded body."""
    return Response(body, mimetype="application/json")
