"""The framework floor: a bare Flask app under waitress that returns canned JSON documents.

``python floor_app.py DOCS.json THREADS``: serves each document of ``DOCS.json`` (an object of
name -> document) at ``GET /canned/<name>``, serialised by ``jsonify`` on every request with the
emulator's JSON settings, under the same WSGI server and thread count as the emulator. Whatever
the emulator costs beyond this is its own doing.
"""

from __future__ import annotations

import json
import sys

from flask import Flask, Response, jsonify
from waitress.server import create_server


def create_floor_app(docs: dict) -> Flask:
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]

    @app.get("/canned/<name>")
    def canned(name: str) -> Response:
        return jsonify(docs[name])

    return app


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        docs = json.load(handle)
    server = create_server(
        create_floor_app(docs), host="127.0.0.1", port=0, threads=int(sys.argv[2])
    )
    print(f"floor ready on http://127.0.0.1:{server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    main()
