"""``pixelbin-emulator``: start a local emulator.

Every flag can also be set by its environment variable ``PIXELBIN_EMULATOR_<FLAG>`` (for example
``PIXELBIN_EMULATOR_PORT=9000``); a flag on the command line wins. Built on click (Flask's own
CLI library): it types, checks and documents the flags and their variables in one place.
"""

from __future__ import annotations

import errno
import math
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from . import __version__, allocator
from .api.cors import parse_origins
from .api.request_log import FORMATS as LOG_FORMATS
from .app import create_app
from .core.assets import MB, Limits
from .core.emulator import Emulator
from .core.errors import EmulatorError
from .durable import DurableStore
from .seeds import fixtures_dir, read_seed
from .server import DEFAULT_THREADS, LiveServer
from .settings import Settings

PROG = "pixelbin-emulator"
ENV_PREFIX = "PIXELBIN_EMULATOR_"
_F = TypeVar("_F", bound=Callable[..., Any])


class _WholeNumber(click.IntRange):
    """An integer in a range, named so that a bad value reads "is not a valid whole number"."""

    name = "whole number"


class _Seconds(click.FloatRange):
    """Seconds in a range; NaN, which every range check lets through, is refused."""

    name = "number of seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if math.isnan(seconds):
            self.fail(f"{value!r} is not a valid {self.name}.", param, ctx)
        return seconds


class _Hosts(click.ParamType):
    """Host names; from the environment, a comma- or space-separated list."""

    name = "host"

    def split_envvar_value(self, rv: str) -> Sequence[str]:
        return rv.replace(",", " ").split()


class _EnvOption(click.Option):
    """An option read from its variable when the command line lacks it; a bad value read
    there is reported under the variable's name."""

    def get_error_hint(self, ctx: click.Context | None) -> str:
        hint = " / ".join(f"'{opt}'" for opt in self.opts)
        if ctx and self.name and ctx.get_parameter_source(self.name) is ParameterSource.ENVIRONMENT:
            return f"{self.envvar} ({hint})"
        return hint


class _EmptyIsAValue(_EnvOption):
    """An option whose variable, set but empty, means the empty value rather than "unset"
    (``PIXELBIN_EMULATOR_CORS_ORIGINS=`` allows no origin)."""

    def resolve_envvar_value(self, ctx: click.Context) -> str | None:
        found = super().resolve_envvar_value(ctx)
        if found is None and isinstance(self.envvar, str):
            return os.environ.get(self.envvar)
        return found


def _option(flag: str, **kwargs: Any) -> Callable[[_F], _F]:
    """A ``--flag`` that also reads ``PIXELBIN_EMULATOR_FLAG``, named in its help and errors."""
    envvar = ENV_PREFIX + flag.removeprefix("--").upper().replace("-", "_")
    kwargs.setdefault("cls", _EnvOption)
    return click.option(flag, envvar=envvar, show_envvar=True, **kwargs)


@dataclass(frozen=True)
class Options:
    """The parsed command line, environment variables and defaults applied."""

    host: str
    port: int
    api_secret: str | None
    access_key: str | None
    cloud_name: str | None
    seed: Path | None
    external_url: str | None
    allow_fetch: bool
    admin_token: str | None
    threads: int
    data_dir: Path | None
    log_format: str
    quiet: bool
    prediction_latency: float
    cors_origins: str
    cors_platform: bool
    custom_domain: tuple[str, ...]
    transform_cache_mb: int
    connection_limit: int
    channel_timeout: int
    header_timeout: int
    max_pending_upload_mb: int


class _Stopped(Exception):
    """Raised in the serving thread by the SIGTERM handler, as Ctrl-C raises KeyboardInterrupt."""


_DEFAULTS = Settings()


@click.command(
    name=PROG,
    help="An offline, in-memory emulator of the Pixelbin API.",
    epilog="Every flag may also come from the environment variable shown beside it "
    "(PIXELBIN_EMULATOR_<FLAG>); the command line wins.",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name=PROG, message="%(prog)s %(version)s")
