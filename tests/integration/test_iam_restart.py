"""Identities created through the server's IAM survive a restart of ``serve --state-dir``."""

from __future__ import annotations

import json
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.integration.test_persistence_server import Served, serve

DESCRIBE_ONLY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:DescribeRepositories", "Resource": "*"}],
    }
)


@pytest.fixture
def started() -> Iterator[list[Served]]:
    servers: list[Served] = []
    yield servers
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=30)


def _client(server: Served, service: str, key: str = "AKIAEXAMPLE", secret: str = "x") -> object:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_users_roles_policies_and_access_keys_survive_a_restart(
    tmp_path: Path, started: list[Served], stop: int
) -> None:
    state = tmp_path / "state"
    server = serve(state)
    started.append(server)
    iam: object = _client(server, "iam")
    iam.create_user(UserName="reader")  # type: ignore[attr-defined]
    policy = iam.create_policy(PolicyName="describe-only", PolicyDocument=DESCRIBE_ONLY)  # type: ignore[attr-defined]
    iam.attach_user_policy(UserName="reader", PolicyArn=policy["Policy"]["Arn"])  # type: ignore[attr-defined]
    key = iam.create_access_key(UserName="reader")["AccessKey"]  # type: ignore[attr-defined]
    iam.create_role(RoleName="deployer", AssumeRolePolicyDocument="{}")  # type: ignore[attr-defined]
    server.stop(stop)
    assert stat.S_IMODE((state / "iam.pickle").stat().st_mode) == 0o600

    again = serve(state)
    started.append(again)
    iam = _client(again, "iam")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["reader"]  # type: ignore[attr-defined]
    assert "deployer" in [r["RoleName"] for r in iam.list_roles()["Roles"]]  # type: ignore[attr-defined]
    ecr: object = _client(again, "ecr", key["AccessKeyId"], key["SecretAccessKey"])
    assert ecr.describe_repositories()["repositories"] == []  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as refused:
        ecr.create_repository(repositoryName="web")  # type: ignore[attr-defined]
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert ":user/reader" in error["Message"]
    assert again.stop() == 0
    assert again.process.stderr is not None
    log = again.process.stderr.read()
    assert "restored the IAM identities of 1 account(s)" in log
    assert "not kept: STS temporary credentials" in log
