"""``ecr-mock ls``: registries, repositories and images of a running server or a state
directory, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ecr_mock.services.backend import Backend
from ecr_mock.store.persistence import StateDirError
from ecr_mock.testing.remote import ControlAPIError, RemoteEcrMock

DEFAULT_URL = "http://127.0.0.1:5000"


def add_parser(commands: Any) -> None:
    """The ``ls`` subcommand's options."""
    ls = commands.add_parser(
        "ls",
        help="list registries, repositories and images (tags, digest, size, pushed at)",
        description="List what a running server (--endpoint) or a state directory "
        "(--state-dir, opened read-only) holds: registries, repositories and their images.",
    )
    ls.add_argument("repository", nargs="?", metavar="REPOSITORY", help="only this repository")
    source = ls.add_mutually_exclusive_group()
    source.add_argument(
        "--endpoint",
        metavar="URL",
        help=f"a running server (default $ECR_MOCK_URL or {DEFAULT_URL})",
    )
    source.add_argument(
        "--state-dir", metavar="DIR", help="a state directory, read while a server may use it"
    )
    ls.add_argument(
        "--control-token",
        metavar="TOKEN",
        help="the server's control token (default $ECR_MOCK_CONTROL_TOKEN)",
    )
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    """Print the listing; 1 when the source cannot be read or the repository is not there."""
    try:
        state = _read_state(args)
    except (OSError, ValueError) as exc:
        print(f"ecr-mock ls: {exc}", file=sys.stderr)
        return 1
    registries = state.get("registries", [])
    if args.repository:
        registries = [
            {
                **reg,
                "repositories": [r for r in reg["repositories"] if r["name"] == args.repository],
            }
            for reg in registries
        ]
        registries = [reg for reg in registries if reg["repositories"]]
        if not registries:
            print(f"ecr-mock ls: no repository named {args.repository!r}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps({"registries": registries}, indent=2))
    else:
        print(table(registries), end="")
    return 0


def _read_state(args: argparse.Namespace) -> dict[str, Any]:
    if args.state_dir:
        if not os.path.isfile(os.path.join(args.state_dir, "state.db")):
            raise ValueError(f"{args.state_dir} holds no ecr-mock state (no state.db)")
        try:
            backend = Backend.open(args.state_dir, read_only=True)
        except StateDirError as exc:
            raise ValueError(str(exc)) from None
        try:
            return backend.state()
        finally:
            backend.close()

    url = args.endpoint or os.environ.get("ECR_MOCK_URL") or DEFAULT_URL
    token = args.control_token or os.environ.get("ECR_MOCK_CONTROL_TOKEN") or None
    try:
        return RemoteEcrMock(url, token=token).state()
    except ControlAPIError as exc:
        raise ValueError(f"{url}: {exc}") from None
    except OSError as exc:
        raise OSError(f"no ecr-mock server answers at {url}: {exc}") from None


def table(registries: list[dict[str, Any]]) -> str:
    """One block per registry: a row per image (a repository without images gets one row)."""
    out: list[str] = []
    for reg in registries:
        out.append(f"registry {reg['account']} {reg['region']}")
        rows = [("REPOSITORY", "TAGS", "DIGEST", "SIZE", "PUSHED AT")]
        for repo in reg["repositories"]:
            images = sorted(repo["images"], key=lambda i: i["pushedAt"], reverse=True)
            if not images:
                rows.append((repo["name"], "-", "-", "-", "-"))
            for image in images:
                rows.append(
                    (
                        repo["name"],
                        ",".join(image["tags"]) or "<untagged>",
                        image["digest"],
                        str(image["size"]),
                        image["pushedAt"],
                    )
                )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        out.extend(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )
        out.append("")
    return "\n".join(out)