@_option(
    "--host", default="127.0.0.1", show_default=True, metavar="HOST", help="address to listen on"
)
@_option(
    "--port",
    type=_WholeNumber(0, 65535),
    default=8080,
    metavar="PORT",
    show_default=True,
    help="0 picks a free port",
)
@_option("--api-secret", metavar="API_SECRET", help="secret of the org served")
@_option(
    "--access-key",
    metavar="ACCESS_KEY",
    help="the org's access key: with the API secret, it signs CDN URLs of private files",
)
@_option("--cloud-name", metavar="CLOUD_NAME", help="its cloud name")
@_option(
    "--seed",
    type=click.Path(exists=True, path_type=Path),
    metavar="PATH",
    help="state document to start from (default: fixtures/default.json)",
)
@_option("--external-url", metavar="URL", help="base of the file URLs it writes")
@_option(
    "--allow-fetch",
    is_flag=True,
    help="let urlUpload fetch http(s) URLs that are not the emulator's own",
)
@_option(
    "--admin-token",
    metavar="TOKEN",
    help="protect the control plane (/_emulator/): it then wants 'Authorization: Bearer TOKEN'",
)
@_option(
    "--threads",
    type=_WholeNumber(min=1),
    default=DEFAULT_THREADS,
    show_default=True,
    metavar="N",
    help="worker threads of the WSGI server",
)
@_option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="keep the state in this directory: every acknowledged write survives a restart "
    "or a crash (default: in memory only)",
)
@_option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    help="the request log on stdout: one line per request, as text or JSON",
)
@_option("--quiet", is_flag=True, help="no request log (start-up and shutdown lines only)")
@_option(
    "--prediction-latency",
    type=_Seconds(0, 86_400),
    default=0.5,
    show_default=True,
    metavar="S",
    help="seconds from a prediction job's creation to its completion",
)
@_option(
    "--cors-origins",
    cls=_EmptyIsAValue,
    default="*",
    show_default=True,
    metavar="LIST",
    help="origins browsers may call the upload routes and the CDN from: '*', a "
    "comma-separated list (globs allowed: http://localhost:*), or '' for none",
)
@_option(
    "--cors-platform",
    is_flag=True,
    help="let browsers call the platform API too (it wants the API secret: off by default)",
)
@_option(
    "--custom-domain",
    type=_Hosts(),
    multiple=True,
    metavar="HOST",
    help="serve the first org's CDN URLs on HOST without the cloud name (repeatable; "
    "the variable takes a comma- or space-separated list)",
)
@_option(
    "--transform-cache-mb",
    type=_WholeNumber(min=0, clamp=True),
    default=256,
    show_default=True,
    metavar="N",
    help="memory for rendered transformation variants, in MB (0 turns the cache off)",
)
@_option(
    "--connection-limit",
    type=_WholeNumber(min=1),
    default=_DEFAULTS.connection_limit,
    show_default=True,
    metavar="N",
    help="open connections served at once, idle keep-alive ones included",
)
@_option(
    "--channel-timeout",
    type=_WholeNumber(min=1),
    default=_DEFAULTS.channel_timeout,
    show_default=True,
    metavar="S",
    help="seconds an idle connection is kept open",
)
@_option(
    "--header-timeout",
    type=_WholeNumber(min=1),
    default=_DEFAULTS.header_timeout,
    show_default=True,
    metavar="S",
    help="seconds a client may take to send a request's headers",
)
@_option(
    "--max-pending-upload-mb",
    type=_WholeNumber(min=1),
    default=Limits().max_pending_upload_bytes // MB,
    show_default=True,
    metavar="N",
    help="MB the parts of unfinished signed uploads may hold together (past it: 413)",
)
def command(**params: Any) -> int:
    return serve(Options(**params))


def parse_args(argv: Sequence[str]) -> Options:
    """The options ``argv`` and the environment give, without serving; a bad value raises
    :class:`click.UsageError`."""
    with command.make_context(PROG, list(argv)) as ctx:
        return Options(**ctx.params)


def _seed_document(args: Options) -> tuple[dict, Path]:
    """The seed, with the first org's credentials replaced by the ones given as flags."""
    doc, base_dir = read_seed(args.seed if args.seed else fixtures_dir())
    overrides = {
        "apiSecret": args.api_secret,
        "accessKey": args.access_key,
        "cloudName": args.cloud_name,
    }
    orgs = doc.get("orgs") if isinstance(doc, dict) else None
    if isinstance(orgs, list) and orgs and isinstance(orgs[0], dict):
        orgs[0].update({key: value for key, value in overrides.items() if value})
    return doc, base_dir


