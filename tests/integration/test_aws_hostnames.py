"""``ecr-mock serve --aws-hostnames`` reached by unmodified clients at the real AWS host names.

Everything runs in a private mount and network namespace (``unshare --mount --net``, as root):
a hosts file bind-mounted over ``/etc/hosts`` sends the ECR, STS and IAM names to the private
loopback, the server listens on port 443 there, and the clients (AWS CLI, boto3, requests,
dockerd and the docker CLI, docker-credential-ecr-login, skopeo) trust the local CA only
through their usual settings. The machine's own ``/etc/hosts`` and trust store are untouched.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ecr_mock.runtime.hostnames import hosts_file

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"
OTHER_KEY = "AKIAOTHERACCOUNT0001"
REGION = "us-east-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
OTHER_REGISTRY = f"{OTHER_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
ADDRESS = "198.18.0.1"
"""The server's address in the namespace: not a loopback one, which dockerd would treat as an
insecure registry (trying plain HTTP and skipping certificate checks)."""


def _missing(*binaries: str) -> list[str]:
    return [name for name in binaries if shutil.which(name) is None]


def _skip_reason() -> str | None:
    if sys.platform != "linux":
        return "private namespaces need Linux"
    if os.geteuid() != 0:
        return "needs root for a private mount and network namespace (unshare --mount --net)"
    missing = _missing("unshare", "nsenter", "ip")
    if missing:
        return f"{', '.join(missing)} not installed (util-linux, iproute2)"
    try:
        import cryptography  # noqa: F401
    except ImportError:
        return "cryptography is not installed: pip install 'ecr-mock[tls]'"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


def require(*binaries: str) -> None:
    missing = _missing(*binaries)
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (.ci/run installs it)")


@dataclass
class Namespace:
    """A private mount+network namespace holding a hosts file, and ecr-mock serving on 443."""

    pid: int
    work: Path
    ca_cert: Path
    docker_etc: Path | None
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def argv(self, *args: str) -> list[str]:
        return ["nsenter", "--target", str(self.pid), "--mount", "--net", "--", *args]

    def env(self, **extra: str) -> dict[str, str]:
        """No AWS configuration but fake credentials, and no endpoint override of any kind."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "DOCKER_", "REQUESTS_", "SSL_CERT", "CURL_CA"))
            and key not in ("PYTHONPATH", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
        }
        home = self.work / "home"
        home.mkdir(exist_ok=True)
        env.update(
            HOME=str(home),
            AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
            AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE=str(self.work / "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(self.work / "aws-credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            PYTHONPATH=str(ROOT),
            NO_PROXY="*",
        )
        env.update(extra)
        return env

    def run(
        self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args),
            env=env if env is not None else self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def aws(self, *args: str, **env: str) -> Any:
        """Run the AWS CLI (no --endpoint-url) trusting the CA through AWS_CA_BUNDLE."""
        result = self.run(
            "aws", *args, "--output", "json", env=self.env(AWS_CA_BUNDLE=str(self.ca_cert), **env)
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if result.stdout.strip() else None

    def python(self, code: str, **env: str) -> Any:
        """Run ``code`` in a fresh interpreter in the namespace; returns its JSON output."""
        result = self.run(sys.executable, "-c", textwrap.dedent(code), env=self.env(**env))
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def login_password(self, region: str = REGION) -> str:
        result = self.run(
            "aws",
            "ecr",
            "get-login-password",
            "--region",
            region,
            env=self.env(AWS_CA_BUNDLE=str(self.ca_cert)),
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


def _start_namespace(work: Path) -> Namespace:
    hosts = work / "hosts"
    hosts.write_text(
        "127.0.0.1 localhost\n::1 localhost ip6-localhost\n"
        + hosts_file([(ACCOUNT, REGION), (OTHER_ACCOUNT, "eu-west-1")], ADDRESS, public=True)
    )
    docker_etc = work / "etc-docker"
    docker_etc.mkdir()
    setup = [
        "set -e",
        "ip link set lo up",
        f"ip addr add {ADDRESS}/32 dev lo",
        f"mount --bind {hosts} /etc/hosts",
    ]
    has_docker_etc = Path("/etc/docker").is_dir()
    if has_docker_etc:  # dockerd reads registry CAs from /etc/docker/certs.d only
        setup.append(f"mount --bind {docker_etc} /etc/docker")
    setup += ["echo ready", "exec sleep 100000"]
    holder = subprocess.Popen(
        ["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", "\n".join(setup)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    if holder.stdout.readline().strip() != "ready":
        holder.kill()
        _, err = holder.communicate()
        pytest.skip(f"cannot make a private namespace here: {err.strip()}")
    ns = Namespace(holder.pid, work, work / "ca" / "ca.crt", docker_etc if has_docker_etc else None)
    ns.processes.append(holder)
    return ns


def _start_server(ns: Namespace) -> None:
    server = subprocess.Popen(
        ns.argv(
            sys.executable,
            "-m",
            "ecr_mock",
            "serve",
            "--aws-hostnames",
            "--host",
            ADDRESS,
            "--ca-dir",
            str(ns.work / "ca"),
            "--access-key",
            f"{OTHER_KEY}={OTHER_ACCOUNT}",
        ),
        env=ns.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ns.processes.append(server)
    assert server.stdout is not None
    first = server.stdout.readline()  # printed once the port is bound
    if "answering as AWS" not in first:
        server.kill()
        raise AssertionError(f"ecr-mock serve did not start: {first!r} {server.stderr.read()}")  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def ns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Namespace]:
    work = tmp_path_factory.mktemp("aws-hostnames")
    namespace = _start_namespace(work)
    try:
        _start_server(namespace)
        yield namespace
    finally:
        for process in reversed(namespace.processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


# ----- the AWS CLI and boto3, no endpoint override ----------------------------------------


def test_aws_cli_creates_a_repository_at_the_aws_api_name(ns: Namespace) -> None:
    require("aws")
    repo = ns.aws("ecr", "create-repository", "--repository-name", "cli/app")["repository"]
    assert repo["repositoryUri"] == f"{REGISTRY}/cli/app"
    assert repo["registryId"] == ACCOUNT
    assert repo["repositoryArn"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/cli/app"
    listed = ns.aws("ecr", "describe-repositories", "--repository-names", "cli/app")
    assert [r["repositoryUri"] for r in listed["repositories"]] == [f"{REGISTRY}/cli/app"]


def test_aws_cli_get_authorization_token_gives_the_aws_proxy_endpoint(ns: Namespace) -> None:
    require("aws")
    data = ns.aws("ecr", "get-authorization-token")["authorizationData"][0]
    assert data["proxyEndpoint"] == f"https://{REGISTRY}"
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS"
    assert password


def test_aws_cli_without_the_ca_refuses_the_certificate(ns: Namespace) -> None:
    require("aws")
    result = ns.run("aws", "ecr", "describe-repositories")
    assert result.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr


def test_aws_cli_get_login_password_opens_the_registry_for_requests(ns: Namespace) -> None:
    require("aws")
    password = ns.login_password()
    statuses = ns.python(
        f"""
        import json, requests
        url = "https://{REGISTRY}/v2/"
        good = requests.get(url, auth=("AWS", {password!r}), timeout=30)
        bad = requests.get(url, auth=("AWS", "wrong"), timeout=30)
        print(json.dumps([good.status_code, bad.status_code, bad.headers["WWW-Authenticate"]]))
        """,
        REQUESTS_CA_BUNDLE=str(ns.ca_cert),
    )
    assert statuses == [
        200,
        401,
        f'Basic realm="https://{REGISTRY}/",service="ecr.amazonaws.com"',
    ]


def test_boto3_without_endpoint_takes_region_and_account_from_name_and_key(
    ns: Namespace,
) -> None:
    answer = ns.python(
        f"""
        import base64, json, boto3
        ecr = boto3.client(
            "ecr",
            region_name="eu-west-1",
            aws_access_key_id="{OTHER_KEY}",
            aws_secret_access_key="secret",
        )
        assert ecr.meta.endpoint_url == "https://api.ecr.eu-west-1.amazonaws.com"
        repo = ecr.create_repository(repositoryName="boto/app")["repository"]
        token = ecr.get_authorization_token()["authorizationData"][0]
        identity = boto3.client("sts", region_name="eu-west-1").get_caller_identity()
        print(json.dumps({{
            "uri": repo["repositoryUri"],
            "registryId": repo["registryId"],
            "proxy": token["proxyEndpoint"],
            "account": identity["Account"],
        }}))
        """,
        AWS_CA_BUNDLE=str(ns.ca_cert),
    )
    assert answer == {
        "uri": f"{OTHER_REGISTRY}/boto/app",
        "registryId": OTHER_ACCOUNT,
        "proxy": f"https://{OTHER_REGISTRY}",
        "account": ACCOUNT,
    }


def test_boto3_signing_for_another_region_than_the_host_is_refused(ns: Namespace) -> None:
    answer = ns.python(
        """
        import json, boto3
        ecr = boto3.client(
            "ecr", region_name="eu-west-1", endpoint_url="https://api.ecr.us-east-1.amazonaws.com"
        )
        try:
            ecr.describe_repositories()
        except ecr.exceptions.ClientError as refused:
            print(json.dumps(refused.response["Error"]))
        """,
        AWS_CA_BUNDLE=str(ns.ca_cert),
    )
    assert answer == {
        "Code": "InvalidSignatureException",
        "Message": "Credential should be scoped to a valid region, not 'eu-west-1'. ",
    }


def test_the_certificate_names_the_host_asked_for(ns: Namespace) -> None:
    names = ns.python(
        f"""
        import json, socket, ssl
        context = ssl.create_default_context(cafile={str(ns.ca_cert)!r})
        seen = []
        for host in ["{REGISTRY}", "api.ecr.eu-west-1.amazonaws.com", "sts.amazonaws.com"]:
            with socket.create_connection((host, 443), timeout=30) as raw:
                with context.wrap_socket(raw, server_hostname=host) as tls:
                    cert = tls.getpeercert()
                    seen.append([value for kind, value in cert["subjectAltName"]])
        print(json.dumps(seen))
        """
    )
    assert names == [[REGISTRY], ["api.ecr.eu-west-1.amazonaws.com"], ["sts.amazonaws.com"]]


# ----- dockerd and the docker CLI, docker-credential-ecr-login, skopeo ---------------------


@dataclass
class Docker:
    """dockerd in the namespace (its own data, exec root and socket) and a CLI config dir."""

    ns: Namespace
    socket: Path

    def env(self, config: Path, **extra: str) -> dict[str, str]:
        return self.ns.env(
            DOCKER_HOST=f"unix://{self.socket}",
            DOCKER_CONFIG=str(config),
            DOCKER_BUILDKIT="0",
            **extra,
        )

    def run(
        self, config: Path, *args: str, stdin: str | None = None, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        return self.ns.run("docker", *args, env=self.env(config, **extra), stdin=stdin)


@pytest.fixture(scope="module")
def docker(ns: Namespace) -> Iterator[Docker]:
    require("dockerd", "docker")
    if ns.docker_etc is None:
        pytest.skip("/etc/docker is missing: dockerd reads registry CAs from /etc/docker/certs.d")
    for host in (REGISTRY, "public.ecr.aws"):
        certs = ns.docker_etc / "certs.d" / host
        certs.mkdir(parents=True)
        shutil.copy(ns.ca_cert, certs / "ca.crt")
    root = ns.work / "dockerd"
    root.mkdir()
    sock = root / "docker.sock"
    log = (root / "dockerd.log").open("w")
    daemon = subprocess.Popen(
        ns.argv(
            "dockerd",
            "--iptables=false",
            "--ip-forward=false",
            "--bridge=none",
            "--storage-driver=vfs",
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "exec"),
            "--pidfile",
            str(root / "dockerd.pid"),
            "-H",
            f"unix://{sock}",
        ),
        env=ns.env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    found = Docker(ns, sock)
    try:
        ping = [sys.executable, "-c", _WAIT_FOR_DOCKER, str(sock)]
        ready = subprocess.run(ping, capture_output=True, text=True, timeout=120, check=False)
        if ready.returncode != 0:
            pytest.skip(f"dockerd did not start here: {(root / 'dockerd.log').read_text()[-2000:]}")
        yield found
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        shutil.rmtree(root / "data", ignore_errors=True)


_WAIT_FOR_DOCKER = """
import socket, sys, time
deadline = time.monotonic() + 90
while time.monotonic() < deadline:  # a readiness wait, not a timed assertion
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(sys.argv[1])
            s.sendall(b"GET /_ping HTTP/1.0\\r\\n\\r\\n")
            if b" 200 " in s.recv(100):
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
"""


@pytest.fixture(scope="module")
def pushed(ns: Namespace, docker: Docker, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Log in, build (FROM scratch) and push ``<registry>/web:v1``; returns the pushed digest."""
    require("aws")
    ns.aws("ecr", "create-repository", "--repository-name", "web")
    config = tmp_path_factory.mktemp("docker-login")
    login = docker.run(
        config,
        "login",
        "--username",
        "AWS",
        "--password-stdin",
        REGISTRY,
        stdin=ns.login_password(),
    )
    assert login.returncode == 0, login.stderr
    assert "Login Succeeded" in login.stdout
    context = tmp_path_factory.mktemp("build")
    (context / "hello.txt").write_text("hello from a real ECR host name\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /\n")
    built = docker.run(config, "build", "-t", f"{REGISTRY}/web:v1", str(context))
    assert built.returncode == 0, built.stderr
    push = docker.run(config, "push", f"{REGISTRY}/web:v1")
    assert push.returncode == 0, push.stderr
    described = ns.aws("ecr", "describe-images", "--repository-name", "web")["imageDetails"]
    assert [d["imageTags"] for d in described] == [["v1"]]
    digest: str = described[0]["imageDigest"]
    assert f"digest: {digest}" in push.stdout
    return digest


def _forget(docker: Docker, config: Path, *refs: str) -> None:
    for ref in refs:
        docker.run(config, "rmi", "--force", ref)
    listed = docker.run(config, "images", "--quiet", f"{REGISTRY}/web")
    assert listed.stdout.strip() == "", "the image is still in dockerd"


def test_docker_pushes_to_the_aws_registry_name(pushed: str) -> None:
    assert pushed.startswith("sha256:")


def test_docker_pulls_by_tag_and_by_digest(
    docker: Docker, pushed: str, tmp_path: Path, ns: Namespace
) -> None:
    config = tmp_path / "docker"
    login = docker.run(
        config,
        "login",
        "--username",
        "AWS",
        "--password-stdin",
        REGISTRY,
        stdin=ns.login_password(),
    )
    assert login.returncode == 0, login.stderr
    _forget(docker, config, f"{REGISTRY}/web:v1")
    by_tag = docker.run(config, "pull", f"{REGISTRY}/web:v1")
    assert by_tag.returncode == 0, by_tag.stderr
    assert f"Digest: {pushed}" in by_tag.stdout
    _forget(docker, config, f"{REGISTRY}/web:v1")
    by_digest = docker.run(config, "pull", f"{REGISTRY}/web@{pushed}")
    assert by_digest.returncode == 0, by_digest.stderr
    inspected = docker.run(config, "image", "inspect", f"{REGISTRY}/web@{pushed}")
    assert inspected.returncode == 0, inspected.stderr
    assert f"{REGISTRY}/web@{pushed}" in json.loads(inspected.stdout)[0]["RepoDigests"]


def test_docker_pull_without_login_is_refused(docker: Docker, pushed: str, tmp_path: Path) -> None:
    result = docker.run(tmp_path / "docker", "pull", f"{REGISTRY}/web:v1")
    assert result.returncode != 0
    assert "no basic auth credentials" in result.stderr


def test_dockerd_refuses_a_registry_whose_ca_it_was_not_given(
    docker: Docker, ns: Namespace, tmp_path: Path
) -> None:
    login = docker.run(
        tmp_path / "docker",
        "login",
        "--username",
        "AWS",
        "--password-stdin",
        OTHER_REGISTRY,
        stdin=ns.login_password("eu-west-1"),
    )
    assert login.returncode != 0
    assert "certificate signed by unknown authority" in login.stderr


def test_credential_helper_pulls_with_no_login(docker: Docker, pushed: str, tmp_path: Path) -> None:
    require("docker-credential-ecr-login")
    config = tmp_path / "docker"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"credHelpers": {REGISTRY: "ecr-login"}}))
    _forget(docker, config, f"{REGISTRY}/web:v1", f"{REGISTRY}/web@{pushed}")
    pulled = docker.run(
        config,
        "pull",
        f"{REGISTRY}/web:v1",
        AWS_CA_BUNDLE=str(docker.ns.ca_cert),
        AWS_ECR_DISABLE_CACHE="true",
    )
    assert pulled.returncode == 0, pulled.stderr
    assert f"Digest: {pushed}" in pulled.stdout


def test_credential_helper_prints_the_token_for_the_registry(ns: Namespace, pushed: str) -> None:
    require("docker-credential-ecr-login")
    result = ns.run(
        "docker-credential-ecr-login",
        "get",
        env=ns.env(AWS_CA_BUNDLE=str(ns.ca_cert), AWS_ECR_DISABLE_CACHE="true"),
        stdin=REGISTRY,
    )
    assert result.returncode == 0, result.stderr
    creds = json.loads(result.stdout)
    assert creds["Username"] == "AWS"
    check = ns.python(
        f"""
        import json, requests
        r = requests.get("https://{REGISTRY}/v2/web/manifests/v1", timeout=30,
            auth=("AWS", {creds["Secret"]!r}),
            headers={{"Accept": "application/vnd.docker.distribution.manifest.v2+json"}})
        print(json.dumps([r.status_code, r.headers.get("Docker-Content-Digest")]))
        """,
        REQUESTS_CA_BUNDLE=str(ns.ca_cert),
    )
    assert check == [200, pushed]


def test_skopeo_inspects_with_the_ca_in_its_cert_dir(
    ns: Namespace, pushed: str, tmp_path: Path
) -> None:
    require("skopeo")
    cert_dir = tmp_path / "certs"
    cert_dir.mkdir()
    shutil.copy(ns.ca_cert, cert_dir / "ca.crt")
    creds = f"AWS:{ns.login_password()}"
    result = ns.run(
        "skopeo",
        "inspect",
        "--cert-dir",
        str(cert_dir),
        "--creds",
        creds,
        f"docker://{REGISTRY}/web:v1",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Digest"] == pushed
    # The other registry's name has no CA in any certificate directory skopeo reads.
    other = f"AWS:{ns.login_password('eu-west-1')}"
    untrusted = ns.run("skopeo", "inspect", "--creds", other, f"docker://{OTHER_REGISTRY}/web:v1")
    assert untrusted.returncode != 0
    assert "certificate signed by unknown authority" in untrusted.stderr


def test_ecr_public_push_and_anonymous_pull_at_public_ecr_aws(
    ns: Namespace, docker: Docker, tmp_path: Path
) -> None:
    require("aws")
    created = ns.aws("ecr-public", "create-repository", "--repository-name", "pub/web")
    uri = created["repository"]["repositoryUri"]
    assert uri.startswith("public.ecr.aws/")
    assert uri.endswith("/pub/web")
    password = ns.run(
        "aws",
        "ecr-public",
        "get-login-password",
        "--region",
        "us-east-1",
        env=ns.env(AWS_CA_BUNDLE=str(ns.ca_cert)),
    )
    assert password.returncode == 0, password.stderr
    pusher = tmp_path / "pusher"
    login = docker.run(
        pusher,
        "login",
        "--username",
        "AWS",
        "--password-stdin",
        "public.ecr.aws",
        stdin=password.stdout.strip(),
    )
    assert login.returncode == 0, login.stderr
    context = tmp_path / "build"
    context.mkdir()
    (context / "public.txt").write_text("served as public.ecr.aws\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY public.txt /\n")
    assert docker.run(pusher, "build", "-t", f"{uri}:v1", str(context)).returncode == 0
    push = docker.run(pusher, "push", f"{uri}:v1")
    assert push.returncode == 0, push.stderr
    docker.run(pusher, "rmi", "--force", f"{uri}:v1")
    anonymous = docker.run(tmp_path / "anonymous", "pull", f"{uri}:v1")
    assert anonymous.returncode == 0, anonymous.stderr
    described = ns.aws("ecr-public", "describe-images", "--repository-name", "pub/web")
    digest = described["imageDetails"][0]["imageDigest"]
    assert f"Digest: {digest}" in anonymous.stdout
