"""Peak memory of one 256 MiB blob PUT and GET through ``requests`` in-process (``mock_ecr``):
how many times the blob is held at once. Run: ``python bench/bench_requests_memory.py [MiB]``
(``--smoke``: 1 MiB, it works).

Each case runs in a fresh interpreter; tracemalloc's peak (Python allocations, where the
bytes of a body live) is taken around the one request and divided by the blob's size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

CASE = r"""
import base64, hashlib, json, os, sys, tracemalloc
import boto3, requests
from ecr_mock import mock_ecr

size, case, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with mock_ecr() as backend:
    ecr = boto3.client("ecr", region_name="us-east-1")
    ecr.create_repository(repositoryName="big")
    data = ecr.get_authorization_token()["authorizationData"][0]
    auth = tuple(base64.b64decode(data["authorizationToken"]).decode().split(":", 1))
    registry = data["proxyEndpoint"]
    digest = "sha256:" + hashlib.sha256(open(path, "rb").read()).hexdigest()
    def put():
        start = requests.post(f"{registry}/v2/big/blobs/uploads/", auth=auth, timeout=600)
        location = start.headers["Location"]
        if location.startswith("/"):
            location = registry + location
        sep = "&" if "?" in location else "?"
        with open(path, "rb") as body:
            done = requests.put(f"{location}{sep}digest={digest}", data=body, auth=auth,
                                headers={"Content-Type": "application/octet-stream"}, timeout=600)
        assert done.status_code == 201, done.text
    if case != "put":
        put()
    tracemalloc.start()
    tracemalloc.reset_peak()
    if case == "put":
        put()
    elif case == "get":
        got = requests.get(f"{registry}/v2/big/blobs/{digest}", auth=auth, timeout=600)
        assert len(got.content) == size
        del got
    else:  # get-stream
        got = requests.get(f"{registry}/v2/big/blobs/{digest}", auth=auth, timeout=600, stream=True)
        h = hashlib.sha256()
        for chunk in got.iter_content(1 << 20):
            h.update(chunk)
        assert "sha256:" + h.hexdigest() == digest
    _, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"case": case, "peak_ratio": round(peak / size, 2)}))
"""


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--smoke"]
    mib = 1 if "--smoke" in sys.argv[1:] else int(args[0]) if args else 256
    size = mib * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "blob")
        with open(path, "wb") as out:
            for _ in range(mib):
                out.write(os.urandom(1024 * 1024))
        for case in ("put", "get", "get-stream"):
            done = subprocess.run(
                [sys.executable, "-c", CASE, str(size), case, path],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{mib} MiB {case}: peak {result['peak_ratio']} x the blob")


if __name__ == "__main__":
    main()
