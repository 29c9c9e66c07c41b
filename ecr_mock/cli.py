"""The ``ecr-mock`` command line: ``ecr-mock serve`` runs a standalone server until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from types import FrameType

from ecr_mock.core.names import ACCOUNT_RE, DEFAULT_ACCOUNT, DEFAULT_REGION


def _account(value: str) -> str:
    if not ACCOUNT_RE.fullmatch(value):
        raise argparse.ArgumentTypeError(f"not a 12-digit account id: {value!r}")
    return value


def _access_key(value: str) -> tuple[str, str]:
    key, sep, account = value.partition("=")
    if not sep or not key or not ACCOUNT_RE.fullmatch(account):
        raise argparse.ArgumentTypeError(f"expected ACCESS_KEY=ACCOUNT_ID, got {value!r}")
    return key, account


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``ecr-mock``."""
    from ecr_mock import __version__

    parser = argparse.ArgumentParser(
        prog="ecr-mock",
        description="A local, offline emulator of Amazon ECR: the ECR API and /v2/ on one port.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the ECR API and the registry until Ctrl-C",
        description="Serve the ECR API (POST /) and the registry (/v2/) on one port.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=5000, help="port to bind; 0 picks a free one (default 5000)"
    )
    serve.add_argument(
        "--account-id",
        type=_account,
        default=DEFAULT_ACCOUNT,
        help=f"account of unsigned calls and unknown access keys (default {DEFAULT_ACCOUNT})",
    )
    serve.add_argument(
        "--region",
        default=DEFAULT_REGION,
        help=f"region of unsigned calls and of the printed commands (default {DEFAULT_REGION})",
    )
    serve.add_argument(
        "--access-key",
        type=_access_key,
        action="append",
        default=[],
        metavar="KEY=ACCOUNT",
        help="make calls signed with access key KEY come from ACCOUNT (repeatable)",
    )
    serve.add_argument(
        "--public-endpoint",
        metavar="HOST:PORT",
        help="address clients reach the server at, used in repositoryUri and proxyEndpoint",
    )
    serve.add_argument("--log-requests", action="store_true", help="log every request to stderr")
    serve.add_argument(
        "--strict-credentials",
        action="store_true",
        help="refuse access keys no identity was created for (UnrecognizedClientException), "
        "instead of treating them as the root of --account-id",
    )
    serve.add_argument(
        "--allow-missing-layers",
        action="store_true",
        help="accept manifests naming layers never uploaded and manifest lists naming images "
        "never pushed, as moto does (ECR refuses them; so does ecr-mock without this flag or "
        "ECR_MOCK_ALLOW_MISSING_LAYERS=1)",
    )
    serve.add_argument(
        "--upload-idle-timeout",
        type=_positive_seconds,
        default=None,
        metavar="SECONDS",
        help="end blob upload sessions left untouched this long; they then answer 404 "
        "BLOB_UPLOAD_UNKNOWN and their bytes are freed (default 3600)",
    )
    return parser


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ecr-mock``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    parser.print_help()
    return 2


def serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM, then shut down cleanly (exit status 0)."""
    from ecr_mock.core.backend import Backend
    from ecr_mock.mock import allow_missing_layers_default
    from ecr_mock.server import EcrMockServer

    try:
        allow_missing_layers = args.allow_missing_layers or allow_missing_layers_default()
    except ValueError as exc:
        print(f"ecr-mock: {exc}", file=sys.stderr)
        return 2
    backend = Backend(args.account_id, args.region, allow_missing_layers=allow_missing_layers)
    backend.strict_credentials = args.strict_credentials
    if args.upload_idle_timeout is not None:
        backend.upload_idle_timeout = timedelta(seconds=args.upload_idle_timeout)
    for key, account in args.access_key:
        backend.add_access_key(key, account)
    server = EcrMockServer(
        backend,
        args.host,
        args.port,
        public_endpoint=args.public_endpoint,
        log_requests=args.log_requests,
        apply_lifecycle=True,
    )
    try:
        server.start()
    except OSError as exc:
        print(f"ecr-mock: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(banner(server.url, server.endpoint, args.account_id, args.region), flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("ecr-mock: stopped", flush=True)
    return 0


def banner(url: str, endpoint: str, account: str, region: str) -> str:
    """What ``serve`` prints: the endpoint, the environment line and a ready login command."""
    return "\n".join(
        [
            f"ecr-mock: serving the ECR API and /v2/ at {url} "
            f"(account {account}, region {region}); Ctrl-C stops",
            f"export AWS_ENDPOINT_URL_ECR={url}",
            f"aws ecr get-login-password --endpoint-url {url} --region {region} "
            f"| docker login --username AWS --password-stdin {endpoint}",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
