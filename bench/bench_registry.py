"""Benchmark of the /v2/ registry against the CNCF distribution registry, both driven by skopeo.

Run by hand: ``python bench/bench_registry.py [--big-mib 512] [--small-count 200]
[--reference-tls]``. Needs skopeo and ``docker-registry`` (Debian package). Both servers run on
loopback in subprocesses; the ecr-mock server's peak resident memory is read from
``/proc/<pid>/status`` (VmHWM). skopeo tries HTTPS first, and ecr-mock's port answers TLS, so
skopeo speaks TLS to ecr-mock; ``--reference-tls`` gives the reference registry a certificate
too, so both sides are measured over TLS.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    """Block until something listens on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def write_blob(layout: Path, data_chunks: list[bytes] | None = None, size: int = 0) -> dict:
    """Write a blob into an OCI layout (random bytes of ``size`` or the given chunks)."""
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    tmp = blobs / "tmp"
    hasher = hashlib.sha256()
    written = 0
    with tmp.open("wb") as out:
        if data_chunks is not None:
            for chunk in data_chunks:
                hasher.update(chunk)
                out.write(chunk)
                written += len(chunk)
        else:
            while written < size:
                chunk = os.urandom(min(8 << 20, size - written))
                hasher.update(chunk)
                out.write(chunk)
                written += len(chunk)
    digest = hasher.hexdigest()
    tmp.rename(blobs / digest)
    return {"digest": f"sha256:{digest}", "size": written}


def make_layout(path: Path, layer_sizes: list[int]) -> None:
    """An OCI image layout holding one image with layers of the given sizes (random bytes)."""
    path.mkdir(parents=True)
    (path / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    layers = []
    for size in layer_sizes:
        desc = write_blob(path, size=size)
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", **desc})
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]},
        }
    ).encode()
    config_desc = write_blob(path, data_chunks=[config])
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
            "layers": layers,
        }
    ).encode()
    manifest_desc = write_blob(path, data_chunks=[manifest])
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **manifest_desc,
                "annotations": {"org.opencontainers.image.ref.name": "bench"},
            }
        ],
    }
    (path / "index.json").write_text(json.dumps(index))


def skopeo_copy(src: str, dest: str, creds: str | None, *, push: bool) -> float:
    """Seconds one ``skopeo copy`` takes."""
    cmd = ["skopeo", "copy", "--preserve-digests", "--quiet"]
    if push:
        cmd += ["--dest-tls-verify=false"]
        if creds:
            cmd += ["--dest-creds", creds]
    else:
        cmd += ["--src-tls-verify=false"]
        if creds:
            cmd += ["--src-creds", creds]
    start = time.perf_counter()
    subprocess.run([*cmd, src, dest], check=True, capture_output=True)
    return time.perf_counter() - start


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def certificate(work: Path) -> tuple[Path, Path]:
    """A certificate and key for localhost and 127.0.0.1, from ecr-mock's own local CA in
    ``work`` (the reference registry's, with ``--reference-tls``)."""
    from ecr_mock.runtime.tls import CertificateAuthority

    cert_pem, key_pem = CertificateAuthority(work / "ca").issue("localhost")
    cert_file, key_file = work / "ref.crt", work / "ref.key"
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(key_pem)
    return cert_file, key_file


