"""What checking a state directory costs: opening it, the damaged-database check, blob hashing.

Run by hand: ``python bench/bench_state_open.py [--images 5000] [--blob-mib 256] [--rounds 3]``.
Builds one state directory in-process (``--images`` small images, plus ``--blob-mib`` of layers
in 8 MiB blobs), then measures in the same run:

- ``Backend.open`` + ``close`` of the directory (what a server start pays), and the part of it
  that is the check of ``state.db`` before anything is touched (``check_database``);
- the background verification of every blob (``Verifier``) against ``hashlib.sha256`` over the
  same files read the same way (the floor);
- ``ecr-mock check`` (``inspect``) on the whole directory;
- a registry token checked for the first time (signature verified) and again (cached).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ecr_mock import Backend
from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.models import Principal
from ecr_mock.store.persistence.check import inspect
from ecr_mock.store.persistence.integrity import check_database
from ecr_mock.store.persistence.verify import CheckedBlob

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def build(path: Path, images: int, blob_mib: int) -> None:
    backend = Backend.open(path)
    reg = backend.registry()
    repo = backend.create_repository(reg, "bench")
    for number in range(images):
        config = Blob.from_bytes(json.dumps({"os": "linux", "n": number}).encode())
        layer = Blob.from_bytes(os.urandom(1024))
        backend.store_blob(reg, repo, config)
        backend.store_blob(reg, repo, layer)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": config.digest, "size": config.size},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": layer.digest, "size": layer.size}],
            }
        ).encode()  # fmt: skip
        backend.put_image(reg, repo, manifest, tag=f"t{number}", media_type=OCI_MANIFEST)
    for _ in range(blob_mib // 8):
        backend.store_blob(reg, repo, Blob.from_bytes(os.urandom(8 << 20)))
    backend.close()


def timed(run: object) -> float:
    began = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - began


def open_close(path: Path) -> None:
    backend = Backend.open(path)
    assert backend.state_dir is not None and backend.state_dir.verifier is not None
    backend.state_dir.verifier.stop()
    backend.close()


def verify_all(path: Path) -> float:
    """Seconds the verification of every loaded blob takes (the open is not counted)."""
    backend = Backend.open(path, read_only=True)
    blobs = list(backend.registry().blobs.values())
    began = time.perf_counter()
    for blob in blobs:
        assert isinstance(blob, CheckedBlob) and blob.verify()
    took = time.perf_counter() - began
    backend.close()
    return took


def hash_all(path: Path) -> None:
    for file in (path / "blobs" / "sha256").iterdir():
        hasher = hashlib.sha256()
        with open(file, "rb") as handle:
            while chunk := handle.read(1 << 20):
                hasher.update(chunk)


def tokens() -> tuple[float, float]:
    backend = Backend()
    root = Principal.root("123456789012")
    passwords = [backend.tokens.issue(root, "123456789012", "us-east-1").password
                 for _ in range(2000)]  # fmt: skip
    backend.tokens.use_key(b"k" * 32)  # forget them: each is verified by its signature
    backend.tokens.use_key(b"j" * 32)
    other = Backend()
    other.tokens.use_key(b"j" * 32)
    passwords = [other.tokens.issue(root, "123456789012", "us-east-1").password
                 for _ in range(2000)]  # fmt: skip
    first = timed(lambda: [backend.tokens.check(p) for p in passwords]) / len(passwords)
    again = timed(lambda: [backend.tokens.check(p) for p in passwords]) / len(passwords)
    return first, again


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--blob-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-state-") as folder:
        path = Path(folder) / "state"
        build(path, args.images, args.blob_mib)
        rows: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for name, run in (
                ("open + close", lambda: open_close(path)),
                ("check_database (part of open)", lambda: check_database(path)),
                ("sha256 of every blob file (floor)", lambda: hash_all(path)),
                ("ecr-mock check (inspect)", lambda: inspect(path)),
            ):
                rows.setdefault(name, []).append(timed(run))
            rows.setdefault("verify every blob", []).append(verify_all(path))
        first, again = tokens()
        size = sum(f.stat().st_size for f in (path / "blobs").rglob("*") if f.is_file())
    print(f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.images} images, {size / (1 << 20):.0f} MiB of blobs, medians of {args.rounds}")
    medians = {name: statistics.median(values) for name, values in rows.items()}
    for name, value in medians.items():
        print(f"| {name} | {value * 1000:.0f} ms |")
    print(
        f"| check_database / open | {medians['check_database (part of open)'] / medians['open + close']:.2f} |"
    )
    print(
        f"| verify / sha256 floor | {medians['verify every blob'] / medians['sha256 of every blob file (floor)']:.2f} |"
    )
    print(f"| token check, first (signature) | {first * 1e6:.1f} us |")
    print(f"| token check, again (cached) | {again * 1e6:.1f} us |")


if __name__ == "__main__":
    main()
