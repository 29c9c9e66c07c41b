"""The ``ecr-mock`` command line: ``serve`` runs a standalone server until interrupted, ``ca``
and ``hosts`` prepare a machine for ``serve --aws-hostnames``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import ecr_mock.server
from ecr_mock._version import __version__
from ecr_mock.domain.names import ACCOUNT_RE, DEFAULT_ACCOUNT, DEFAULT_REGION, REGION_RE
from ecr_mock.runtime.hostnames import hosts_file
from ecr_mock.runtime.request_log import configure_logging
from ecr_mock.services.backend import Backend
from ecr_mock.store.persistence import StateDirError
from ecr_mock.testing.faults import FaultRuleError, attach
from ecr_mock.testing.mock import allow_missing_layers_default
from ecr_mock.testing.seeding import SeedError, seed_backend

if TYPE_CHECKING:
    from ecr_mock.runtime.tls import CertificateAuthority

AWS_PORT = 443
"""The port ``--aws-hostnames`` binds unless told otherwise: the one AWS clients connect to."""


def _account(value: str) -> str:
    if not ACCOUNT_RE.fullmatch(value):
        raise argparse.ArgumentTypeError(f"not a 12-digit account id: {value!r}")
    return value


class _DefaultPort(int):
    """The unchosen ``--port``: 5000, or ``AWS_PORT`` with ``--aws-hostnames``."""


def _region(value: str) -> str:
    if not REGION_RE.fullmatch(value):
        raise argparse.ArgumentTypeError(f"not a region name: {value!r}")
    return value


def _access_key(value: str) -> tuple[str, str]:
    key, sep, account = value.partition("=")
    if not sep or not key or not ACCOUNT_RE.fullmatch(account):
        raise argparse.ArgumentTypeError(f"expected ACCESS_KEY=ACCOUNT_ID, got {value!r}")
    return key, account


def _fault(value: str) -> dict[str, object]:
    try:
        doc = json.loads(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise argparse.ArgumentTypeError(
            "a fault rule is a JSON object, e.g. "
            '\'{"operation": "PutImage", "error": "ThrottlingException"}\''
        )
    return doc


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a positive integer: {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``ecr-mock``."""

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
        "--port",
        type=int,
        default=_DefaultPort(5000),
        help="port to bind; 0 picks a free one (default 5000, or 443 with --aws-hostnames)",
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
        "--state-dir",
        metavar="DIR",
        help="keep everything (metadata in DIR/state.db, blobs under DIR/blobs) across restarts; "
        "without it the state lives in memory and ends with the process",
    )
    serve.add_argument(
        "--aws-hostnames",
        action="store_true",
        help="answer as AWS itself: TLS with certificates for AWS host names (api.ecr.<region>."
        "amazonaws.com, <account>.dkr.ecr.<region>.amazonaws.com, sts, iam) signed by a local "
        "CA, and repositoryUri/proxyEndpoint in their AWS forms (needs ecr-mock[tls])",
    )
    _ca_dir_option(serve)
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
    serve.add_argument(
        "--upload-idle-timeout",
        type=_positive_seconds,
        default=None,
        metavar="SECONDS",
        help="end blob upload sessions left untouched this long; they then answer 404 "
        "BLOB_UPLOAD_UNKNOWN and their bytes are freed (default 3600)",
    )
    serve.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="JSON",
        help='add a fault rule at start, e.g. \'{"operation": "blob.get", "error": "UNAVAILABLE", '
        '"times": 1}\' (repeatable; see /ecr-mock/faults)',
    )
    serve.add_argument(
        "--enforce-quotas",
        action="store_true",
        help="throttle API and registry calls at the per-account, per-Region rates AWS documents",
    )
    serve.add_argument(
        "--max-calls",
        type=_positive,
        default=None,
        metavar="N",
        help="how many requests /ecr-mock/calls remembers (default 10000)",
    )
    ca = commands.add_parser(
        "ca",
        help="print the path of the local CA certificate (made if needed)",
        description="Print the path of the certificate of the CA that serve --aws-hostnames "
        "signs with, creating the CA on first use. Trust this file in clients.",
    )
    _ca_dir_option(ca)
    hosts = commands.add_parser(
        "hosts",
        help="print /etc/hosts lines for ECR registries and API endpoints",
        description="Print the hosts-file lines that send the ECR, STS and IAM host names of "
        "the given registries to ecr-mock serve --aws-hostnames.",
    )
    hosts.add_argument(
        "--account",
        type=_account,
        action="append",
        default=[],
        help=f"registry account (repeatable, paired with --region; default {DEFAULT_ACCOUNT})",
    )
    hosts.add_argument(
        "--region",
        type=_region,
        action="append",
        default=[],
        help=f"registry region (repeatable, paired with --account; default {DEFAULT_REGION})",
    )
    hosts.add_argument(
        "--address", default="127.0.0.1", help="address the names resolve to (default 127.0.0.1)"
    )
    hosts.add_argument(
        "--fips", action="store_true", help="also the FIPS and dual-stack names ECR documents"
    )
    hosts.add_argument(
        "--public",
        action="store_true",
        help="also ECR Public's names (public.ecr.aws, api.ecr-public.us-east-1.amazonaws.com): "
        "pulls of real public images on this machine then go to ecr-mock too",
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


def _ca_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ca-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the local CA is kept (default $ECR_MOCK_CA_DIR or ~/.ecr-mock/ca)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ecr-mock``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "ca":
        return print_ca(args)
    if args.command == "hosts":
        return print_hosts(parser, args)
    parser.print_help()
    return 2


def serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM, then shut down cleanly (exit status 0)."""

    try:
        allow_missing_layers = args.allow_missing_layers or allow_missing_layers_default()
    except ValueError as exc:
        print(f"ecr-mock: {exc}", file=sys.stderr)
        return 2
    if args.aws_hostnames and args.public_endpoint:
        print(
            "ecr-mock: --public-endpoint does not apply with --aws-hostnames "
            "(addresses keep their AWS forms)",
            file=sys.stderr,
        )
        return 2
    ca = None
    if args.aws_hostnames:
        ca = _open_ca(args.ca_dir)
        if ca is None:
            return 1
    elif args.ca_dir is not None:
        print("ecr-mock: --ca-dir is used with --aws-hostnames", file=sys.stderr)
        return 2
    if isinstance(args.port, _DefaultPort):
        args.port = AWS_PORT if args.aws_hostnames else int(args.port)
    configure_logging(args.log_format, quiet=args.quiet)
    if args.state_dir:
        try:
            backend = Backend.open(args.state_dir, args.account_id, args.region)
        except StateDirError as exc:
            print(f"ecr-mock: {exc}", file=sys.stderr)
            if ca is not None:
                ca.close()
            return 1
        backend.allow_missing_layers = allow_missing_layers
    else:
        backend = Backend(args.account_id, args.region, allow_missing_layers=allow_missing_layers)
    backend.strict_credentials = args.strict_credentials
    if args.upload_idle_timeout is not None:
        backend.upload_idle_timeout = timedelta(seconds=args.upload_idle_timeout)
    backend.quotas.enabled = args.enforce_quotas
    if args.max_calls is not None:
        backend.calls.maxlen = args.max_calls
    attach(backend)
    for rule in args.fault:
        try:
            backend.faults.add_rule(rule)
        except FaultRuleError as exc:
            print(f"ecr-mock: --fault {json.dumps(rule)}: {exc}", file=sys.stderr)
            return 2
    for key, account in args.access_key:
        backend.add_access_key(key, account)
    server = ecr_mock.server.EcrMockServer(  # looked up per call: tests replace the class
        backend,
        args.host,
        args.port,
        public_endpoint=args.public_endpoint,
        log_requests=True,
        apply_lifecycle=True,
        control_token=args.control_token,
        certificate_authority=ca,
    )
    if args.seed:
        try:
            seed_backend(backend, args.seed)
        except SeedError as exc:
            print(f"ecr-mock: the seed file {args.seed} is refused: {exc}", file=sys.stderr)
            return 2
    try:
        server.start()
    except OSError as exc:
        backend.close()
        hint = ""
        if 0 < args.port < 1024:
            hint = (
                "; ports below 1024 need root or CAP_NET_BIND_SERVICE (see the README: "
                "a port forward, or setcap), or pick another with --port"
            )
        print(f"ecr-mock: cannot listen on {args.host}:{args.port}: {exc}{hint}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if ca is not None:
            text = aws_banner(server.host, server.port, ca, args.account_id, args.region)
        else:
            text = banner(server.url, server.endpoint, args.account_id, args.region)
        print(text, flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        server.stop()
        backend.close()
        if ca is not None:
            ca.close()
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


def aws_banner(host: str, port: int, ca: CertificateAuthority, account: str, region: str) -> str:
    """What ``serve --aws-hostnames`` prints: the CA to trust, the names to resolve, a login."""
    registry = f"{account}.dkr.ecr.{region}.amazonaws.com"
    lines = [
        f"ecr-mock: answering as AWS (ECR API, {registry}, STS, IAM) with TLS on "
        f"{host}:{port} (account {account}, region {region}); Ctrl-C stops",
        f"trust its CA: {ca.cert_path}  (export AWS_CA_BUNDLE={ca.cert_path})",
        f"resolve the names: ecr-mock hosts --account {account} --region {region} "
        f"--address {host}  (hosts-file lines)",
    ]
    if port != AWS_PORT:
        lines.append(f"clients connect to port {AWS_PORT}: forward it to {port}")
    lines.append(
        f"aws ecr get-login-password --region {region} "
        f"| docker login --username AWS --password-stdin {registry}"
    )
    return "\n".join(lines)


def _open_ca(directory: Path | None) -> CertificateAuthority | None:
    """The CA in ``directory`` (made if needed), or None after printing why it cannot be."""
    from ecr_mock.runtime.tls import CertificateAuthority, TlsSetupError

    try:
        return CertificateAuthority(directory)
    except TlsSetupError as exc:
        print(f"ecr-mock: {exc}", file=sys.stderr)
        return None


def print_ca(args: argparse.Namespace) -> int:
    """``ecr-mock ca``: print the CA certificate's path, creating the CA if needed."""
    ca = _open_ca(args.ca_dir)
    if ca is None:
        return 1
    print(ca.cert_path)
    return 0


def print_hosts(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``ecr-mock hosts``: print hosts-file lines for the registries given as account/region pairs."""

    accounts: list[str] = args.account or [DEFAULT_ACCOUNT]
    regions: list[str] = args.region or [DEFAULT_REGION]
    if len(accounts) == 1 and len(regions) > 1:
        accounts = accounts * len(regions)
    elif len(regions) == 1 and len(accounts) > 1:
        regions = regions * len(accounts)
    if len(accounts) != len(regions):
        parser.error("hosts: give one --region per --account (or a single one of either)")
    print(
        hosts_file(
            list(zip(accounts, regions, strict=True)),
            args.address,
            fips=args.fips,
            public=args.public,
        ),
        end="",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
