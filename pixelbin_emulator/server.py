"""Serving the app with waitress, in the foreground (CLI) or on a background thread (tests).

waitress is a production-grade threaded WSGI server with HTTP/1.1 keep-alive; on this project's
2-core machine it answered about twice the keep-alive requests per second of werkzeug's
development server. Three things are added to it here, so that no client can lock others out:

- **Many connections.** waitress stops accepting at 100 open connections, which 100 idle
  keep-alive clients (one aiohttp pool) or 100 half-sent requests reach; the limit is
  ``Settings.connection_limit`` (4096), polled with ``poll()`` rather than ``select()`` (whose
  ``FD_SETSIZE`` is 1024), with the open-files limit raised to fit.
- **Slow senders.** A connection that has not sent a whole request head within
  ``Settings.header_timeout`` seconds is closed (waitress only closes connections idle for
  ``channel_timeout``, which one byte every 20 s resets).
- **Latency faults without a worker.** A request a fault rule delays is parked, not slept on: the
  app raises :class:`Deferred` through ``environ[DEFER_KEY]``, the request goes back to its
  connection, and a timer hands it to the workers again when the delay is over, with
  ``environ[RESUME_KEY]`` carrying what the app decided. Eight delayed calls therefore hold none
  of the eight worker threads, and ``/_emulator/health``, other orgs and the control plane answer
  meanwhile.

The same timer thread forgets expired signed uploads every ``Settings.upload_purge_interval``
seconds, so the parts of abandoned uploads are freed even when no other upload comes along.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

from waitress.adjustments import Adjustments
from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher, WSGITask

from .core.emulator import Emulator
from .settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_THREADS = 8
#: WSGI environ keys of the deferral protocol (see the module docstring).
DEFER_KEY = "pixelbin_emulator.defer"
RESUME_KEY = "pixelbin_emulator.resume"
#: File descriptors kept free of connections: listening socket, wake-up pipe, spooled bodies.
FD_RESERVE = 128


class Deferred(BaseException):
    """Raised by ``environ[DEFER_KEY](seconds, state)``: run this request again in ``seconds``.

    A ``BaseException`` so that Flask's error handling lets it through to the server. The app
    must raise it before reading the request body, which the second run reads.
    """

    def __init__(self, seconds: float, state: Any) -> None:
        super().__init__(seconds)
        self.seconds = seconds
        self.state = state


class Timers:
    """Calls functions after a delay, all from one thread (started on first use)."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def call_later(self, seconds: float, function: Callable[[], None]) -> None:
        with self._cv:
            if self._stopped:
                return
            heapq.heappush(self._due, (time.monotonic() + seconds, next(self._order), function))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="pixelbin-emulator-timers", daemon=True
                )
                self._thread.start()
            self._cv.notify()

    def _run(self) -> None:
        with self._cv:
            while not self._stopped:
                if not self._due:
                    self._cv.wait()
                    continue
                wait = self._due[0][0] - time.monotonic()
                if wait > 0:
                    self._cv.wait(wait)
                    continue
                function = heapq.heappop(self._due)[2]
                self._cv.release()
                try:
                    function()
                except Exception:  # one failing call must not stop the others
                    logger.exception("timer call %r failed", function)
                finally:
                    self._cv.acquire()

    def stop(self) -> None:
        """Drop what is pending and end the thread."""
        with self._cv:
            self._stopped = True
            self._due.clear()
            self._cv.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)


class _Task(WSGITask):
    """A WSGI task whose environ offers the deferral protocol."""

    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        if DEFER_KEY not in environ:
            environ[DEFER_KEY] = _defer
            resume = getattr(self.request, "pixelbin_resume", None)
            if resume is not None:
                environ[RESUME_KEY] = resume
        return environ


def _defer(seconds: float, state: Any) -> NoReturn:
    raise Deferred(seconds, state)


# -- what the app may ask of the server: the only waitress details api/ depends on ----------


def resumed_state(environ: dict[str, Any]) -> Any:
    """What the app decided before a deferral, when this is the request's second run; else None."""
    return environ.get(RESUME_KEY)


def delay(environ: dict[str, Any], seconds: float, state: Any) -> None:
    """Run this request again in ``seconds`` with ``state`` (raises), without holding a worker.

    Under a server without the deferral protocol (Flask's test client) it sleeps and returns.
    """
    defer = environ.get(DEFER_KEY)
    if defer is not None:
        defer(seconds, state)
    time.sleep(seconds)


def disconnecting_body(message: str) -> Iterator[bytes]:
    """A response body whose first read makes waitress close the socket unanswered."""
    raise ClientDisconnected(message)
    yield b""  # a generator: raised when waitress reads the body, not before


