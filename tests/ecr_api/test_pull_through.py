"""Pull-through cache: rule CRUD through boto3, and filling the cache from ECR and HTTP upstreams."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from ecr_mock import mock_ecr
from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.models import Image, Principal, Registry
from ecr_mock.protocols.registry.app import RegistryApp, basic_auth_headers
from ecr_mock.runtime.providers import upstream_http
from ecr_mock.services import pull_through
from ecr_mock.services.backend import Backend
from ecr_mock.services.pull_through import UnableToGetUpstreamImage, fill_from_upstream
from tests.ecr_api.helpers import config_blob, error, image_manifest, sha256

ACCOUNT = "123456789012"
UPSTREAM_ACCOUNT = "210987654321"
REGION = "us-east-1"
SECRET_ARN = (
    f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/upstream-AbCdEf"
)
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture(autouse=True)
def _upstream_http(ecr_backend: Backend) -> None:
    """Rules may name HTTP upstreams: the test's backend gets the HTTP connector."""
    upstream_http.install(ecr_backend)


def seed_image(backend: Backend, reg: Registry, name: str, tag: str, seed: str = "a") -> Image:
    repo = reg.repositories.get(name) or backend.create_repository(reg, name)
    config, layer = config_blob(seed), f"layer {seed} ".encode() * 100
    for data in (config, layer):
        backend.store_blob(reg, repo, Blob.from_bytes(data))
    manifest = image_manifest(config, [layer]).encode()
    return backend.put_image(reg, repo, manifest, tag=tag)


class LiveServer:
    """A WSGI app on 127.0.0.1 in a daemon thread."""

    def __init__(self, app: Any) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream() -> Iterator[tuple[Backend, LiveServer]]:
    """A second ecr_mock backend served over HTTP, holding ``library/nginx:1.25``."""
    other = Backend(UPSTREAM_ACCOUNT, REGION)
    seed_image(other, other.registry(), "library/nginx", "1.25")
    server = LiveServer(RegistryApp(other))
    yield other, server
    server.close()


def upstream_secret(backend: Backend, other: Backend) -> None:
    token = other.tokens.issue(Principal.root(UPSTREAM_ACCOUNT), UPSTREAM_ACCOUNT, REGION)
    doc = {"username": "AWS", "accessToken": token.password}
    backend.secrets[SECRET_ARN] = json.dumps(doc)


# ----- rule CRUD -------------------------------------------------------------------------------


def test_create_describe_update_delete_round_trip(ecr_backend: Backend, ecr_client: Any) -> None:
    ecr_backend.secrets = {SECRET_ARN: '{"username":"u","accessToken":"t"}'}
    created = ecr_client.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub",
        upstreamRegistryUrl="registry-1.docker.io",
        credentialArn=SECRET_ARN,
    )
    assert created["upstreamRegistry"] == "docker-hub"
    assert created["registryId"] == ACCOUNT
    [rule] = ecr_client.describe_pull_through_cache_rules()["pullThroughCacheRules"]
    assert rule["ecrRepositoryPrefix"] == "docker-hub"
    assert rule["credentialArn"] == SECRET_ARN
    role = f"arn:aws:iam::{ACCOUNT}:role/ptc"
    updated = ecr_client.update_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub", customRoleArn=role
    )
    assert updated["customRoleArn"] == role
    assert "updatedAt" in updated
    deleted = ecr_client.delete_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub")
    assert deleted["upstreamRegistryUrl"] == "registry-1.docker.io"
    assert ecr_client.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []


def test_a_second_rule_with_the_same_prefix_already_exists(ecr_client: Any) -> None:
    ecr_client.create_pull_through_cache_rule(
        ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io"
    )
    with pytest.raises(ClientError) as caught:
        ecr_client.create_pull_through_cache_rule(
            ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io"
        )
    assert error(caught)[0] == "PullThroughCacheRuleAlreadyExistsException"


