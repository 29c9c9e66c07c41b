"""The ``ecr-mock`` command line: ``serve`` runs a standalone server until interrupted, ``ls``
lists what one holds, ``ca`` and ``hosts`` prepare a machine for ``serve --aws-hostnames``,
``check`` verifies a state directory."""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from ecr_mock import cli_check
from ecr_mock._version import __version__
from ecr_mock.domain.names import DEFAULT_ACCOUNT, DEFAULT_REGION, account_problem, region_problem
from ecr_mock.runtime import http as runtime_http
from ecr_mock.runtime.emulator import assemble
from ecr_mock.runtime.hostnames import hosts_file
from ecr_mock.runtime.providers.s3_blobs import s3_blob_store
from ecr_mock.runtime.request_log import configure_logging
from ecr_mock.services.backend import Backend
from ecr_mock.store.errors import StateDirDamaged
from ecr_mock.store.persistence import StateDirError
from ecr_mock.testing.faults import FaultRuleError
from ecr_mock.testing.mock import allow_missing_layers_default
from ecr_mock.testing.seed_modes import SeedModeError, seed_kept_state
from ecr_mock.testing.seeding import SeedError, seed_backend

if TYPE_CHECKING:
    from ecr_mock.runtime.tls import CertificateAuthority
    from ecr_mock.services.backend import Backend

AWS_PORT = 443
"""The port ``--aws-hostnames`` binds unless told otherwise: the one AWS clients connect to."""


def _account(value: str) -> str:
    if problem := account_problem(value, "the account id"):
        raise argparse.ArgumentTypeError(problem)
    return value


class _DefaultPort(int):
    """The unchosen ``--port``: 5000, or ``AWS_PORT`` with ``--aws-hostnames``."""


def _region(value: str) -> str:
    if problem := region_problem(value, "the region"):
        raise argparse.ArgumentTypeError(problem)
    return value


