"""Upstream access for pull-through cache rules: an OCI registry client over HTTP and moto secrets."""

from __future__ import annotations

import base64
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ecr_mock.domain.ports import Credentials, UpstreamError

if TYPE_CHECKING:
    import requests

    from ecr_mock.store.state import Store

ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
CONNECT_TIMEOUT = 5.0
CHUNK = 1024 * 1024
MAX_MANIFEST = 4 * 1024 * 1024


def install(store: Store) -> None:
    """Give ``store`` the HTTP upstream client and moto's Secrets Manager (keeps existing ones)."""
    if store.upstream_connector is None:
        store.upstream_connector = connect
    if store.secret_reader is None:
        store.secret_reader = read_moto_secret


def connect(url: str, credentials: Credentials | None, timeout: float) -> HttpUpstream:
    """An :class:`HttpUpstream` for ``url`` (``host[:port]`` or ``http(s)://host[:port]``)."""
    return HttpUpstream(url, credentials, timeout)


def _base_url(url: str) -> str:
    if "://" in url:
        return url.rstrip("/")
    host = urlsplit(f"//{url}").hostname or ""
    local = host in ("localhost", "::1") or host.startswith("127.")
    return ("http://" if local else "https://") + url.rstrip("/")


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.partition(" ")
    params: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            params[key.strip().lower()] = value.strip().strip('"')
    return scheme.lower(), params


class HttpUpstream:
    """Reads manifests and blobs from an OCI distribution registry with ``requests``.

    Authentication follows the ``WWW-Authenticate`` challenge: HTTP Basic (ECR, ecr-mock) or a
    bearer token from the named realm (Docker Hub, GHCR, the CNCF distribution registry).
    Every request has a connect and read timeout, so an unresponsive upstream cannot hang a pull.
    """

    def __init__(self, url: str, credentials: Credentials | None, timeout: float) -> None:
        import requests

        self.base = _base_url(url)
        self.credentials = credentials
        self.timeout = (min(CONNECT_TIMEOUT, timeout), timeout)
        self.session = requests.Session()
        self.session.trust_env = False
        self._auth: str | None = None

    # ----- transport ---------------------------------------------------------------------------

    def _send(self, path: str, headers: Mapping[str, str], stream: bool) -> requests.Response:
        import requests

        try:
            return self.session.get(
                self.base + path,
                headers=dict(headers),
                timeout=self.timeout,
                stream=stream,
                allow_redirects=True,
            )
        except requests.Timeout:
            raise UpstreamError("unreachable", f"{self.base} did not answer in time") from None
        except requests.RequestException as exc:
            raise UpstreamError("unreachable", f"{self.base} is unreachable: {exc}") from None

    def _authorize(self, challenge: str, scope: str | None) -> str | None:
        import requests

        scheme, params = _parse_challenge(challenge)
        creds = self.credentials
        if scheme == "basic":
            if creds is None:
                return None
            raw = f"{creds.username}:{creds.password}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        if scheme != "bearer" or "realm" not in params:
            return None
        query: dict[str, str] = {}
        if "service" in params:
            query["service"] = params["service"]
        if scope or "scope" in params:
            query["scope"] = scope or params["scope"]
        auth = (creds.username, creds.password) if creds else None
        try:
            answer = self.session.get(
                params["realm"], params=query, auth=auth, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise UpstreamError("unreachable", f"token service unreachable: {exc}") from None
        if answer.status_code != 200:
            raise UpstreamError("unauthorized", f"the token service answered {answer.status_code}")
        try:
            doc = answer.json()
        except ValueError:
            raise UpstreamError("bad_response", "the token service answered no JSON") from None
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str):
            raise UpstreamError("bad_response", "the token service answered no token")
        return f"Bearer {token}"

    def _get(
        self,
        path: str,
        headers: Mapping[str, str] | None = None,
        *,
        stream: bool = False,
        scope: str | None = None,
    ) -> requests.Response:
        sent = dict(headers or {})
        if self._auth:
            sent["Authorization"] = self._auth
        response = self._send(path, sent, stream)
        if response.status_code == 401:
            challenge = response.headers.get("WWW-Authenticate", "")
            response.close()
            auth = self._authorize(challenge, scope)
            if auth is None:
                raise UpstreamError("unauthorized", f"{self.base} requires credentials")
            self._auth = auth
            sent["Authorization"] = auth
            response = self._send(path, sent, stream)
        if response.status_code in (401, 403):
            response.close()
            raise UpstreamError(
                "unauthorized", f"{self.base} refused the credentials ({response.status_code})"
            )
        if response.status_code == 404:
            response.close()
            raise UpstreamError("not_found", f"{self.base}{path} was not found")
        if response.status_code != 200:
            response.close()
            raise UpstreamError(
                "bad_response", f"{self.base}{path} answered {response.status_code}"
            )
        return response

    # ----- the UpstreamClient protocol ---------------------------------------------------------

    def check(self) -> None:
        """``GET /v2/`` with authentication."""
        self._get("/v2/").close()

    def manifest(self, name: str, reference: str) -> tuple[bytes, str]:
        """``GET /v2/<name>/manifests/<reference>``: the bytes (at most 4 MiB) and media type."""
        response = self._get(
            f"/v2/{name}/manifests/{reference}",
            {"Accept": ACCEPT},
            stream=True,
            scope=f"repository:{name}:pull",
        )
        try:
            body = bytearray()
            for chunk in response.iter_content(CHUNK):
                body.extend(chunk)
                if len(body) > MAX_MANIFEST:
                    raise UpstreamError("bad_response", "the manifest is larger than 4 MiB")
        except UpstreamError:
            raise
        except Exception as exc:
            raise UpstreamError("unreachable", f"reading the manifest failed: {exc}") from None
        finally:
            response.close()
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return bytes(body), media_type

    def blob(self, name: str, digest: str, write: Callable[[bytes], None]) -> None:
        """``GET /v2/<name>/blobs/<digest>`` (redirects followed), streamed into ``write``."""
        response = self._get(
            f"/v2/{name}/blobs/{digest}", stream=True, scope=f"repository:{name}:pull"
        )
        try:
            for chunk in response.iter_content(CHUNK):
                write(chunk)
        except Exception as exc:
            raise UpstreamError("unreachable", f"reading the blob failed: {exc}") from None
        finally:
            response.close()


def read_moto_secret(arn: str) -> str | None:
    """The ``SecretString`` of ``arn`` in moto's Secrets Manager, when moto is in use."""
    if "moto" not in sys.modules:
        return None
    parts = arn.split(":")
    if len(parts) < 7:
        return None
    region, account = parts[3], parts[4]
    try:
        from moto.secretsmanager.models import secretsmanager_backends

        store: Any = secretsmanager_backends[account][region]
        value = store.get_secret_value(secret_id=arn, version_id=None, version_stage=None)
    except Exception:
        return None
    text = value.get("SecretString") if isinstance(value, dict) else None
    return text if isinstance(text, str) else None
