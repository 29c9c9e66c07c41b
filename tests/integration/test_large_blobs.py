"""Large blobs over a real socket: spilled to a file, sent back whole and by range."""

from __future__ import annotations

import hashlib
import os

import requests

from tests.support.live import Live


def test_a_spilled_blob_downloads_whole_and_by_range_over_the_socket(live: Live) -> None:
    live.client.create_repository(repositoryName="big")
    data = os.urandom(9 * 1024 * 1024 + 17)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    session = requests.Session()
    session.auth = ("AWS", live.password)
    base = f"{live.url}/v2/big/blobs"
    started = session.post(f"{base}/uploads/")
    assert started.status_code == 202
    location = started.headers["Location"]
    if location.startswith("/"):
        location = live.url + location
    joiner = "&" if "?" in location else "?"
    done = session.put(f"{location}{joiner}digest={digest}", data=data)
    assert done.status_code == 201
    reg = live.backend.registry()
    assert not reg.blobs[digest].in_memory
    whole = session.get(f"{base}/{digest}")
    assert whole.status_code == 200
    assert whole.headers["Content-Length"] == str(len(data))
    assert whole.content == data
    part = session.get(f"{base}/{digest}", headers={"Range": "bytes=5000000-5000099"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 5000000-5000099/{len(data)}"
    assert part.content == data[5000000:5000100]
    tail = session.get(f"{base}/{digest}", headers={"Range": f"bytes={len(data) - 10}-"})
    assert tail.content == data[-10:]