def test_missing_rules_are_not_found(ecr_client: Any) -> None:
    for call in (
        lambda: ecr_client.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["nope"]),
        lambda: ecr_client.delete_pull_through_cache_rule(ecrRepositoryPrefix="nope"),
        lambda: ecr_client.update_pull_through_cache_rule(
            ecrRepositoryPrefix="nope", customRoleArn=f"arn:aws:iam::{ACCOUNT}:role/r"
        ),
        lambda: ecr_client.validate_pull_through_cache_rule(ecrRepositoryPrefix="nope"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error(caught)[0] == "PullThroughCacheRuleNotFoundException"


def test_the_fifty_first_rule_exceeds_the_limit(ecr_client: Any) -> None:
    for n in range(50):
        ecr_client.create_pull_through_cache_rule(
            ecrRepositoryPrefix=f"k8s-{n}", upstreamRegistryUrl="registry.k8s.io"
        )
    with pytest.raises(ClientError) as caught:
        ecr_client.create_pull_through_cache_rule(
            ecrRepositoryPrefix="k8s-50", upstreamRegistryUrl="registry.k8s.io"
        )
    assert error(caught)[0] == "LimitExceededException"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"ecrRepositoryPrefix": "UPPER", "upstreamRegistryUrl": "quay.io"}, "ValidationException"),
        (
            {
                "ecrRepositoryPrefix": "hub",
                "upstreamRegistryUrl": "quay.io",
                "upstreamRegistry": "docker-hub",
            },
            "UnsupportedUpstreamRegistryException",
        ),
        (
            {"ecrRepositoryPrefix": "hub", "upstreamRegistryUrl": "registry-1.docker.io"},
            "InvalidParameterException",
        ),
        (
            {
                "ecrRepositoryPrefix": "hub",
                "upstreamRegistryUrl": "registry-1.docker.io",
                "credentialArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:other/name-AbCdEf",
            },
            "ValidationException",
        ),
        (
            {
                "ecrRepositoryPrefix": "hub",
                "upstreamRegistryUrl": "registry-1.docker.io",
                "credentialArn": SECRET_ARN,
            },
            "SecretNotFoundException",
        ),
        (
            {
                "ecrRepositoryPrefix": "hub",
                "upstreamRegistryUrl": "quay.io",
                "customRoleArn": "nope",
            },
            "InvalidParameterException",
        ),
    ],
)
def test_invalid_rules_are_refused(ecr_client: Any, params: dict[str, Any], expected: str) -> None:
    with pytest.raises(ClientError) as caught:
        ecr_client.create_pull_through_cache_rule(**params)
    assert error(caught)[0] == expected
    assert ecr_client.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []


def test_credentials_are_read_from_motos_secrets_manager(ecr_backend: Backend) -> None:
    moto = pytest.importorskip("moto")
    with moto.mock_aws(), mock_ecr(ecr_backend):
        secrets = boto3.client("secretsmanager", region_name=REGION)
        arn = secrets.create_secret(
            Name="ecr-pullthroughcache/hub",
            SecretString=json.dumps({"username": "me", "accessToken": "secret"}),
        )["ARN"]
        ecr = boto3.client("ecr", region_name=REGION)
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="hub",
            upstreamRegistryUrl="registry-1.docker.io",
            credentialArn=arn,
        )
        rule = pull_through.get_rule(ecr_backend.registry(ACCOUNT, REGION), "hub")
        creds = pull_through.credentials_for(ecr_backend, rule)
    assert creds == pull_through.Credentials("me", "secret")


# ----- filling from the ecr upstream (same backend) ---------------------------------------------


