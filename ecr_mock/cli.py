"""The ``ecr-mock`` command line: ``ecr-mock serve`` runs a standalone server until interrupted."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
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
    serve.add_argument(
        "--seed",
        metavar="FILE",
        help="start from the world a seed document describes (JSON, or YAML with PyYAML)",
    )
    serve.add_argument(
        "--control-token",
        metavar="TOKEN",
        default=os.environ.get("ECR_MOCK_CONTROL_TOKEN") or None,
        help="require 'Authorization: Bearer TOKEN' on the /ecr-mock/ control API (needed to "
        "use it when bound to a non-loopback address; default $ECR_MOCK_CONTROL_TOKEN)",
    )
    serve.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="request log lines on stderr as key=value text or JSON (default text)",
    )
    serve.add_argument(
        "--quiet", action="store_true", help="log no requests (errors are still logged)"
    )
    serve.add_argument("--log-requests", action="store_true", help=argparse.SUPPRESS)
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
    return parser


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
    from ecr_mock.request_log import configure_logging
    from ecr_mock.server import EcrMockServer

    try:
        allow_missing_layers = args.allow_missing_layers or allow_missing_layers_default()
    except ValueError as exc:
        print(f"ecr-mock: {exc}", file=sys.stderr)
        return 2
    configure_logging(args.log_format, quiet=args.quiet)
    backend = Backend(args.account_id, args.region, allow_missing_layers=allow_missing_layers)
    backend.strict_credentials = args.strict_credentials
    for key, account in args.access_key:
        backend.add_access_key(key, account)
    server = EcrMockServer(
        backend,
        args.host,
        args.port,
        public_endpoint=args.public_endpoint,
        log_requests=True,
        apply_lifecycle=True,
        control_token=args.control_token,
    )
    if args.seed:
        from ecr_mock.seeding import SeedError, seed_backend

        try:
            seed_backend(backend, args.seed)
        except SeedError as exc:
            print(f"ecr-mock: the seed file {args.seed} is refused: {exc}", file=sys.stderr)
            return 2
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
    if stop.is_set() and threading.current_thread() is threading.main_thread():
        # Everything is closed above. Finalising the interpreter after moto's modules were
        # loaded takes about half a second; a signalled server exits at once instead.
        logging.shutdown()
        sys.stderr.flush()
        os._exit(0)
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
