"""Would an HTTP/1.1 engine of our own on h11 beat werkzeug's request parsing that ecr-mock uses?

Run by hand: ``python bench/bench_http_engine.py [--requests 2000]``. Measures, in one run:

1. the whole cost of one small request on a kept-alive connection to the live server
   (``GET /ecr-mock/health``, ``POST /`` DescribeRepositories), as a client sees it;
2. what parsing that request's line and headers costs with what the server uses now (the
   standard library's ``http.client.parse_headers``, which werkzeug's handler calls) and with
   h11 (``h11.Connection`` fed the same bytes), in the same process.

The share of (2) in (1) bounds what a faster parser could save per request.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import statistics
import time

import h11

from ecr_mock import Backend
from ecr_mock.runtime.http import serve_backend

REQUEST = (
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nAccept-Encoding: identity\r\n"
    b"X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.DescribeRepositories\r\n"
    b"Content-Type: application/x-amz-json-1.1\r\nUser-Agent: Boto3/1.44.8 md/Botocore#1.44.8\r\n"
    b"X-Amz-Date: 20260101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIA/20260101/"
    b"us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=abc\r\n"
    b"Content-Length: 2\r\n\r\n{}"
)


def parse_stdlib(data: bytes) -> None:
    """The request line and headers as the server's handler parses them now."""
    stream = io.BytesIO(data)
    line = stream.readline(65537).decode("iso-8859-1").rstrip("\r\n")
    line.split()
    http.client.parse_headers(stream)


def parse_h11(data: bytes) -> None:
    """The request line, headers and body as an h11 engine would parse them."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA or isinstance(event, h11.EndOfMessage):
            break


def parse_us(blocks: int, per_block: int = 200) -> dict[str, float]:
    """Median microseconds per parse, the two parsers in alternating blocks (so load changes on
    a shared machine hit both alike)."""
    samples: dict[str, list[float]] = {"stdlib": [], "h11": []}
    for _ in range(blocks):
        for name, func in (("stdlib", parse_stdlib), ("h11", parse_h11)):
            start = time.perf_counter()
            for _ in range(per_block):
                func(REQUEST)
            samples[name].append((time.perf_counter() - start) / per_block * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def round_trip_us(count: int) -> dict[str, float]:
    """Median microseconds of small requests on one kept-alive connection to the server."""
    with serve_backend(Backend()) as server:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
        results: dict[str, list[float]] = {"health": [], "describe": []}
        headers = {
            "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
            "Content-Type": "application/x-amz-json-1.1",
        }
        for _ in range(count):
            start = time.perf_counter()
            conn.request("GET", "/ecr-mock/health")
            conn.getresponse().read()
            results["health"].append((time.perf_counter() - start) * 1e6)
            start = time.perf_counter()
            conn.request("POST", "/", body=json.dumps({}), headers=headers)
            conn.getresponse().read()
            results["describe"].append((time.perf_counter() - start) * 1e6)
        conn.close()
    return {name: statistics.median(values) for name, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--smoke", action="store_true", help="a few requests, to check it runs")
    args = parser.parse_args()
    count = 20 if args.smoke else args.requests
    trips = round_trip_us(count)
    parsed = parse_us(3 if args.smoke else 51)
    stdlib, ours = parsed["stdlib"], parsed["h11"]
    print("| measure | median (us) |")
    print("| --- | --- |")
    print(f"| GET /ecr-mock/health, kept-alive round trip | {trips['health']:.0f} |")
    print(f"| POST / DescribeRepositories, kept-alive round trip | {trips['describe']:.0f} |")
    print(f"| parse line + headers, standard library (werkzeug's handler) | {stdlib:.1f} |")
    print(f"| parse line + headers + body, h11 | {ours:.1f} |")
    print(
        f"| parsing's share of the health round trip, standard library | "
        f"{stdlib / trips['health']:.1%} |"
    )
    print(f"| h11 / standard library parse time | {ours / stdlib:.2f} |")


if __name__ == "__main__":
    main()
