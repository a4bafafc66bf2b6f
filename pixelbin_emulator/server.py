"""Serving the app with waitress, in the foreground (CLI) or on a background thread (tests).

waitress is a production-grade threaded WSGI server with HTTP/1.1 keep-alive; on this project's
2-core machine it answered about twice the keep-alive requests per second of werkzeug's
development server.
"""

from __future__ import annotations

import threading
from typing import Any

from waitress.server import create_server

from .core.emulator import Emulator

DEFAULT_THREADS = 8


class LiveServer:
    """A running emulator: ``with LiveServer(app) as server: server.url``."""

    def __init__(
        self, app: Any, host: str = "127.0.0.1", port: int = 0, threads: int = DEFAULT_THREADS
    ) -> None:
        self.app = app
        self._server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="pixelbin-emulator",
            # SERVER_NAME: what file URLs fall back on when a request's Host header is unusable.
            server_name="localhost" if host in ("", "0.0.0.0", "::") else host,
        )
        self.host = str(self._server.effective_host)
        self.port = int(self._server.effective_port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def emulator(self) -> Emulator:
        return self.app.extensions["pixelbin_emulator"]["emulator"]

    def serve_forever(self) -> None:
        """Block serving requests until :meth:`stop` or Ctrl-C."""
        self._server.run()

    def start(self) -> LiveServer:
        self._thread = threading.Thread(
            target=self._server.run, name="pixelbin-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server = self._server
        server.task_dispatcher.shutdown()
        if self._thread is not None:
            # Close the sockets on the loop's own thread, woken through waitress's trigger:
            # closed from here, a select() already waiting on them would sit out its 1 s timeout.
            server.trigger.pull_trigger(lambda: server.asyncore.close_all(server._map))
            self._thread.join(timeout=5)
            self._thread = None
        server.asyncore.close_all(server._map)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