def _access_key(value: str) -> tuple[str, str]:
    key, sep, account = value.partition("=")
    if not sep or not key or account_problem(account):
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
    from ecr_mock.cli_env import EnvArgumentParser, add_variables

    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=EnvArgumentParser
    )
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
        type=_region,
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
        "--fsync",
        choices=("always", "batch", "never"),
        default="batch",
        help="with --state-dir: how saved changes reach the disk. always: an fsync per blob file "
        "and per commit (survives a power loss); batch (default): one file-system sync per "
        "group of blob files (survives a crash of the process); never: no syncs",
    )
    serve.add_argument(
        "--blob-store",
        metavar="s3://BUCKET/PREFIX",
        help="with --state-dir: keep blob bytes in this S3 bucket (through boto3 and the usual "
        "AWS credentials) instead of DIR/blobs; the metadata stays in DIR/state.db",
    )
    serve.add_argument(
        "--s3-endpoint-url",
        metavar="URL",
        help="the S3-compatible service holding --blob-store (default: AWS S3)",
    )
    serve.add_argument(
        "--presigned-downloads",
        action="store_true",
        help="with --blob-store: answer layer downloads (GetDownloadUrlForLayer, /v2/ blob "
        "GETs) with presigned URLs of the bucket (a 307 redirect on /v2/), as ECR does",
    )
    serve.add_argument(
        "--ephemeral-tokens",
        action="store_true",
        help="sign registry tokens with a key made for this run only, so logins end with the "
        "process; by default the key is kept (in the state directory, else the CA directory "
        "with --aws-hostnames, else $XDG_CACHE_HOME/ecr-mock) and logins survive a restart",
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
        "--seed-mode",
        choices=("once", "replace", "merge"),
        default="once",
        help="with --state-dir, what a seed does to kept state: once (default; applied to a "
        "new directory only, a changed seed is refused), replace (a changed seed empties the "
        "state and is applied), merge (a changed seed adds what does not exist yet)",
    )
    serve.add_argument(
        "--control-token",
        metavar="TOKEN",
        default=None,
        help="require 'Authorization: Bearer TOKEN' on the /ecr-mock/ control API (needed to "
        "use it when bound to a non-loopback address)",
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
        "--layer-grace",
        type=_grace,
        default=None,
        metavar="DURATION",
        help="reclaim layers no image references once unreferenced this long on the backend "
        "clock: seconds, or 90m, 24h, 2d (default 24h)",
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
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let web pages from ORIGIN (e.g. http://localhost:8080, or *) read /v2/ with CORS "
        "(repeatable)",
    )
    add_variables(serve, skip=frozenset({"ca_dir"}))  # the CA's own ECR_MOCK_CA_DIR applies
    from ecr_mock import listing

    listing.add_parser(commands)
    ca = commands.add_parser(
        "ca",
        help="print the path of the local CA certificate (made if needed)",
        description="Print the path of the certificate of the CA that serve --aws-hostnames "
        "signs with, creating the CA on first use. Trust this file in clients.",
    )
    _ca_dir_option(ca)
    cli_check.add_parser(commands)
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


def _grace(text: str) -> timedelta:
    from ecr_mock.services.reclaim import parse_grace

    try:
        return parse_grace(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
        if args.control_token == "":
            args.control_token = None
        return serve(args)
    if args.command == "ls":
        from ecr_mock import listing

        return listing.run(args)
    if args.command == "ca":
        return print_ca(args)
    if args.command == "check":
        return cli_check.run(args)
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
    if args.presigned_downloads and not args.blob_store:
        print("ecr-mock: --presigned-downloads is used with --blob-store", file=sys.stderr)
        return 2
    if (args.blob_store or args.s3_endpoint_url) and not args.state_dir:
        print(
            "ecr-mock: --blob-store and --s3-endpoint-url are used with --state-dir",
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
        store = None
        if args.blob_store:
            try:
                store = s3_blob_store(args.blob_store, args.s3_endpoint_url)
            except ValueError as exc:
                print(f"ecr-mock: --blob-store: {exc}", file=sys.stderr)
                if ca is not None:
                    ca.close()
                return 2

        try:
            backend = Backend.open(
                args.state_dir,
                args.account_id,
                args.region,
                fsync=args.fsync,
                blob_store=store,
            )
        except StateDirError as exc:
            print(f"ecr-mock: {exc}", file=sys.stderr)
            if ca is not None:
                ca.close()
            return 2 if isinstance(exc, StateDirDamaged) else 1
        backend.allow_missing_layers = allow_missing_layers
        _restore_identities(Path(args.state_dir))
    else:
        backend = Backend(args.account_id, args.region, allow_missing_layers=allow_missing_layers)
    backend.presigned_downloads = bool(args.presigned_downloads)
    if not _use_token_key(backend, args, ca):
        backend.close()
        if ca is not None:
            ca.close()
        return 1
    backend.strict_credentials = args.strict_credentials
    if args.upload_idle_timeout is not None:
        backend.upload_idle_timeout = timedelta(seconds=args.upload_idle_timeout)
    if args.layer_grace is not None:
        backend.layer_grace = args.layer_grace
    backend.quotas.enabled = args.enforce_quotas
    if args.max_calls is not None:
        backend.calls.maxlen = args.max_calls
    assemble(backend)
    for rule in args.fault:
        try:
            backend.faults.add_rule(rule)
        except FaultRuleError as exc:
            print(f"ecr-mock: --fault {json.dumps(rule)}: {exc}", file=sys.stderr)
            return 2
    for key, account in args.access_key:
        backend.add_access_key(key, account)
    server = runtime_http.EcrMockServer(  # looked up per call: tests replace the class
        backend,
        args.host,
        args.port,
        public_endpoint=args.public_endpoint,
        log_requests=True,
        apply_lifecycle=True,
        control_token=args.control_token,
        certificate_authority=ca,
        cors_origins=args.cors_origin,
    )
    if args.seed:
        try:
            if args.state_dir:
                done = seed_kept_state(backend, args.seed, args.seed_mode)
                print(f"ecr-mock: seed {args.seed}: {done}", file=sys.stderr)
            else:
                seed_backend(backend, args.seed)
        except SeedModeError as exc:
            print(f"ecr-mock: the seed file {args.seed} is refused: {exc}", file=sys.stderr)
            backend.close()
            return 2
        except SeedError as exc:
            print(f"ecr-mock: the seed file {args.seed} is refused: {exc}", file=sys.stderr)
            backend.close()
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


def _restore_identities(directory: Path) -> None:
    """Bring back what the server's IAM held (users, roles, policies, access keys)."""
    try:
        from ecr_mock.runtime.providers.iam_state import restore_identities
    except ImportError:  # pragma: no cover - moto is a dependency of the server
        return
    restored = restore_identities(directory)
    if restored:
        logging.getLogger("ecr_mock.state").info(
            "restored the IAM identities of %d account(s) from %s", restored, directory
        )
    logging.getLogger("ecr_mock.state").info(
        "kept across restarts in %s: the ECR state, uploads in progress and IAM identities; "
        "not kept: STS temporary credentials (AssumeRole, GetSessionToken)",
        directory,
    )


def _use_token_key(
    backend: Backend, args: argparse.Namespace, ca: CertificateAuthority | None
) -> bool:
    """Sign tokens with the kept key (see ``--ephemeral-tokens``); False after saying why not."""
    from ecr_mock.store.token_keys import (
        TokenKeyDamaged,
        TokenKeyError,
        cache_directory,
        load_or_create_key,
    )

    if args.ephemeral_tokens:
        backend.tokens.use_key(secrets.token_bytes(32))
        return True
    if args.state_dir:
        return True  # Backend.open took the state directory's key
    directory = ca.directory if ca is not None else cache_directory()
    try:
        backend.tokens.use_key(load_or_create_key(directory))
    except TokenKeyDamaged as exc:
        print(f"ecr-mock: {exc} (or pass --ephemeral-tokens)", file=sys.stderr)
        return False
    except TokenKeyError as exc:  # nowhere to keep it (no home, a read-only file system)
        logging.getLogger("ecr_mock.state").warning(
            "%s: registry logins end with this process", exc
        )
        backend.tokens.use_key(secrets.token_bytes(32))
    return True


def banner(url: str, endpoint: str, account: str, region: str) -> str:
    """What ``serve`` prints: the endpoint, the environment line, a ready login command and the
    web console's address."""
    return "\n".join(
        [
            f"ecr-mock: serving the ECR API and /v2/ at {url} "
            f"(account {account}, region {region}); Ctrl-C stops",
            f"export AWS_ENDPOINT_URL_ECR={url}",
            f"aws ecr get-login-password --endpoint-url {url} --region {region} "
            f"| docker login --username AWS --password-stdin {endpoint}",
            f"web console: {url}/ecr-mock/ui/",
            other_services_line(),
        ]
    )


def other_services_line() -> str:
    """Whether IAM, STS and moto's other services are served too (with ``ecr-mock[aws]``)."""
    from ecr_mock.runtime.providers.moto_iam import AWS_EXTRA, moto_server_installed

    if moto_server_installed():
        return "ecr-mock: IAM, STS, EventBridge and moto's other AWS services are served too (moto)"
    return (
        "ecr-mock: serving ECR, ECR Public and /v2/ only; other AWS services (IAM, STS, ...) "
        f"answer 400 until moto is installed: pip install '{AWS_EXTRA}'"
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
    lines.append(other_services_line())
    return "\n".join(lines)


def _open_ca(directory: Path | None) -> CertificateAuthority | None:
    """The CA in ``directory`` (made if needed), or None after printing why it cannot be."""
    from ecr_mock.runtime.tls import CertificateAuthority, TlsSetupError

    try:
        ca = CertificateAuthority(directory)
    except TlsSetupError as exc:
        print(f"ecr-mock: {exc}", file=sys.stderr)
        return None
    warning = ca.unconstrained_warning()
    if warning is not None:
        print(f"ecr-mock: warning: {warning}", file=sys.stderr)
    return ca


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
