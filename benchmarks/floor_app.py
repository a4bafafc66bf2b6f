"""The framework floor: a bare Flask app that returns canned JSON documents.

``python floor_app.py DOCS.json THREADS``: serves each document of ``DOCS.json`` (an object of
name -> document) at ``GET /canned/<name>``, under the same WSGI server (the emulator's
``LiveServer``: waitress with the emulator's changes) and thread count as the emulator. Each
document is encoded once, at start, with the emulator's JSON settings (compact separators, key
order kept, a trailing newline and the ``application/json`` content type, as Flask's ``jsonify``
makes them), so a request costs the framework and the server only: no encoding. Whatever the
emulator costs beyond this is its own doing.
"""

from __future__ import annotations

import json
import sys

from flask import Flask, Response

from pixelbin_emulator.server import LiveServer


def encode(doc: object) -> bytes:
    """The bytes ``jsonify(doc)`` answers with when ``sort_keys`` is off and ``compact`` on."""
    return (json.dumps(doc, ensure_ascii=True, separators=(",", ":")) + "\n").encode()


def create_floor_app(docs: dict) -> Flask:
    app = Flask(__name__)
    bodies = {name: encode(doc) for name, doc in docs.items()}

    @app.get("/canned/<name>")
    def canned(name: str) -> Response:
        return Response(bodies[name], mimetype="application/json")

    return app


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        docs = json.load(handle)
    server = LiveServer(create_floor_app(docs), threads=int(sys.argv[2]))
    print(f"floor ready on {server.url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