class _Channel(HTTPChannel):
    """A connection that can park its current request, and knows when its request head began."""

    task_class = _Task
    server: _Server
    #: ``time.monotonic()`` when the request being received began; ``None`` between requests.
    request_began: float | None = None

    def received(self, data: bytes) -> bool:
        if self.request is None:
            self.request_began = time.monotonic()
        result = super().received(data)
        if self.request is None:
            self.request_began = None
        return result

    def writable(self) -> bool:
        """waitress's test, except while a worker holds the output lock.

        A worker writing a response appends and sends it itself, under ``outbuf_lock``; waitress
        still answers "writable" for the pending bytes, so ``poll()`` returns at once and the
        loop spins (hundreds of turns a request, taking the GIL from the worker) until the lock
        is free. The worker wakes the loop when it leaves bytes unsent (:meth:`write_soon`).
        """
        if self.requests and not self.will_close:
            if not self.outbuf_lock.acquire(False):
                return False
            self.outbuf_lock.release()
        return bool(super().writable())

    def write_soon(self, data: bytes) -> int:
        written = super().write_soon(data)
        if self.total_outbufs_len:
            # waitress woke the loop while holding the lock, when writable() said no.
            self.server.pull_trigger()
        return int(written)

    def service(self) -> None:
        try:
            super().service()
        except Deferred as deferred:
            # Nothing was written and the request is still first in line: the connection reads
            # nothing more until it is answered (waitress's lookahead is 0), so it just waits.
            self.requests[0].pixelbin_resume = deferred.state
            self.server.timers.call_later(deferred.seconds, lambda: self.server.add_task(self))


class _Server(TcpWSGIServer):
    channel_class = _Channel

    def __init__(self, app: Any, adj: Adjustments, header_timeout: float) -> None:
        self.timers = Timers()
        self.header_timeout = header_timeout
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(adj.threads)
        super().__init__(app, map={}, dispatcher=dispatcher, adj=adj, sockinfo=adj.listen[0])

    def maintenance(self, now: float) -> None:
        """waitress closes connections idle for ``channel_timeout``; this also closes those
        whose request head has been arriving for longer than ``header_timeout``."""
        super().maintenance(now)
        cutoff = time.monotonic() - self.header_timeout
        for channel in self.active_channels.values():
            began = getattr(channel, "request_began", None)
            request = channel.request
            if (
                began is not None
                and began < cutoff
                and request is not None
                and not request.headers_finished
                and not channel.requests
            ):
                channel.will_close = True


def raise_open_files_limit(wanted: int) -> int:
    """Raise the soft limit on open files towards ``wanted`` (never past the hard limit, never
    lowering it); the soft limit then in force (``wanted`` where there are no such limits)."""
    try:
        import resource
    except ImportError:  # Windows: no per-process limit of this kind
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


class LiveServer:
    """A running emulator: ``with LiveServer(app) as server: server.url``.

    Connection limits come from ``settings``, by default the app's own (``create_app``).
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = DEFAULT_THREADS,
        settings: Settings | None = None,
    ) -> None:
        self.app = app
        if settings is None:
            settings = getattr(app, "extensions", {}).get("pixelbin_emulator", {}).get("settings")
        settings = settings or Settings()
        open_files = raise_open_files_limit(settings.connection_limit + FD_RESERVE)
        self.connection_limit = max(1, min(settings.connection_limit, open_files - FD_RESERVE))
        adj = Adjustments(
            host=host,
            port=port,
            threads=threads,
            ident="pixelbin-emulator",
            # SERVER_NAME: what file URLs fall back on when a request's Host header is unusable.
            server_name="localhost" if host in ("", "0.0.0.0", "::") else host,
            connection_limit=self.connection_limit,
            channel_timeout=settings.channel_timeout,
            cleanup_interval=1,
            asyncore_use_poll=True,
        )
        self._server = _Server(app, adj, settings.header_timeout)
        self.host = str(self._server.effective_host)
        self.port = int(self._server.effective_port)
        self._thread: threading.Thread | None = None
        self._purge_interval = settings.upload_purge_interval
        if "pixelbin_emulator" in getattr(app, "extensions", {}):  # else: a plain WSGI app
            self._server.timers.call_later(self._purge_interval, self._purge_expired_uploads)

    def _purge_expired_uploads(self) -> None:
        """Free the parts of expired signed uploads of every org, then come back later: an
        abandoned upload's memory must not wait for the next upload of its org."""
        for org in self.emulator.orgs():
            org.signed_uploads.purge_expired()
        self._server.timers.call_later(self._purge_interval, self._purge_expired_uploads)

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
        server.timers.stop()
        server.task_dispatcher.shutdown()
        if self._thread is not None:
            # Close the sockets on the loop's own thread, woken through waitress's trigger:
            # closed from here, a poll() already waiting on them would sit out its 1 s timeout.
            server.trigger.pull_trigger(lambda: server.asyncore.close_all(server._map))
            self._thread.join(timeout=5)
            self._thread = None
        server.asyncore.close_all(server._map)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
