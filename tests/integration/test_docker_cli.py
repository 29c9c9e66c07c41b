"""The docker CLI (client only, no daemon needed): login and manifest inspect."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.integration.oci_layout import Layout
from tests.integration.test_skopeo import push
from tests.support.live import Live, require


def docker(config: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI with its own config folder."""
    return subprocess.run(
        [require("docker"), "--config", str(config), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def login(config: Path, live: Live, password: str) -> subprocess.CompletedProcess[str]:
    """``docker login`` to the live server as ``AWS`` with ``password``."""
    return docker(
        config, "login", "--username", "AWS", "--password-stdin", live.endpoint, stdin=password
    )


def test_docker_login_with_token_password_succeeds(live: Live, tmp_path: Path) -> None:
    result = login(tmp_path, live, live.password)
    assert result.returncode == 0, result.stderr
    assert "Login Succeeded" in result.stdout
    auths = json.loads((tmp_path / "config.json").read_text())["auths"]
    assert live.endpoint in auths


def test_docker_login_with_wrong_password_fails(live: Live, tmp_path: Path) -> None:
    result = login(tmp_path, live, "wrong")
    assert result.returncode != 0
    assert "unauthorized" in (result.stderr + result.stdout).lower()


def test_docker_login_with_expired_token_fails(live: Live, tmp_path: Path) -> None:
    live.backend.clock.advance(hours=13)
    result = login(tmp_path, live, live.password)
    assert result.returncode != 0


def test_docker_manifest_inspect_shows_the_pushed_manifest(
    live: Live, layout: Layout, tmp_path: Path
) -> None:
    live.client.create_repository(repositoryName="web")
    built = layout.image("v1")
    assert push(live, layout, "web:v1").returncode == 0
    config = tmp_path / "docker"
    login = docker(
        config, "login", "--username", "AWS", "--password-stdin", live.endpoint, stdin=live.password
    )
    assert login.returncode == 0, login.stderr
    result = docker(config, "manifest", "inspect", "--insecure", f"{live.endpoint}/web:v1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(built.manifest)


def test_docker_manifest_inspect_of_unknown_tag_fails(live: Live, tmp_path: Path) -> None:
    live.client.create_repository(repositoryName="web")
    config = tmp_path / "docker"
    docker(
        config, "login", "--username", "AWS", "--password-stdin", live.endpoint, stdin=live.password
    )
    result = docker(config, "manifest", "inspect", "--insecure", f"{live.endpoint}/web:nope")
    assert result.returncode != 0
    assert "no such manifest" in result.stderr