def start_reference(work: Path, tls: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    """The distribution registry on a free loopback port (over TLS with ``tls``)."""
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    config = work / "registry.yml"
    tls_config = ""
    if tls:
        cert_file, key_file = certificate(work)
        tls_config = f"  tls:\n    certificate: {cert_file}\n    key: {key_file}\n"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {work / 'refstore'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n{tls_config}"
    )
    proc = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    return proc, f"127.0.0.1:{port}"


def start_ecr_mock() -> tuple[subprocess.Popen[bytes], str]:
    """``ecr-mock serve`` on a free loopback port."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecr_mock", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    return proc, f"127.0.0.1:{port}"


def ecr_login(endpoint: str, repos: list[str]) -> str:
    """Create the repositories and return ``AWS:<password>``."""
    client = boto3.client(
        "ecr",
        region_name="us-east-1",
        endpoint_url=f"http://{endpoint}",
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )
    for repo in repos:
        client.create_repository(repositoryName=repo)
    token = client.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    return base64.b64decode(token).decode()


def run(big_mib: int, small_count: int, rounds: int, reference_tls: bool = False) -> None:
    """Measure and print a markdown table."""
    work = Path(tempfile.mkdtemp(prefix="ecr-mock-bench-"))
    try:
        big = work / "big"
        small = work / "small"
        make_layout(big, [big_mib << 20])
        make_layout(small, [64 << 10] * small_count)
        results: dict[str, dict[str, list[float]]] = {"reference": {}, "ecr_mock": {}}
        peaks: list[float] = []
        for round_no in range(rounds):
            for name in ("reference", "ecr_mock"):
                if name == "reference":
                    proc, endpoint = start_reference(work / f"ref{round_no}", reference_tls)
                    creds = None
                else:
                    proc, endpoint = start_ecr_mock()
                    creds = ecr_login(endpoint, ["big", "small"])
                try:
                    push_big = skopeo_copy(
                        f"oci:{big}:bench", f"docker://{endpoint}/big:bench", creds, push=True
                    )
                    out = work / f"pull-{name}-{round_no}"
                    pull_big = skopeo_copy(
                        f"docker://{endpoint}/big:bench", f"oci:{out}:bench", creds, push=False
                    )
                    shutil.rmtree(out, ignore_errors=True)
                    push_small = skopeo_copy(
                        f"oci:{small}:bench", f"docker://{endpoint}/small:bench", creds, push=True
                    )
                    if name == "ecr_mock":
                        peaks.append(peak_rss_mib(proc.pid))
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
                for key, value in (
                    ("push_big", push_big),
                    ("pull_big", pull_big),
                    ("push_small", push_small),
                ):
                    results[name].setdefault(key, []).append(value)
            shutil.rmtree(work / f"ref{round_no}", ignore_errors=True)
        med = {n: {k: statistics.median(v) for k, v in r.items()} for n, r in results.items()}
        mb = (big_mib << 20) / 1e6
        print(
            f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; {rounds} rounds, medians; reference over "
            f"{'TLS' if reference_tls else 'plain HTTP'}, ecr-mock over TLS"
        )
        print()
        print("| measure | reference | ecr_mock | ratio (ecr_mock / reference) |")
        print("|---|---|---|---|")
        for key, label in (("push_big", "push"), ("pull_big", "pull")):
            ref_tp = mb / med["reference"][key]
            our_tp = mb / med["ecr_mock"][key]
            print(
                f"| {big_mib} MiB layer {label} throughput (MB/s) | {ref_tp:.0f} | {our_tp:.0f} "
                f"| {our_tp / ref_tp:.2f} |"
            )
        print(
            f"| {small_count} layers of 64 KiB, push time (s) | "
            f"{med['reference']['push_small']:.2f} | {med['ecr_mock']['push_small']:.2f} | "
            f"{med['ecr_mock']['push_small'] / med['reference']['push_small']:.2f} |"
        )
        print(
            f"| ecr-mock server peak RSS over the round (MiB) | | "
            f"{statistics.median(peaks):.0f} | |"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--big-mib", type=int, default=512)
    parser.add_argument("--small-count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--reference-tls", action="store_true", help="serve the reference registry over TLS too"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one round: it works")
    args = parser.parse_args()
    if args.smoke:
        args.big_mib, args.small_count, args.rounds = 1, 2, 1
    for tool in ("skopeo", "docker-registry"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed")
    run(args.big_mib, args.small_count, args.rounds, args.reference_tls)


if __name__ == "__main__":
    main()
