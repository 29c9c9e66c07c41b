"""An upload in progress survives a restart of ``ecr-mock serve --state-dir`` (SIGTERM or
kill -9 between PATCHes): the client resumes where the server acknowledged."""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.integration.test_persistence_server import Served, serve


@pytest.fixture
def started() -> Iterator[list[Served]]:
    servers: list[Served] = []
    yield servers
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=30)


def _patch(session: requests.Session, url: str, data: bytes, start: int) -> requests.Response:
    return session.patch(
        url,
        data=data,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{start}-{start + len(data) - 1}",
        },
        timeout=60,
    )


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
@pytest.mark.parametrize("first_size", [70_000, 5 * 1024 * 1024], ids=["in-memory", "spilled"])
def test_a_client_resumes_its_patch_after_a_restart(
    tmp_path: Path, started: list[Served], stop: int, first_size: int
) -> None:
    state = tmp_path / "state"
    first, second = os.urandom(first_size), os.urandom(300_000)
    digest = "sha256:" + hashlib.sha256(first + second).hexdigest()

    server = serve(state)
    started.append(server)
    server.client().create_repository(repositoryName="web")
    password = server.password()
    session = requests.Session()
    session.auth = ("AWS", password)
    begun = session.post(f"{server.url}/v2/web/blobs/uploads/", timeout=30)
    assert begun.status_code == 202
    path = urlsplit(begun.headers["Location"]).path
    query = urlsplit(begun.headers["Location"]).query
    location = path + (f"?{query}" if query else "")
    patched = _patch(session, server.url + location, first, 0)
    assert patched.status_code == 202, patched.text
    assert patched.headers["Range"] == f"0-{first_size - 1}"
    server.stop(stop)

    again = serve(state)
    started.append(again)
    status = session.get(again.url + location, timeout=30)
    assert status.status_code == 204, status.text
    assert status.headers["Range"] == f"0-{first_size - 1}"
    resumed = _patch(session, again.url + urlsplit(status.headers["Location"]).path, second,
                     first_size)  # fmt: skip
    assert resumed.status_code == 202, resumed.text
    done = session.put(
        f"{again.url}{urlsplit(resumed.headers['Location']).path}", params={"digest": digest},
        timeout=60,
    )  # fmt: skip
    assert done.status_code == 201, done.text
    pulled = session.get(f"{again.url}/v2/web/blobs/{digest}", timeout=60)
    assert pulled.status_code == 200
    assert pulled.content == first + second
    assert again.stop() == 0
    assert not list((state / "uploads").glob("*")), "a finished upload leaves nothing behind"


def test_an_upload_of_a_deleted_repository_is_not_restored(
    tmp_path: Path, started: list[Served]
) -> None:
    state = tmp_path / "state"
    server = serve(state)
    started.append(server)
    server.client().create_repository(repositoryName="web")
    session = requests.Session()
    session.auth = ("AWS", server.password())
    begun = session.post(f"{server.url}/v2/web/blobs/uploads/", timeout=30)
    location = urlsplit(begun.headers["Location"]).path
    assert _patch(session, server.url + location, b"abc", 0).status_code == 202
    server.client().delete_repository(repositoryName="web", force=True)
    server.stop(signal.SIGKILL)
    again = serve(state)
    started.append(again)
    again.client().create_repository(repositoryName="web")
    gone = session.get(again.url + location, timeout=30)
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
