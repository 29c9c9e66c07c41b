"""Which HTTP server should carry the ECR API and the registry: ecr-mock's own, waitress,
cheroot, or werkzeug's handler unmodified? Measured on correctness and blob throughput.

Run by hand: ``pip install waitress cheroot h11`` then ``python bench/bench_servers.py
[--mib 256] [--rounds 3]``. Each server runs the same WSGI application (``EcrMockApp``) in its
own process on loopback; curl pushes one blob monolithically and pulls it back; a few raw
requests check the HTTP/1.1 framing rules the registry depends on (h11 parses every answer).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
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

import h11

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_blobs import curl

SERVER = r"""
import json, sys, threading
from ecr_mock import Backend
from ecr_mock.protocols.registry.app import basic_auth_headers
from ecr_mock.runtime.http import EcrMockApp, EcrMockServer

kind = sys.argv[1]
backend = Backend()
backend.create_repository(backend.registry(backend.default_account, backend.default_region), "big")
auth = basic_auth_headers(backend)["Authorization"]
app = EcrMockApp(backend)
if kind == "ecr-mock":
    server = EcrMockServer(backend, port=0).start()
    port, serve = server.port, threading.Event().wait
elif kind == "waitress":
    from waitress.server import create_server
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    port, serve = server.effective_port, server.run
elif kind == "cheroot":
    from cheroot.wsgi import Server
    server = Server(("127.0.0.1", 0), app, numthreads=8)
    server.prepare()
    port, serve = server.bind_addr[1], server.serve
else:
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port, serve = server.port, server.serve_forever
print(json.dumps({"port": port, "auth": auth}), flush=True)
serve()
"""

KINDS = ("ecr-mock", "waitress", "cheroot", "werkzeug")


def start(kind: str) -> tuple[subprocess.Popen[str], int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, int(info["port"]), str(info["auth"])


def exchange(port: int, raw: bytes, method: str = "GET") -> tuple[int, dict[str, str], bool]:
    """Send ``raw``; (status, headers, answer well framed and the connection still usable)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        sock.sendall(raw)
        parser = h11.Connection(h11.CLIENT)
        parser.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        parser.send(h11.EndOfMessage())
        status, headers = 0, {}
        while True:
            event = parser.next_event()
            if event is h11.NEED_DATA:
                parser.receive_data(sock.recv(65536))
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode().lower(): v.decode() for k, v in event.headers}
            if isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
        if headers.get("connection", "").lower() == "close":
            return status, headers, True
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # the sentinel
        second = h11.Connection(h11.CLIENT)
        second.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
        second.send(h11.EndOfMessage())
        while True:
            event = second.next_event()
            if event is h11.NEED_DATA:
                second.receive_data(sock.recv(65536))
                continue
            if isinstance(event, h11.Response):
                return status, headers, event.status_code == 200
            if isinstance(event, h11.ConnectionClosed):
                return status, headers, False
    except (h11.RemoteProtocolError, OSError, ValueError):
        return 0, {}, False
    finally:
        sock.close()


def checks(port: int, auth: str) -> dict[str, bool]:
    """The framing rules a registry client needs; True where the server gets it right."""

    def upload() -> str:
        _, headers, _ = exchange(
            port,
            f"POST /v2/big/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
            "Content-Length: 0\r\n\r\n".encode(),
            "POST",
        )
        return headers.get("location", "/none")

    def patch(extra: str, body: bytes) -> tuple[int, dict[str, str], bool]:
        location = upload()
        head = f"PATCH {location} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n{extra}\r\n"
        return exchange(port, head.encode() + body, "PATCH")

    ext = patch("Transfer-Encoding: chunked\r\n", b"3;a=b\r\nabc\r\n0\r\nX-T: 1\r\n\r\n")
    both = patch("Transfer-Encoding: chunked\r\nContent-Length: 2\r\n", b"5\r\nhello\r\n0\r\n\r\n")
    plus = patch("Content-Length: +3\r\n", b"abc")
    twice = patch("Content-Length: 3\r\nContent-Length: 5\r\n", b"abcde")
    out_of_order = patch("Content-Range: 9-11\r\nContent-Length: 3\r\n", b"abc")
    return {
        "chunk extensions and trailers accepted, connection kept": ext[0] == 202 and ext[2],
        "chunked + Content-Length: no silent truncation": both[0] in (202, 400)
        and both[1].get("range", "0-4") == "0-4"
        and both[1].get("connection", "") == "close",
        "Content-Length +3 refused with close": plus[0] == 400
        and plus[1].get("connection") == "close",
        "two Content-Length values refused with close": twice[0] == 400
        and twice[1].get("connection") == "close",
        "416 answer well framed (sentinel answered)": out_of_order[0] == 416 and out_of_order[2],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one round: it works")
    args = parser.parse_args()
    if args.smoke:
        args.mib, args.rounds = 1, 1
    if shutil.which("curl") is None:
        sys.exit("curl is not installed")
    for module in ("waitress", "cheroot"):
        if importlib.util.find_spec(module) is None:
            sys.exit(f"{module} is not installed")
    work = Path(tempfile.mkdtemp(prefix="ecr-mock-bench-"))
    blob = work / "blob.bin"
    hasher = hashlib.sha256()
    with blob.open("wb") as out:
        for _ in range(args.mib):
            chunk = os.urandom(1 << 20)
            hasher.update(chunk)
            out.write(chunk)
    digest = "sha256:" + hasher.hexdigest()
    mb = (args.mib << 20) / 1e6
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.mib} MiB blob, median of {args.rounds}"
    )
    print()
    print("| server | push MB/s | pull MB/s | framing checks passed |")
    print("|---|---|---|---|")
    for kind in KINDS:
        pushes, pulls = [], []
        passed: dict[str, bool] = {}
        for _ in range(args.rounds):
            proc, port, auth = start(kind)
            try:
                user_pass = ["-H", f"Authorization: {auth}"]
                base = f"http://127.0.0.1:{port}/v2/big/blobs"
                pushes.append(
                    curl(
                        [
                            *user_pass,
                            "--data-binary",
                            f"@{blob}",
                            "-H",
                            "Content-Type: application/octet-stream",
                            f"{base}/uploads/?digest={digest}",
                        ]
                    )
                )
                pulls.append(curl([*user_pass, f"{base}/{digest}"]))
                passed = checks(port, auth)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        ok = sum(passed.values())
        print(
            f"| {kind} | {mb / statistics.median(pushes):.0f} | "
            f"{mb / statistics.median(pulls):.0f} | {ok} of {len(passed)} |"
        )
        for name, result in passed.items():
            if not result:
                print(f"|   fails: {name} | | | |")
    blob.unlink()
    work.rmdir()


if __name__ == "__main__":
    time.sleep(0)
    main()
