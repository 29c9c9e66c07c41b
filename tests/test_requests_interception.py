"""``requests`` to registry hosts inside ``mock_ecr`` (a ``responses`` mock): served beside
moto's ``mock_aws`` and a user's ``responses`` mock in either nesting order, streamed, and
nothing of a body kept afterwards."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from typing import Any

import boto3
import pytest
import requests
import responses

from ecr_mock import mock_ecr
from examples.push_and_pull_requests import push_blob, registry_session

moto = pytest.importorskip("moto", reason="moto comes with the aws extra")


def _login() -> tuple[str, requests.Session]:
    return registry_session(boto3.client("ecr", region_name="us-east-1"))


def _moto() -> AbstractContextManager[Any]:
    return moto.mock_aws()


def _user_responses() -> AbstractContextManager[Any]:
    """``responses``' own mock, as ``@responses.activate`` starts it."""
    responses.mock.add(responses.GET, "https://example.test/hello", body=b"hi from the user's mock")
    return responses.mock


ORDERS: list[tuple[str, list[Callable[[], AbstractContextManager[Any]]]]] = [
    ("ecr-outside-moto", [mock_ecr, _moto]),
    ("moto-outside-ecr", [_moto, mock_ecr]),
    ("ecr-outside-responses", [mock_ecr, _user_responses]),
    ("responses-outside-ecr", [_user_responses, mock_ecr]),
]


@pytest.mark.parametrize("order", [o[1] for o in ORDERS], ids=[o[0] for o in ORDERS])
def test_registry_requests_reach_ecr_mock_in_either_nesting_order(
    order: list[Callable[[], AbstractContextManager[Any]]],
) -> None:
    with ExitStack() as stack:
        for make in order:
            stack.enter_context(make())
        boto3.client("ecr", region_name="us-east-1").create_repository(repositoryName="app")
        registry, session = _login()
        assert session.get(f"{registry}/v2/").status_code == 200
        digest = push_blob(session, registry, "app", b"layer bytes")
        got = session.get(f"{registry}/v2/app/blobs/{digest}")
        assert (got.status_code, got.content) == (200, b"layer bytes")
        if _moto in order:  # moto still answers its own services' URLs through requests
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket="artifacts")
            s3.put_object(Bucket="artifacts", Key="k", Body=b"from moto")
            url = s3.generate_presigned_url(
                "get_object", Params={"Bucket": "artifacts", "Key": "k"}
            )
            assert requests.get(url, timeout=30).content == b"from moto"
        else:  # the user's mock still answers its own URLs
            assert requests.get("https://example.test/hello", timeout=30).content == (
                b"hi from the user's mock"
            )


def test_after_the_mock_registry_hosts_are_not_answered() -> None:
    with mock_ecr():
        boto3.client("ecr", region_name="us-east-1").create_repository(repositoryName="app")
        registry, session = _login()
    with responses.RequestsMock() as guard:  # no network: an unanswered request is refused
        with pytest.raises(requests.ConnectionError):
            session.get(f"{registry}/v2/", timeout=5)
        assert len(guard.calls) == 1


def test_a_large_blob_streams_and_the_answer_is_exact() -> None:
    data = bytes(range(256)) * (24 * 1024 * 1024 // 256)  # 24 MiB: stored in a file
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with mock_ecr():
        boto3.client("ecr", region_name="us-east-1").create_repository(repositoryName="big")
        registry, session = _login()
        assert push_blob(session, registry, "big", data) == digest
        got = session.get(f"{registry}/v2/big/blobs/{digest}", stream=True)
        assert got.headers["Content-Length"] == str(len(data))
        chunks = list(got.iter_content(1024 * 1024))
        ranged = session.get(f"{registry}/v2/big/blobs/{digest}", headers={"Range": "bytes=5-9"})
    assert max(len(c) for c in chunks) <= 1024 * 1024
    assert hashlib.sha256(b"".join(chunks)).hexdigest() == digest.split(":")[1]
    assert (ranged.status_code, ranged.content) == (206, data[5:10])


def test_a_chunked_upload_from_a_generator_is_received_whole() -> None:
    parts = [b"a" * 70_000, b"b" * 5, b"c" * 131_072]
    data = b"".join(parts)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with mock_ecr():
        boto3.client("ecr", region_name="us-east-1").create_repository(repositoryName="app")
        registry, session = _login()
        started = session.post(f"{registry}/v2/app/blobs/uploads/")
        location = started.headers["Location"]
        if location.startswith("/"):
            location = registry + location
        sep = "&" if "?" in location else "?"
        done = session.put(f"{location}{sep}digest={digest}", data=iter(parts))
        got = session.get(f"{registry}/v2/app/blobs/{digest}")
    assert done.status_code == 201, done.text
    assert got.content == data


def test_a_user_responses_mock_records_no_registry_bodies_of_ours() -> None:
    with mock_ecr():
        boto3.client("ecr", region_name="us-east-1").create_repository(repositoryName="app")
        registry, session = _login()
        push_blob(session, registry, "app", b"x" * 1000)
        assert list(responses.mock.calls) == []
