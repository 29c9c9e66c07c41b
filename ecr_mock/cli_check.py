"""``ecr-mock check [--repair]``: the command that verifies (and repairs) a state directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ecr_mock.services.backend import Backend
from ecr_mock.store.errors import StateDirDamaged, StateDirError
from ecr_mock.store.persistence.check import Report, inspect
from ecr_mock.store.persistence.check import repair as repair_plan
from ecr_mock.store.persistence.statedir import SCHEMA_VERSION


def add_parser(commands: Any) -> None:
    """Add ``check`` to the command line's subcommands."""
    check = commands.add_parser(
        "check",
        help="verify a state directory (digests, links, schema); --repair fixes what it can",
        description="Verify every blob and manifest digest, every tag-to-manifest and "
        "manifest-to-blob link and the schema version of a state directory, say what is wrong "
        "and what --repair would do. Exit status 0 only when the directory is sound.",
    )
    check.add_argument("--state-dir", required=True, metavar="DIR", type=Path)
    check.add_argument(
        "--repair",
        action="store_true",
        help="move damaged blobs to DIR/quarantine/ and remove what cannot be served (the "
        "server must be stopped)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``ecr-mock check`` as parsed."""
    return check_state(args.state_dir, repair=args.repair)


def check_state(directory: Path, *, repair: bool) -> int:
    """``ecr-mock check``: 0 when sound (after a repair, if asked), 1 when not, 2 unreadable."""

    if not (directory / "state.db").is_file():
        print(f"ecr-mock: {directory} is not an ecr-mock state directory", file=sys.stderr)
        return 2
    try:
        report = inspect(directory)
    except StateDirDamaged as exc:
        print(f"ecr-mock: {exc}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{n} {what}" for what, n in report.counts.items())
    if report.blob_store is not None:
        print(f"ecr-mock check: blob bytes are kept in {report.blob_store}: not verified")
    if report.sound:
        print(f"ecr-mock check: {directory} is sound ({counts})")
        return 0
    for problem in report.problems:
        print(f"problem: {problem.what}")
        print(f"  repair: {problem.repair or 'none possible: restore the directory from a copy'}")
    if not repair:
        print(f"ecr-mock check: {len(report.problems)} problems in {directory} ({counts}); "
              f"ecr-mock check --repair does what each 'repair:' line says")  # fmt: skip
        return 1
    if not report.repairable:
        print("ecr-mock check: not repaired: some problems have no repair", file=sys.stderr)
        return 1
    try:
        done = _carry_out(directory, report)
    except StateDirError as exc:
        print(f"ecr-mock: {exc}", file=sys.stderr)
        return 1
    for line in done:
        print(f"repaired: {line}")
    again = inspect(directory)
    if not again.sound:
        print(f"ecr-mock check: {len(again.problems)} problems remain", file=sys.stderr)
        return 1
    print(f"ecr-mock check: {directory} is sound now")
    return 0


def _carry_out(directory: Path, report: Report) -> list[str]:
    """Repair as the report plans; a schema-1 directory is migrated by opening it."""
    if not report.migrate:
        return repair_plan(directory, report)
    Backend.open(directory).close()  # opening migrates (and fails while a server runs)
    return [f"migrated {directory} to schema version {SCHEMA_VERSION}"]