def test_a_pull_under_an_ecr_rule_caches_the_upstream_image(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    source = ecr_backend.registry(UPSTREAM_ACCOUNT, "us-west-2")
    image = seed_image(ecr_backend, source, "base/python", "3.12")
    ecr_client.create_repository_creation_template(
        prefix="upstream", appliedFor=["PULL_THROUGH_CACHE"], imageTagMutability="IMMUTABLE"
    )
    ecr_client.create_pull_through_cache_rule(
        ecrRepositoryPrefix="upstream",
        upstreamRegistryUrl=f"{UPSTREAM_ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com",
        upstreamRegistry="ecr",
    )
    reg = ecr_backend.registry(ACCOUNT, REGION)
    cached = fill_from_upstream(ecr_backend, reg, "upstream/base/python", "3.12")
    assert cached is not None
    assert cached.digest == image.digest
    [repo] = ecr_client.describe_repositories(repositoryNames=["upstream/base/python"])[
        "repositories"
    ]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    got = ecr_client.batch_get_image(
        repositoryName="upstream/base/python", imageIds=[{"imageTag": "3.12"}]
    )
    assert got["images"][0]["imageId"]["imageDigest"] == image.digest
    assert fill_from_upstream(ecr_backend, reg, "upstream/base/python", "3.12") is cached


def test_upstream_repository_prefix_maps_names(ecr_backend: Backend, ecr_client: Any) -> None:
    source = ecr_backend.registry(UPSTREAM_ACCOUNT, REGION)
    image = seed_image(ecr_backend, source, "mirror/app", "v1")
    ecr_client.create_pull_through_cache_rule(
        ecrRepositoryPrefix="cache",
        upstreamRegistryUrl=f"{UPSTREAM_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
        upstreamRepositoryPrefix="mirror",
    )
    cached = fill_from_upstream(
        ecr_backend, ecr_backend.registry(ACCOUNT, REGION), "cache/app", "v1"
    )
    assert cached is not None and cached.digest == image.digest


def test_names_outside_every_rule_are_not_filled(ecr_backend: Backend, ecr_client: Any) -> None:
    ecr_client.create_pull_through_cache_rule(
        ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io"
    )
    assert (
        fill_from_upstream(ecr_backend, ecr_backend.registry(ACCOUNT, REGION), "other/app", "v1")
        is None
    )


def test_a_missing_upstream_image_fails_and_creates_nothing(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    ecr_client.create_pull_through_cache_rule(
        ecrRepositoryPrefix="upstream",
        upstreamRegistryUrl=f"{UPSTREAM_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
    )
    reg = ecr_backend.registry(ACCOUNT, REGION)
    with pytest.raises(UnableToGetUpstreamImage):
        fill_from_upstream(ecr_backend, reg, "upstream/absent", "v1")
    assert "upstream/absent" not in reg.repositories


def test_v2_pull_under_a_rule_fills_then_serves_locally(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    source = ecr_backend.registry(UPSTREAM_ACCOUNT, REGION)
    image = seed_image(ecr_backend, source, "team/api", "v1")
    ecr_client.create_pull_through_cache_rule(
        ecrRepositoryPrefix="ecr-cache",
        upstreamRegistryUrl=f"{UPSTREAM_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
    )
    client = Client(RegistryApp(ecr_backend))
    headers = basic_auth_headers(ecr_backend, ACCOUNT, REGION)
    base = f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    first = client.get("/v2/ecr-cache/team/api/manifests/v1", base_url=base, headers=headers)
    assert first.status_code == 200
    assert first.get_data() == image.manifest
    ecr_backend.delete_repository(source, "team/api", force=True)
    again = client.get("/v2/ecr-cache/team/api/manifests/v1", base_url=base, headers=headers)
    assert again.status_code == 200
    for digest in image.parsed.blob_digests():
        blob = client.get(
            f"/v2/ecr-cache/team/api/blobs/{digest}",
            base_url=base,
            headers=headers,
            follow_redirects=True,
        )
        assert sha256(blob.get_data()) == digest
    missing = client.get("/v2/ecr-cache/team/gone/manifests/v1", base_url=base, headers=headers)
    assert missing.status_code == 404
    assert json.loads(missing.get_data())["errors"][0]["code"] == "MANIFEST_UNKNOWN"


# ----- filling from an HTTP upstream -----------------------------------------------------------


def test_a_pull_fills_from_a_live_ecr_mock_server_with_the_rules_credentials(
    ecr_backend: Backend, ecr_client: Any, upstream: tuple[Backend, LiveServer]
) -> None:
    other, server = upstream
    upstream_secret(ecr_backend, other)
    ecr_client.create_pull_through_cache_rule(
        ecrRepositoryPrefix="hub",
        upstreamRegistryUrl=f"http://{server.url}",
        upstreamRegistry="docker-hub",
        credentialArn=SECRET_ARN,
    )
    valid = ecr_client.validate_pull_through_cache_rule(ecrRepositoryPrefix="hub")
    assert valid["isValid"] is True
    expected = other.resolve_reference(other.registry().repositories["library/nginx"], "1.25")
    cached = fill_from_upstream(
        ecr_backend, ecr_backend.registry(ACCOUNT, REGION), "hub/library/nginx", "1.25"
    )
    assert cached is not None
    assert cached.manifest == expected.manifest
    reg = ecr_backend.registry(ACCOUNT, REGION)
    for digest in cached.parsed.blob_digests():
        assert reg.blobs[digest].read() == other.registry().blobs[digest].read()


def test_wrong_credentials_fail_validation_and_the_pull(
    ecr_backend: Backend, ecr_client: Any, upstream: tuple[Backend, LiveServer]
) -> None:
    _, server = upstream
    ecr_backend.secrets = {SECRET_ARN: json.dumps({"username": "AWS", "accessToken": "bad"})}
    ecr_client.create_pull_through_cache_rule(
        ecrRepositoryPrefix="hub",
        upstreamRegistryUrl=server.url,
        upstreamRegistry="docker-hub",
        credentialArn=SECRET_ARN,
    )
    answer = ecr_client.validate_pull_through_cache_rule(ecrRepositoryPrefix="hub")
    assert answer["isValid"] is False
    assert answer["failure"]
    reg = ecr_backend.registry(ACCOUNT, REGION)
    with pytest.raises(UnableToGetUpstreamImage) as caught:
        fill_from_upstream(ecr_backend, reg, "hub/library/nginx", "1.25")
    assert "unauthorized" in caught.value.message
    assert "hub/library/nginx" not in reg.repositories
    assert reg.blobs == {}


def test_an_unreachable_upstream_fails_with_unable_to_get_upstream_image(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    closed = LiveServer(Response("unused"))
    url = closed.url
    closed.close()
    ecr_client.create_pull_through_cache_rule(ecrRepositoryPrefix="gone", upstreamRegistryUrl=url)
    assert (
        ecr_client.validate_pull_through_cache_rule(ecrRepositoryPrefix="gone")["isValid"] is False
    )
    reg = ecr_backend.registry(ACCOUNT, REGION)
    with pytest.raises(UnableToGetUpstreamImage) as caught:
        fill_from_upstream(ecr_backend, reg, "gone/app", "v1")
    assert "unreachable" in caught.value.message
    assert reg.repositories == {}


def test_an_upstream_that_never_answers_times_out(ecr_backend: Backend, ecr_client: Any) -> None:
    release = threading.Event()

    @Request.application
    def stalled(request: Request) -> Response:
        release.wait(30)
        return Response("late")

    server = LiveServer(stalled)
    try:
        ecr_backend.upstream_timeout = 0.3
        ecr_client.create_pull_through_cache_rule(
            ecrRepositoryPrefix="slow", upstreamRegistryUrl=server.url
        )
        with pytest.raises(UnableToGetUpstreamImage) as caught:
            fill_from_upstream(ecr_backend, ecr_backend.registry(ACCOUNT, REGION), "slow/app", "v1")
        assert "did not answer in time" in caught.value.message
    finally:
        release.set()
        server.close()


def test_bearer_token_upstreams_are_authenticated_through_their_realm(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    config, layer = config_blob("bearer"), b"bearer layer bytes"
    manifest = image_manifest(config, [layer]).encode()
    blobs = {sha256(config): config, sha256(layer): layer}
    basic = "Basic " + base64.b64encode(b"robot:s3cret").decode()
    seen: list[str] = []

    @Request.application
    def registry(request: Request) -> Response:
        if request.path == "/token":
            if request.headers.get("Authorization") != basic:
                return Response(status=401)
            seen.append(request.args.get("scope", ""))
            return Response(json.dumps({"token": "tkn"}), content_type="application/json")
        if request.headers.get("Authorization") != "Bearer tkn":
            challenge = f'Bearer realm="http://{request.host}/token",service="test"'
            return Response(status=401, headers={"WWW-Authenticate": challenge})
        if request.path == "/v2/":
            return Response("{}")
        if request.path == "/v2/org/tool/manifests/v9":
            return Response(manifest, content_type=DOCKER_MANIFEST)
        digest = request.path.rsplit("/", 1)[-1]
        if digest in blobs:
            return Response(blobs[digest])
        return Response(status=404)

    server = LiveServer(registry)
    try:
        ecr_backend.secrets = {
            SECRET_ARN: json.dumps({"username": "robot", "accessToken": "s3cret"})
        }
        ecr_client.create_pull_through_cache_rule(
            ecrRepositoryPrefix="ghcr",
            upstreamRegistryUrl=server.url,
            upstreamRegistry="github-container-registry",
            credentialArn=SECRET_ARN,
        )
        cached = fill_from_upstream(
            ecr_backend, ecr_backend.registry(ACCOUNT, REGION), "ghcr/org/tool", "v9"
        )
        assert cached is not None
        assert cached.manifest == manifest
        assert "repository:org/tool:pull" in seen
    finally:
        server.close()


def test_a_layer_whose_bytes_do_not_match_its_digest_is_refused(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    config, layer = config_blob("tampered"), b"original layer"
    manifest = image_manifest(config, [layer]).encode()

    @Request.application
    def registry(request: Request) -> Response:
        if request.path.endswith("/manifests/v1"):
            return Response(manifest, content_type=DOCKER_MANIFEST)
        if request.path.endswith(sha256(config)):
            return Response(config)
        return Response(b"tampered layer")

    server = LiveServer(registry)
    try:
        ecr_client.create_pull_through_cache_rule(
            ecrRepositoryPrefix="bad", upstreamRegistryUrl=server.url
        )
        reg = ecr_backend.registry(ACCOUNT, REGION)
        with pytest.raises(pull_through.UnableToGetUpstreamLayer):
            fill_from_upstream(ecr_backend, reg, "bad/app", "v1")
        assert reg.repositories == {}
        assert reg.blobs == {}
    finally:
        server.close()
