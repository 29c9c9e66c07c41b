"""Seeds stream image layers into the blob store: a ``docker save`` ``.tar.gz`` holding a 512 MiB
layer raises a served process's peak memory by far less than the layer, the layer is served
whole, kept as a file in a state directory, and a layer past the limit is refused by name."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import requests

from tests.test_cli import clean_env, start_serve

MIB = 1024 * 1024
BIG = 512 * MIB


class Zeros(io.RawIOBase):
    """``size`` zero bytes, read in chunks (the archive is written without holding them)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


def zeros_digest(size: int) -> str:
    hasher = hashlib.sha256()
    chunk = bytes(MIB)
    for _ in range(size // MIB):
        hasher.update(chunk)
    return "sha256:" + hasher.hexdigest()


def docker_save(path: Path, layer_size: int) -> None:
    """A ``docker save`` archive (the form before docker 25), gzipped: one layer of zeros."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {}}).encode()
    manifest = json.dumps(
        [{"Config": "config.json", "RepoTags": ["big:1"], "Layers": ["layer/layer.tar"]}]
    ).encode()
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, data in (("manifest.json", manifest), ("config.json", config)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("layer/layer.tar")
        info.size = layer_size
        tar.addfile(info, io.BufferedReader(Zeros(layer_size), MIB))


def seed_of(tmp_path: Path, archive: Path) -> Path:
    seed = tmp_path / f"{archive.stem}.json"
    doc = {
        "repositories": [
            {"name": "big", "images": [{"dockerArchive": archive.name, "tags": ["1"]}]}
        ]
    }
    seed.write_text(json.dumps(doc))
    return seed


def peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def served(tmp_path: Path, seed: Path, *extra: str) -> dict[str, Any]:
    """Start with ``seed``, note the peak RSS, pull the layer through /v2/, stop."""
    process, url, _ = start_serve(tmp_path, "--port", "0", "--quiet", "--seed", str(seed), *extra)
    try:
        peak_after_seed = peak_kib(process.pid)
        password = requests.post(
            f"{url}/ecr-mock/tokens", json={"principal_arn": "123456789012"}, timeout=30
        ).json()["password"]
        auth = ("AWS", password)
        manifest = requests.get(
            f"{url}/v2/big/manifests/1",
            auth=auth,
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
            timeout=60,
        ).json()
        layer = manifest["layers"][0]
        hasher = hashlib.sha256()
        with requests.get(
            f"{url}/v2/big/blobs/{layer['digest']}", auth=auth, stream=True, timeout=300
        ) as answer:
            for chunk in answer.iter_content(MIB):
                hasher.update(chunk)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=120)
    return {"peak": peak_after_seed, "layer": layer, "pulled": "sha256:" + hasher.hexdigest()}


def test_a_512_mib_layer_seeds_with_peak_memory_far_below_its_size(tmp_path: Path) -> None:
    small, big = tmp_path / "small.tar.gz", tmp_path / "big.tar.gz"
    docker_save(small, MIB)
    docker_save(big, BIG)
    baseline = served(tmp_path, seed_of(tmp_path, small))
    seeded = served(tmp_path, seed_of(tmp_path, big))
    expected = zeros_digest(BIG)
    assert big.stat().st_size < 4 * MIB  # 512 MiB of zeros compresses to almost nothing
    assert seeded["layer"]["size"] == BIG and seeded["layer"]["digest"] == expected
    assert seeded["pulled"] == expected
    assert baseline["pulled"] == zeros_digest(MIB)
    grown = (seeded["peak"] - baseline["peak"]) * 1024
    assert grown < 64 * MIB, (baseline["peak"], seeded["peak"])


def test_a_seeded_layer_is_a_file_of_the_state_directory(tmp_path: Path) -> None:
    archive = tmp_path / "mid.tar.gz"
    docker_save(archive, 64 * MIB)
    state = tmp_path / "state"
    first = served(tmp_path, seed_of(tmp_path, archive), "--state-dir", str(state))
    expected = zeros_digest(64 * MIB)
    blob_file = state / "blobs" / "sha256" / expected.split(":")[1]
    again = served(tmp_path, seed_of(tmp_path, archive), "--state-dir", str(state))
    assert first["pulled"] == again["pulled"] == expected
    assert blob_file.stat().st_size == 64 * MIB
    assert list((state / "tmp").iterdir()) == []


def test_a_layer_past_the_limit_is_refused_naming_it(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    huge = "a" * 64
    with open(blobs / huge, "wb") as sparse:  # 53,000 MiB, taking no space
        sparse.truncate(53_000 * MIB)
    config = b"{}"
    config_digest = hashlib.sha256(config).hexdigest()
    (blobs / config_digest).write_bytes(config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": f"sha256:{config_digest}",
                "size": 2,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": f"sha256:{huge}",
                    "size": 53_000 * MIB,
                }
            ],
        }
    ).encode()
    manifest_digest = hashlib.sha256(manifest).hexdigest()
    (blobs / manifest_digest).write_bytes(manifest)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": f"sha256:{manifest_digest}",
                "size": len(manifest),
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps({"repositories": [{"name": "huge", "images": [{"ociLayout": "layout"}]}]})
    )
    result = subprocess.run(
        [sys.executable, "-m", "ecr_mock", "serve", "--port", "0", "--seed", str(seed)],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "repositories[0].images[0].ociLayout" in result.stderr
    assert "more than the 54525952000 a seed layer may have (52000 MiB" in result.stderr
    assert "Traceback" not in result.stderr
    assert os.path.getsize(blobs / huge) == 53_000 * MIB  # the source is left as it was
