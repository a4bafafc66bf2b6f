"""``pixelbin-emulator``: start a local emulator.

Every flag can also be set by an environment variable ``PIXELBIN_EMULATOR_<FLAG>`` (for example
``PIXELBIN_EMULATOR_PORT=9000``); a flag on the command line wins.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

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

ENV_PREFIX = "PIXELBIN_EMULATOR_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class EnvError(ValueError):
    """An environment variable holds a value its flag does not take."""


def _env_name(name: str) -> str:
    return ENV_PREFIX + name.upper().replace("-", "_")


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(_env_name(name), default)


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise EnvError(f"{_env_name(name)}={raw!r} is not a whole number") from None


def _env_bool(name: str) -> bool:
    raw = (_env(name, "") or "").strip().lower()
    if raw not in _TRUE | _FALSE:
        raise EnvError(f"{_env_name(name)}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")
    return raw in _TRUE


def _env_choice(name: str, choices: Sequence[str], default: str) -> str:
    raw = _env(name, default) or default
    if raw not in choices:
        raise EnvError(f"{_env_name(name)}={raw!r} is not one of: {', '.join(choices)}")
    return raw


class _Stopped(Exception):
    """Raised in the serving thread by the SIGTERM handler, as Ctrl-C raises KeyboardInterrupt."""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 86_400:
        raise argparse.ArgumentTypeError("must be between 0 and 86400 seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pixelbin-emulator",
        description="An offline, in-memory emulator of the Pixelbin API.",
        epilog="Flags may also come from PIXELBIN_EMULATOR_<FLAG>, e.g. PIXELBIN_EMULATOR_PORT.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--host", default=_env("host", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=_env_int("port", 8080), help="0 picks a free port"
    )
    parser.add_argument("--api-secret", default=_env("api-secret"), help="secret of the org served")
    parser.add_argument(
        "--access-key",
        default=_env("access-key"),
        help="the org's access key: with the API secret, it signs CDN URLs of private files",
    )
    parser.add_argument("--cloud-name", default=_env("cloud-name"), help="its cloud name")
    parser.add_argument("--seed", default=_env("seed"), help="state document to start from")
    parser.add_argument(
        "--external-url", default=_env("external-url"), help="base of the file URLs it writes"
    )
    parser.add_argument(
        "--allow-fetch",
        action="store_true",
        default=_env_bool("allow-fetch"),
        help="let urlUpload fetch http(s) URLs that are not the emulator's own",
    )
    parser.add_argument(
        "--admin-token",
        default=_env("admin-token"),
        help="protect the control plane (/_emulator/): it then wants 'Authorization: Bearer TOKEN'",
    )
    parser.add_argument("--threads", type=int, default=_env_int("threads", DEFAULT_THREADS))
    parser.add_argument(
        "--data-dir",
        default=_env("data-dir"),
        help="keep the state in this directory: every acknowledged write survives a restart "
        "or a crash (default: in memory only)",
    )
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=_env_choice("log-format", LOG_FORMATS, "text"),
        help="the request log on stdout: one line per request, as text or JSON",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        default=_env_bool("quiet"),
        help="no request log (start-up and shutdown lines only)",
    )
    parser.add_argument(
        "--prediction-latency",
        type=_seconds,
        default=_env("prediction-latency", "0.5"),
        help="seconds from a prediction job's creation to its completion (default 0.5)",
    )
    parser.add_argument(
        "--cors-origins",
        default=_env("cors-origins", "*"),
        help="origins browsers may call the upload routes and the CDN from: '*' (default), a "
        "comma-separated list (globs allowed: http://localhost:*), or '' for none",
    )
    parser.add_argument(
        "--cors-platform",
        action="store_true",
        default=_env_bool("cors-platform"),
        help="let browsers call the platform API too (it wants the API secret: off by default)",
    )
    parser.add_argument(
        "--custom-domain",
        action="append",
        metavar="HOST",
        help="serve the first org's CDN URLs on HOST without the cloud name (repeatable)",
    )
    parser.add_argument(
        "--transform-cache-mb",
        type=int,
        default=_env_int("transform-cache-mb", 256),
        help="memory for rendered transformation variants, in MB (0 turns the cache off)",
    )
    defaults = Settings()
    parser.add_argument(
        "--connection-limit",
        type=_positive_int,
        default=_env("connection-limit", str(defaults.connection_limit)),
        help="open connections served at once, idle keep-alive ones included",
    )
    parser.add_argument(
        "--channel-timeout",
        type=_positive_int,
        default=_env("channel-timeout", str(defaults.channel_timeout)),
        help="seconds an idle connection is kept open",
    )
    parser.add_argument(
        "--header-timeout",
        type=_positive_int,
        default=_env("header-timeout", str(defaults.header_timeout)),
        help="seconds a client may take to send a request's headers",
    )
    parser.add_argument(
        "--max-pending-upload-mb",
        type=_positive_int,
        default=_env("max-pending-upload-mb", str(Limits().max_pending_upload_bytes // MB)),
        help="MB the parts of unfinished signed uploads may hold together (past it: 413)",
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def _seed_document(args: argparse.Namespace) -> tuple[dict, Path]:
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


def _listen_error(error: OSError, args: argparse.Namespace) -> str:
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
    """Seed, then listen: the seed is loaded before the socket opens, so the first request the
    server answers already sees it (``/_emulator/ready`` is 200 from then on)."""
    try:
        parser = build_parser()
    except EnvError as error:
        print(f"pixelbin-emulator: {error}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    allocator.return_large_blocks()  # RSS goes back down when files go (see allocator.py)
    store: DurableStore | None = None
    try:
        doc, base_dir = _seed_document(args)
        limits = Limits(max_pending_upload_bytes=args.max_pending_upload_mb * MB)
        emulator = Emulator(doc, seed_dir=base_dir, limits=limits)
        if args.data_dir:
            store = DurableStore.open(args.data_dir, emulator)
        orgs = emulator.orgs()
        env_domains = (_env("custom-domain", "") or "").replace(",", " ").split()
        for host in args.custom_domain or env_domains:
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
            transform_cache_mb=max(args.transform_cache_mb, 0),
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