def _listen_error(error: OSError, args: Options) -> str:
    where = f"{args.host}:{args.port}"
    if error.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: the port is in use (choose another with --port)"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: no such address on this machine (--host)"
    if error.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied (ports below 1024 need privileges)"
    return f"cannot listen on {where}: {error.strerror or error}"


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Stopped("SIGTERM")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command on ``argv`` (default: ``sys.argv[1:]``) and give its exit status: 0 after
    a clean stop, 2 on a bad flag, variable, seed, data directory or address."""
    try:
        status = command.main(
            args=None if argv is None else list(argv), prog_name=PROG, standalone_mode=False
        )
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:  # Ctrl-C before the server started
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return status if isinstance(status, int) else 0


def serve(args: Options) -> int:
    """Seed, then listen: the seed is loaded before the socket opens, so the first request the
    server answers already sees it (``/_emulator/ready`` is 200 from then on)."""
    allocator.return_large_blocks()  # RSS goes back down when files go (see allocator.py)
    store: DurableStore | None = None
    try:
        doc, base_dir = _seed_document(args)
        limits = Limits(max_pending_upload_bytes=args.max_pending_upload_mb * MB)
        emulator = Emulator(doc, seed_dir=base_dir, limits=limits)
        if args.data_dir:
            store = DurableStore.open(args.data_dir, emulator)
        orgs = emulator.orgs()
        for host in args.custom_domain:
            if not orgs:
                raise EmulatorError("--custom-domain needs an org in the seed")
            emulator.map_domain(host, orgs[0].org_id)
        settings = Settings(
            external_url=args.external_url,
            allow_fetch=args.allow_fetch,
            admin_token=args.admin_token or None,
            request_log=None if args.quiet else args.log_format,
            prediction_latency=args.prediction_latency,
            cors_origins=parse_origins(args.cors_origins),
            cors_platform=args.cors_platform,
            connection_limit=args.connection_limit,
            channel_timeout=args.channel_timeout,
            header_timeout=args.header_timeout,
            transform_cache_mb=args.transform_cache_mb,
        )
        try:
            server = LiveServer(
                create_app(emulator, settings),
                host=args.host,
                port=args.port,
                threads=args.threads,
            )
        except OSError as error:
            raise EmulatorError(_listen_error(error, args)) from None
    except (EmulatorError, FileNotFoundError, OSError) as error:
        if store is not None:
            store.close()
        print(f"pixelbin-emulator: {getattr(error, 'message', error)}", file=sys.stderr)
        return 2
    # Before the "ready" line: whoever waits for it may send SIGTERM right away.
    signal.signal(signal.SIGTERM, _on_sigterm)
    how = "stopped"
    try:
        _announce(server, emulator, store)
        server.serve_forever()
    except KeyboardInterrupt:
        how = "stopped (SIGINT)"
    except _Stopped as stop:
        how = f"stopped ({stop})"
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        server.stop()
        if store is not None:
            store.close()
    print(f"pixelbin-emulator {how}", flush=True)
    return 0


def _announce(server: LiveServer, emulator: Emulator, store: DurableStore | None) -> None:
    print(f"pixelbin-emulator ready on {server.url}", flush=True)
    for org in emulator.orgs():
        print(
            f"  org {org.org_id} ({org.name}): cloudName={org.cloud_name} "
            f"apiSecret={org.api_secret} accessKey={org.access_key}",
            flush=True,
        )
        for host in emulator.domains(org.org_id):
            print(f"    custom domain {host}: /v2[/{{zone}}]/{{pattern}}/{{filePath}}", flush=True)
    if store is not None:
        print(f"  state kept in {store.path} ({_recovered(store)})", flush=True)


def _recovered(store: DurableStore) -> str:
    found = store.recovered
    if not found:
        return "new"
    text = f"restored, {found['operations']} logged changes replayed"
    if found["ignoredBytes"]:
        text += f", {found['ignoredBytes']} bytes of a torn last write ignored"
    return text
