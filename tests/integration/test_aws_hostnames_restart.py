"""Logins outlive a restart of ``ecr-mock serve --aws-hostnames``: dockerd, ``docker login`` and
``docker-credential-ecr-login`` (its token cache in ``~/.ecr/cache.json``) in a private mount and
network namespace, as in ``test_aws_hostnames``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_aws_hostnames import (
    ADDRESS,
    REGISTRY,
    Docker,
    Namespace,
    _start_namespace,
    docker,  # noqa: F401  (the dockerd fixture, run in this module's namespace)
    pytestmark,  # noqa: F401  (the same reasons to skip)
    require,
)


def _serve(ns: Namespace, *extra: str) -> subprocess.Popen[str]:
    """``ecr-mock serve --aws-hostnames`` on 443 in the namespace (log in ``server.log``)."""
    log = (ns.work / "server.log").open("a")
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
            *extra,
        ),
        env=ns.env(),
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    log.close()
    ns.processes.append(server)
    assert server.stdout is not None
    first = server.stdout.readline()
    if "answering as AWS" not in first:
        server.kill()
        raise AssertionError(f"ecr-mock serve did not start: {first!r}")
    return server


def _stop(ns: Namespace, server: subprocess.Popen[str]) -> str:
    """Stop the server (SIGTERM); the log of every server started here so far."""
    server.send_signal(signal.SIGTERM)
    server.communicate(timeout=60)
    return (ns.work / "server.log").read_text()


@pytest.fixture(scope="module")
def ns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Namespace]:
    """The namespace with the CA made (dockerd is given it) and no server running."""
    work = tmp_path_factory.mktemp("aws-hostnames-restart")
    namespace = _start_namespace(work)
    try:
        made = namespace.run(sys.executable, "-m", "ecr_mock", "ca", "--ca-dir", str(work / "ca"))
        assert made.returncode == 0, made.stderr
        yield namespace
    finally:
        for process in reversed(namespace.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


def _build(daemon: Docker, config: Path, context: Path, ref: str, text: str) -> None:
    context.mkdir()
    (context / "hello.txt").write_text(text)
    (context / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /\n")
    built = daemon.run(config, "build", "-t", ref, str(context))
    assert built.returncode == 0, built.stderr


def test_docker_login_then_restart_without_state_dir_then_push(
    ns: Namespace,
    docker: Docker,  # noqa: F811
    tmp_path: Path,
) -> None:
    require("aws", "docker")
    server = _serve(ns)
    ns.aws("ecr", "create-repository", "--repository-name", "logged")
    config = tmp_path / "docker"
    login = docker.run(
        config, "login", "--username", "AWS", "--password-stdin", REGISTRY,
        stdin=ns.login_password(),
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    _stop(ns, server)

    server = _serve(ns)
    ns.aws("ecr", "create-repository", "--repository-name", "logged")
    ref = f"{REGISTRY}/logged:v1"
    _build(docker, config, tmp_path / "build", ref, "pushed after a restart\n")
    pushed = docker.run(config, "push", ref)
    assert pushed.returncode == 0, pushed.stderr + pushed.stdout
    described = ns.aws("ecr", "describe-images", "--repository-name", "logged")["imageDetails"]
    assert [d["imageTags"] for d in described] == [["v1"]]
    _stop(ns, server)


def test_credential_helper_cache_outlives_a_restart_and_a_stale_one_is_named(
    ns: Namespace,
    docker: Docker,  # noqa: F811
    tmp_path: Path,
) -> None:
    require("aws", "docker", "docker-credential-ecr-login")
    cache = ns.work / "home" / ".ecr" / "cache.json"
    config = tmp_path / "docker"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"credHelpers": {REGISTRY: "ecr-login"}}))
    helper_env = {"AWS_CA_BUNDLE": str(ns.ca_cert)}

    server = _serve(ns)
    ns.aws("ecr", "create-repository", "--repository-name", "cached")
    first = f"{REGISTRY}/cached:v1"
    _build(docker, config, tmp_path / "one", first, "first run\n")
    pushed = docker.run(config, "push", first, **helper_env)
    assert pushed.returncode == 0, pushed.stderr + pushed.stdout
    pulled = docker.run(config, "pull", first, **helper_env)
    assert pulled.returncode == 0, pulled.stderr
    assert cache.is_file(), "the helper keeps the token it got"
    _stop(ns, server)

    server = _serve(ns)  # the same --ca-dir: the same token key
    ns.aws("ecr", "create-repository", "--repository-name", "cached")
    second = f"{REGISTRY}/cached:v2"
    _build(docker, config, tmp_path / "two", second, "second run\n")
    pushed = docker.run(config, "push", second, **helper_env)
    assert pushed.returncode == 0, pushed.stderr + pushed.stdout
    described = ns.aws("ecr", "describe-images", "--repository-name", "cached")["imageDetails"]
    assert [d["imageTags"] for d in described] == [["v2"]]
    _stop(ns, server)

    server = _serve(ns, "--ephemeral-tokens")  # another key: the cached token is stale
    ns.aws("ecr", "create-repository", "--repository-name", "cached")
    refused = docker.run(config, "push", second, **helper_env)
    assert refused.returncode != 0
    assert "~/.ecr/cache.json" in refused.stderr + refused.stdout
    log = _stop(ns, server)
    assert sum("~/.ecr/cache.json" in line for line in log.splitlines()) == 1, log
