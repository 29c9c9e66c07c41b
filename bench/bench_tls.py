"""Benchmark of ``serve --aws-hostnames``: CA creation, certificate issue, TLS against plain HTTP.

Run by hand: ``python bench/bench_tls.py``. Prints a markdown table of medians. The server runs
as ``python -m ecr_mock serve --aws-hostnames`` in its own process (so client and server do not
share an interpreter lock); CA creation and certificate issue are timed in this process.
"""

from __future__ import annotations

import http.client
import platform
import re
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ecr_mock.runtime.tls import CertificateAuthority

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
SMOKE = "--smoke" in sys.argv  # every part at tiny sizes, to prove the script works


def times(count: int) -> int:
    """``count`` samples, or 2 with ``--smoke``."""
    return 2 if SMOKE else count


def median_ms(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def tls_connection(port: int, context: ssl.SSLContext, name: str) -> http.client.HTTPConnection:
    class Connection(http.client.HTTPSConnection):
        def connect(self) -> None:
            raw = socket.create_connection(("127.0.0.1", port), timeout=30)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = context.wrap_socket(raw, server_hostname=name)

    return Connection(name, 443, context=context, timeout=30)


def get(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", "/v2/")
    response = connection.getresponse()
    response.read()
    if response.status != 401:
        raise RuntimeError(f"unexpected status {response.status}")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        counter = iter(range(1_000_000))
        create_ms = median_ms(lambda: CertificateAuthority(root / f"ca{next(counter)}"), times(20))
        ca = CertificateAuthority(root / "ca")
        issue_ms = median_ms(
            lambda: ca.issue(f"{next(counter)}.dkr.ecr.x.amazonaws.com"), times(100)
        )
        client_context = ssl.create_default_context(cafile=str(ca.cert_path))
        ca_args = ["--ca-dir", str(root / "ca")]
        server = subprocess.Popen(
            [sys.executable, "-m", "ecr_mock", "serve", "--aws-hostnames", "--port", "0", *ca_args],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        match = re.search(r"TLS on 127\.0\.0\.1:([0-9]+)", server.stdout.readline())
        if match is None:
            server.kill()
            raise SystemExit("ecr-mock serve did not start")
        port = int(match[1])
        try:
            get(tls_connection(port, client_context, REGISTRY))  # issue the registry's one

            def new_tls() -> None:
                connection = tls_connection(port, client_context, REGISTRY)
                get(connection)
                connection.close()

            def new_name() -> None:
                name = f"{next(counter):012d}.dkr.ecr.us-east-1.amazonaws.com"
                connection = tls_connection(port, client_context, name)
                get(connection)
                connection.close()

            def new_plain() -> None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                get(connection)
                connection.close()

            first_ms = median_ms(new_name, times(50))
            tls_ms = median_ms(new_tls, times(200))
            plain_ms = median_ms(new_plain, times(200))
            kept_tls = tls_connection(port, client_context, REGISTRY)
            kept_plain = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            kept_tls_ms = median_ms(lambda: get(kept_tls), times(500))
            kept_plain_ms = median_ms(lambda: get(kept_plain), times(500))
            kept_tls.close()
            kept_plain.close()
        finally:
            server.terminate()
            server.wait()
        ca.close()
    print(f"Python {platform.python_version()}, {ssl.OPENSSL_VERSION}\n")
    print("| measure (ms) | median |")
    print("|---|---|")
    print(f"| create a CA (key, certificate, files) | {create_ms:.2f} |")
    print(f"| issue a certificate for a new name | {issue_ms:.2f} |")
    print(f"| new TLS connection + GET /v2/, name seen before | {tls_ms:.2f} |")
    print(f"| new TLS connection + GET /v2/, name never seen (issue on the fly) | {first_ms:.2f} |")
    print(f"| new plain HTTP connection + GET /v2/ | {plain_ms:.2f} |")
    print(f"| GET /v2/ on a kept-alive TLS connection | {kept_tls_ms:.3f} |")
    print(f"| GET /v2/ on a kept-alive plain connection | {kept_plain_ms:.3f} |")


if __name__ == "__main__":
    main()
