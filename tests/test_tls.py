"""The local CA, ``ecr-mock ca`` / ``hosts``, and a server answering TLS as AWS host names."""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import ssl
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

pytest.importorskip("cryptography", reason="the tls extra: pip install 'ecr-mock[tls]'")

from ecr_mock import Backend
from ecr_mock.cli import main
from ecr_mock.domain.names import REGISTRY_HOST_RE, region_of_registry_host
from ecr_mock.runtime.http import EcrMockServer
from ecr_mock.runtime.tls import CertificateAuthority, TlsSetupError, is_issuable_name

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


# ----- the CA on disk ------------------------------------------------------------------------


def test_ca_is_created_with_a_private_key_and_reused(tmp_path: Path) -> None:
    ca_dir = tmp_path / "ca"
    first = CertificateAuthority(ca_dir)
    assert first.cert_path == ca_dir / "ca.crt"
    assert stat.S_IMODE(os.stat(first.key_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(ca_dir).st_mode) == 0o700
    assert first.cert_pem().startswith(b"-----BEGIN CERTIFICATE-----")
    key_before = first.key_path.read_bytes()
    second = CertificateAuthority(ca_dir)
    assert second.cert_pem() == first.cert_pem()
    assert second.key_path.read_bytes() == key_before


def test_ca_in_a_directory_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(TlsSetupError, match=r"cannot be created or written .*--ca-dir"):
        CertificateAuthority(blocker / "ca")


def test_ca_command_prints_the_certificate_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ca", "--ca-dir", str(tmp_path / "ca")]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == str(tmp_path / "ca" / "ca.crt")
    assert Path(printed).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_ca_command_with_an_unwritable_directory_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("x")
    assert main(["ca", "--ca-dir", str(tmp_path / "a-file" / "ca")]) == 1
    err = capsys.readouterr().err
    assert "ecr-mock: the CA directory" in err
    assert "Traceback" not in err


def test_serve_without_cryptography_says_how_to_install_it(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['cryptography'] = None\n"
        "from ecr_mock.cli import main\n"
        f"sys.exit(main(['serve', '--aws-hostnames', '--port', '0', '--ca-dir', {str(tmp_path)!r}]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 1
    assert "pip install 'ecr-mock[tls]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_ca_dir_without_aws_hostnames_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "0", "--ca-dir", str(tmp_path)]) == 2
    assert "--ca-dir is used with --aws-hostnames" in capsys.readouterr().err


def test_issuable_names_are_aws_names_and_localhost() -> None:
    for name in (
        REGISTRY,
        "api.ecr.eu-west-1.amazonaws.com",
        "sts.amazonaws.com",
        "public.ecr.aws",
        "localhost",
    ):
        assert is_issuable_name(name)
    for name in ("example.org", "amazonaws.com", "evil.amazonaws.com.example.org", "-x.on.aws"):
        assert not is_issuable_name(name)


# ----- hosts-file lines ------------------------------------------------------------------------


def test_hosts_command_prints_every_name_of_each_registry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["hosts", "--account", "111122223333", "--region", "eu-west-1"]
    assert main([*argv, "--account", "123456789012", "--region", "us-east-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    entries = [line.split() for line in lines if not line.startswith("#")]
    assert {entry[0] for entry in entries} == {"127.0.0.1"}
    names = [name for entry in entries for name in entry[1:]]
    assert sorted(names) == sorted(
        [
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
            "api.ecr.eu-west-1.amazonaws.com",
            "ecr.eu-west-1.amazonaws.com",
            REGISTRY,
            "api.ecr.us-east-1.amazonaws.com",
            "ecr.us-east-1.amazonaws.com",
            "sts.amazonaws.com",
            "sts.eu-west-1.amazonaws.com",
            "sts.us-east-1.amazonaws.com",
            "iam.amazonaws.com",
        ]
    )
    assert any("inside a container" in line for line in lines if line.startswith("#"))


def test_hosts_command_with_another_address_and_fips_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["hosts", "--address", "10.0.0.5", "--fips"]) == 0
    out = capsys.readouterr().out
    entries = [line.split() for line in out.splitlines() if not line.startswith("#")]
    assert {entry[0] for entry in entries} == {"10.0.0.5"}
    names = {name for entry in entries for name in entry[1:]}
    assert {
        "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com",
        "123456789012.dkr-ecr.us-east-1.on.aws",
        "ecr-fips.us-east-1.amazonaws.com",
    } <= names
    assert "inside a container" not in out
    assert "public.ecr.aws" not in names


def test_hosts_command_names_ecr_public_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hosts", "--public"]) == 0
    entries = [line.split() for line in capsys.readouterr().out.splitlines() if line[:1] != "#"]
    assert ["127.0.0.1", "public.ecr.aws", "api.ecr-public.us-east-1.amazonaws.com"] in entries


def test_hosts_command_refuses_unpaired_accounts_and_regions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["hosts", "--account", "111122223333", "--account", "123456789012"]
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--region", "us-east-1", "--region", "eu-west-1", "--region", "eu-west-2"])
    assert exited.value.code == 2
    assert "one --region per --account" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "region"),
    [
        (REGISTRY, "us-east-1"),
        ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
        ("123456789012.dkr-ecr.eu-west-1.on.aws", "eu-west-1"),
        ("123456789012.dkr-ecr-fips.us-east-2.on.aws", "us-east-2"),
    ],
)
def test_registry_host_forms_name_their_region(host: str, region: str) -> None:
    match = REGISTRY_HOST_RE.fullmatch(host)
    assert match is not None
    assert (match["account"], region_of_registry_host(match)) == ("123456789012", region)


# ----- a server answering as AWS ---------------------------------------------------------------


@pytest.fixture
def aws_server(tmp_path: Path) -> Iterator[tuple[EcrMockServer, CertificateAuthority]]:
    ca = CertificateAuthority(tmp_path / "ca")
    with EcrMockServer(Backend(), certificate_authority=ca) as server:
        yield server, ca
    ca.close()


def _https(
    server: EcrMockServer, ca: CertificateAuthority, host: str
) -> http.client.HTTPSConnection:
    """A verifying HTTPS connection to the server presenting ``host`` as SNI and Host."""
    context = ssl.create_default_context(cafile=str(ca.cert_path))

    class Connection(http.client.HTTPSConnection):
        def connect(self) -> None:
            raw = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            self.sock = context.wrap_socket(raw, server_hostname=host)

    return Connection(host, 443, context=context, timeout=30)


def test_registry_over_tls_answers_at_its_aws_name(
    aws_server: tuple[EcrMockServer, CertificateAuthority],
) -> None:
    server, ca = aws_server
    connection = _https(server, ca, REGISTRY)
    connection.request("GET", "/v2/")
    response = connection.getresponse()
    response.read()
    assert response.status == 401
    assert response.getheader("WWW-Authenticate") == (
        f'Basic realm="https://{REGISTRY}/",service="ecr.amazonaws.com"'
    )
    cert = connection.sock.getpeercert()  # type: ignore[union-attr]
    assert cert is not None
    assert cert["subjectAltName"] == (("DNS", REGISTRY),)


def test_api_answers_keep_their_aws_forms_while_served(
    aws_server: tuple[EcrMockServer, CertificateAuthority],
) -> None:
    server, _ = aws_server
    client = boto3.client(
        "ecr",
        region_name="eu-west-1",
        endpoint_url=server.url,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret",
    )
    repo = client.create_repository(repositoryName="svc")["repository"]
    token = client.get_authorization_token()["authorizationData"][0]
    assert repo["repositoryUri"] == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/svc"
    assert token["proxyEndpoint"] == "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)[1]
    assert server.backend.tokens.check_basic("AWS", password).region == "eu-west-1"


def test_a_name_the_ca_does_not_sign_gets_no_certificate_for_it(
    aws_server: tuple[EcrMockServer, CertificateAuthority],
) -> None:
    server, ca = aws_server
    connection = _https(server, ca, "registry.example.org")
    with pytest.raises(ssl.SSLCertVerificationError, match=r"registry\.example\.org"):
        connection.request("GET", "/v2/")


def test_stopping_the_server_restores_the_backend_endpoint(tmp_path: Path) -> None:
    backend = Backend()
    ca = CertificateAuthority(tmp_path / "ca")
    backend.public_endpoint = "before:1"
    with EcrMockServer(backend, certificate_authority=ca):
        assert backend.public_endpoint is None
    assert backend.public_endpoint == "before:1"


def test_aws_hostnames_serves_on_443_unless_told_otherwise(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ecr_mock.runtime.http

    bound: list[int] = []

    class Refused(EcrMockServer):
        def start(self) -> EcrMockServer:
            bound.append(self.port)
            raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(ecr_mock.runtime.http, "EcrMockServer", Refused)
    assert main(["serve", "--aws-hostnames", "--ca-dir", str(tmp_path)]) == 1
    assert main(["serve", "--aws-hostnames", "--ca-dir", str(tmp_path), "--port", "5000"]) == 1
    assert main(["serve", "--port", "80"]) == 1
    assert bound == [443, 5000, 80]
    err = capsys.readouterr().err
    assert "cannot listen on 127.0.0.1:443" in err
    assert "ports below 1024 need root or CAP_NET_BIND_SERVICE" in err


def _api_call(server: EcrMockServer, host: str, signed_region: str) -> tuple[int, bytes]:
    """A DescribeRepositories call to ``server`` naming ``host``, signed for ``signed_region``
    (the server checks no signature bytes, only the credential scope)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    scope = f"AKIAIOSFODNN7EXAMPLE/20260101/{signed_region}/ecr/aws4_request"
    connection.request(
        "POST",
        "/",
        body=b"{}",
        headers={
            "Host": host,
            "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
        },
    )
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_api_call_signed_for_another_region_than_its_host_is_refused(
    aws_server: tuple[EcrMockServer, CertificateAuthority],
) -> None:
    server, _ = aws_server
    status, body = _api_call(server, "api.ecr.us-east-1.amazonaws.com", "eu-west-1")
    assert status == 403
    assert json.loads(body) == {
        "__type": "InvalidSignatureException",
        "message": "Credential should be scoped to a valid region, not 'eu-west-1'. ",
    }
    status, body = _api_call(server, "ecr.eu-west-1.amazonaws.com", "eu-west-1")
    assert (status, json.loads(body)) == (200, {"repositories": []})


def test_plain_server_addresses_take_the_region_from_the_signature_alone(
    aws_server: tuple[EcrMockServer, CertificateAuthority],
) -> None:
    server, _ = aws_server
    status, body = _api_call(server, f"127.0.0.1:{server.port}", "ap-south-1")
    assert (status, json.loads(body)) == (200, {"repositories": []})


def test_public_endpoint_with_aws_hostnames_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["serve", "--aws-hostnames", "--ca-dir", str(tmp_path / "ca"), "--port", "0"]
    assert main([*argv, "--public-endpoint", "localhost:5000"]) == 2
    assert "--public-endpoint does not apply with --aws-hostnames" in capsys.readouterr().err
    assert not (tmp_path / "ca").exists()


def test_processes_starting_at_once_share_one_ca(tmp_path: Path) -> None:
    ca_dir = tmp_path / "ca"
    code = (
        "import sys\n"
        "from ecr_mock.runtime.tls import CertificateAuthority\n"
        "sys.stdout.write(CertificateAuthority(sys.argv[1]).cert_pem().decode())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(ca_dir)], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(4)
    ]
    printed = {process.communicate(timeout=120)[0] for process in processes}
    assert all(process.returncode == 0 for process in processes)
    assert printed == {(ca_dir / "ca.crt").read_text()}
