"""Load benchmark of ``ecr-mock serve``: concurrent skopeo pushes, idle keep-alive connections,
and API throughput with several boto3 clients against ``moto_server``.

Run by hand: ``python bench/bench_load.py [pushes] [idle] [clients]`` (all three by default;
``--smoke`` runs each tiny, in seconds). Needs skopeo for ``pushes`` and moto's ``moto_server``
for ``clients``. Servers run on loopback ports chosen by the system; every figure is a median
of ``--rounds`` rounds and ratios are taken within one round.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_registry import ecr_login, free_port, make_layout, start_ecr_mock, wait_port

# ----- concurrent skopeo pushes ---------------------------------------------------------------


def skopeo_push(layout: Path, endpoint: str, repo: str, creds: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--dest-creds",
            creds,
            f"oci:{layout}:bench",
            f"docker://{endpoint}/{repo}:bench",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def pushes_round(work: Path, count: int) -> dict[str, float]:
    """Seconds for one push alone, then for ``count`` distinct images pushed at once."""
    layouts = []
    for i in range(count + 1):
        layout = work / f"img{i}"
        if not layout.exists():
            make_layout(layout, [32 << 10, 16 << 10])  # random bytes: every image distinct
        layouts.append(layout)
    proc, endpoint = start_ecr_mock()
    try:
        creds = ecr_login(endpoint, [f"push{i}" for i in range(count + 1)])
        start = time.perf_counter()
        alone = skopeo_push(layouts[count], endpoint, f"push{count}", creds)
        failures = int(alone.wait() != 0)
        single = time.perf_counter() - start
        start = time.perf_counter()
        running = [skopeo_push(layouts[i], endpoint, f"push{i}", creds) for i in range(count)]
        errors = []
        for p in running:
            if p.wait() != 0:
                errors.append(p.stderr.read().decode()[-300:] if p.stderr else "")
        together = time.perf_counter() - start
        for p in running:
            if p.stderr:
                p.stderr.close()
        if errors:
            print(f"push failures: {len(errors)}; first: {errors[0]}", file=sys.stderr)
        return {
            "single": single,
            "together": together,
            "failures": float(failures + len(errors)),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# ----- idle keep-alive connections ------------------------------------------------------------


def _active_rps(port: int, seconds: float) -> float:
    """Requests a second one keep-alive client gets from ``GET /v2/`` (a 401 answer)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    done = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        conn.request("GET", "/v2/")
        response = conn.getresponse()
        response.read()
        done += 1
    conn.close()
    return done / (time.perf_counter() - start)


def _open_idle(port: int, count: int) -> list[socket.socket]:
    """``count`` connections that each had one answer and stay open, idle."""
    request = b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
    idle = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.sendall(request)
        idle.append(sock)
    for sock in idle:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("an idle connection was closed before its answer")
            data += chunk
    return idle


def idle_round(count: int, seconds: float) -> dict[str, float]:
    """The active client's throughput with no idle connection, then with ``count`` open."""
    proc, endpoint = start_ecr_mock()
    port = int(endpoint.rsplit(":", 1)[1])
    try:
        _active_rps(port, 1.0)  # warm
        alone = _active_rps(port, seconds)
        idle = _open_idle(port, count)
        try:
            crowded = _active_rps(port, seconds)
            still_open = sum(1 for s in idle if _is_open(s))
        finally:
            for sock in idle:
                sock.close()
        alone = (alone + _active_rps(port, seconds)) / 2  # before and after: load drifts
        return {"alone": alone, "crowded": crowded, "still_open": float(still_open)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _is_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


# ----- API throughput with several boto3 clients ----------------------------------------------


def _client_loop(args: tuple[str, int, float, Any]) -> int:
    endpoint, index, seconds, start_at = args
    import boto3

    client = boto3.client(
        "ecr",
        region_name="us-east-1",
        endpoint_url=f"http://{endpoint}",
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )
    repo = f"load{index}"
    client.describe_repositories(repositoryNames=[repo])  # connect and warm before the clock
    while time.time() < start_at:
        time.sleep(0.01)
    done = 0
    deadline = max(start_at, time.time()) + seconds  # a late starter still runs its full time
    while time.time() < deadline:
        client.describe_repositories(repositoryNames=[repo])
        done += 1
    return done


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [shutil.which("moto_server") or "moto_server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    return proc, f"127.0.0.1:{port}"


def clients_round(counts: list[int], seconds: float) -> dict[str, float]:
    """Calls a second (DescribeRepositories) with each count of client processes, per server."""
    results: dict[str, float] = {}
    for server, start in (("ecr_mock", start_ecr_mock), ("moto", start_moto)):
        proc, endpoint = start()
        try:
            ecr_login(endpoint, [f"load{i}" for i in range(max(counts))])
            for count in counts:
                with multiprocessing.get_context("spawn").Pool(count) as pool:
                    start_at = time.time() + 5.0 + 1.0 * count  # every client is up and warm
                    jobs = [(endpoint, i, seconds, start_at) for i in range(count)]
                    done = sum(pool.map(_client_loop, jobs))
                results[f"{server}@{count}"] = done / seconds
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return results


# ----- report ---------------------------------------------------------------------------------


def median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("parts", nargs="*", default=["pushes", "idle", "clients"])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = 1 if args.smoke else args.rounds
    pushes, idle, seconds = (3, 20, 1.0) if args.smoke else (50, 1000, 5.0)
    counts = [1, 2] if args.smoke else [1, 4, 16]
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {rounds} round(s), medians; "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| measure | value | ratio |")
    print("|---|---|---|")
    if "pushes" in args.parts:
        if shutil.which("skopeo") is None:
            print("| concurrent pushes | skopeo is not installed | |")
        else:
            work = Path(tempfile.mkdtemp(prefix="ecr-mock-load-"))
            try:
                med = median_of([pushes_round(work, pushes) for _ in range(rounds)])
            finally:
                shutil.rmtree(work, ignore_errors=True)
            print(f"| one skopeo push alone (s) | {med['single']:.2f} | |")
            print(
                f"| {pushes} distinct images pushed at once by skopeo (s) | {med['together']:.2f} "
                f"| {med['together'] / med['single']:.1f} x one push |"
            )
            print(f"| failed pushes | {med['failures']:.0f} | |")
    if "idle" in args.parts:
        med = median_of([idle_round(idle, seconds) for _ in range(rounds)])
        print(f"| one keep-alive client, no idle connection (requests/s) | {med['alone']:.0f} | |")
        print(
            f"| the same with {idle} idle keep-alive connections open (requests/s) "
            f"| {med['crowded']:.0f} | {med['crowded'] / med['alone']:.2f} |"
        )
        print(f"| idle connections still open at the end | {med['still_open']:.0f} | |")
    if "clients" in args.parts:
        if shutil.which("moto_server") is None:
            print("| API throughput | moto_server is not installed | |")
        else:
            med = median_of([clients_round(counts, seconds) for _ in range(rounds)])
            for count in counts:
                ours, theirs = med[f"ecr_mock@{count}"], med[f"moto@{count}"]
                print(
                    f"| DescribeRepositories calls/s, {count} boto3 client process(es): "
                    f"ecr-mock serve / moto_server | {ours:.0f} / {theirs:.0f} "
                    f"| {ours / theirs:.2f} |"
                )
    print(f"\nload average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
