"""Identities from moto's IAM and STS: access keys, users, groups, roles, sessions, policies."""

from __future__ import annotations

import functools
import json
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from ecr_mock.domain.errors import ExpiredCredentials, Unauthenticated
from ecr_mock.domain.models import Principal
from ecr_mock.domain.ports import Identity

__all__ = [
    "ECR_MANAGED_POLICIES",
    "MOTO_IDENTITIES",
    "MotoIdentities",
    "add_ecr_managed_policies",
    "ensure_ecr_managed_policies",
    "moto_service",
    "moto_wsgi",
]

ECR_MANAGED_POLICIES = (
    "AmazonEC2ContainerRegistryFullAccess",
    "AmazonEC2ContainerRegistryPowerUser",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryPullOnly",
)
"""The AWS managed ECR policies; attach them as ``arn:aws:iam::aws:policy/<name>``."""


def _iam_backends() -> Iterator[tuple[str, Any]]:
    """(account, IAM backend) for every IAM backend moto has created, without creating any.

    Nothing is imported unless moto already loaded its IAM models: without them no IAM user,
    role or key can exist.
    """
    models = sys.modules.get("moto.iam.models")
    if models is None:
        return
    backends = getattr(models, "iam_backends", None)
    if backends is None:
        return
    for account_id, per_account in list(dict.items(backends)):
        for backend in list(dict.values(per_account)):
            yield str(account_id), backend


def _sts_sessions(account_id: str) -> Iterator[Any]:
    """moto's assumed-role sessions held for ``account_id`` (the role's account)."""
    models = sys.modules.get("moto.sts.models")
    backends = getattr(models, "sts_backends", None) if models is not None else None
    if backends is None or account_id not in dict.keys(backends):
        return
    for backend in list(dict.values(dict.__getitem__(backends, account_id))):
        yield from list(getattr(backend, "assumed_roles", []))


def _document(managed_policy: Any) -> str | None:
    """The default version's document of a moto managed policy."""
    for version in getattr(managed_policy, "versions", []):
        if getattr(version, "is_default", False):
            return str(version.document)
    return None


def _policies_of(entity: Any) -> list[str]:
    """Inline then attached (customer or AWS managed) policy documents of a user/group/role."""
    found = [str(text) for text in getattr(entity, "policies", {}).values()]
    for managed in getattr(entity, "managed_policies", {}).values():
        document = _document(managed)
        if document:
            found.append(document)
    return found


def _tags(pairs: Any) -> dict[str, str]:
    if isinstance(pairs, dict):
        pairs = pairs.get("Tags", [])
    return {str(t["Key"]): str(t.get("Value", "")) for t in pairs or [] if "Key" in t}


def _user_by_arn(backend: Any, arn: str) -> Any:
    for user in list(backend.users.values()):
        if user.arn == arn:
            return user
    return None


def _role_by_arn(backend: Any, arn: str) -> Any:
    for role in list(backend.roles.values()):
        if role.arn == arn:
            return role
    return None


def _expired(expiration: Any) -> bool:
    if not isinstance(expiration, datetime):
        return False
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=timezone.utc)
    utils = sys.modules.get("moto.core.utils")
    now_fn = getattr(utils, "utcnow", None)
    now = now_fn() if now_fn is not None else datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return bool(now >= expiration)


class MotoIdentities:
    """An IdentityProvider reading moto's IAM and STS state at request time.

    Works in-process beside ``mock_aws`` and in a server that also serves moto's services:
    both keep their state in moto's backends in this process. Access keys of IAM users and of
    STS ``AssumeRole`` sessions are recognised; a user's policies are its inline and attached
    policies plus those of its groups, a session's are its role's; AWS managed policies
    (``AmazonEC2ContainerRegistryReadOnly`` and the rest) come from moto's copies.
    """

    def principal_for_key(self, access_key: str) -> Principal | None:
        """The moto user or assumed-role session owning ``access_key``."""
        for account_id, backend in _iam_backends():
            key = backend.access_keys.get(access_key)
            if key is None:
                continue
            if getattr(key, "status", "Active") != "Active":
                raise Unauthenticated()
            if key.user_name:
                user = backend.users.get(key.user_name)
                if user is None:
                    raise Unauthenticated()
                tags = _tags(backend.tagger.list_tags_for_resource(user.arn))
                return Principal(user.arn, account_id, "user", tuple(sorted(tags.items())))
            for session in _sts_sessions(account_id):
                if session.access_key_id == access_key:
                    if _expired(getattr(session, "expiration", None)):
                        raise ExpiredCredentials()
                    return Principal(session.arn, account_id, "assumed-role")
        return None

    def identity(self, principal: Principal) -> Identity | None:
        """Current policies and tags of a moto user or assumed-role session."""
        if principal.kind not in ("user", "assumed-role", "role"):
            return None
        for account_id, backend in _iam_backends():
            if account_id != principal.account_id:
                continue
            if principal.kind == "user":
                user = _user_by_arn(backend, principal.arn)
                if user is None:
                    continue
                policies = _policies_of(user)
                for group in list(backend.groups.values()):
                    if user in group.users:
                        policies.extend(_policies_of(group))
                tags = _tags(backend.tagger.list_tags_for_resource(user.arn))
                return Identity(principal, tuple(policies), tags)
            role_arn = self._role_arn(principal)
            role = _role_by_arn(backend, role_arn) if role_arn else None
            if role is None:
                continue
            return Identity(principal, tuple(_policies_of(role)), _tags(role.tags), role_arn)
        return None

    @staticmethod
    def _role_arn(principal: Principal) -> str | None:
        if principal.kind == "role":
            return principal.arn
        for session in _sts_sessions(principal.account_id):
            if session.arn == principal.arn:
                return str(session.role_arn)
        return None


@functools.cache
def _managed_policy_data() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, Any] = json.loads(aws_managed_policies_data)
    return {name: data[name] for name in ECR_MANAGED_POLICIES}


def _add_to(backend: Any, account_id: str) -> list[str]:
    from moto.iam.models import AWSManagedPolicy

    arns: list[str] = []
    for name, data in _managed_policy_data().items():
        arn = f"arn:aws:iam::aws:policy/{name}"
        if arn not in backend.managed_policies:
            policy = AWSManagedPolicy.from_data(name, account_id, "us-east-1", data)
            backend.managed_policies.setdefault(policy.arn, policy)
        arns.append(arn)
    return arns


def add_ecr_managed_policies(account_id: str = "123456789012") -> list[str]:
    """Make moto's IAM in ``account_id`` know the four AWS managed ECR policies; their ARNs.

    moto only loads AWS managed policies when asked (``mock_aws(config={"iam":
    {"load_aws_managed_policies": True}})`` or ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``), which
    loads all of them; this adds just the ECR ones, cheaply. Call it after ``mock_aws`` starts
    (moto resets its state on start). Adding them twice is harmless. Requires moto.
    """
    from moto.iam.models import iam_backends

    return _add_to(iam_backends[account_id]["aws"], account_id)


def ensure_ecr_managed_policies(default_account: str = "123456789012") -> None:
    """Add the ECR managed policies to every IAM backend moto holds and to ``default_account``'s."""
    add_ecr_managed_policies(default_account)
    for account_id, backend in _iam_backends():
        _add_to(backend, account_id)


_ECR_TARGET_PREFIXES = ("AmazonEC2ContainerRegistry_V20150921.", "SpencerFrontendService.")
_ECR_SIGNING_NAMES = ("ecr", "ecr-public")
_SCOPE_RE = re.compile(r"Credential=[^/,\s]+/[0-9]{8}/[^/]+/([a-z0-9.-]+)/aws4_request")
_QUERY_SCOPE_RE = re.compile(r"X-Amz-Credential=[^&]*?%2F([a-z0-9.-]+)%2Faws4_request", re.I)


def moto_service(environ: dict[str, Any]) -> str | None:
    """The AWS service (SigV4 signing name) of a request that is not for ECR, else None.

    ECR and ECR Public calls (their ``X-Amz-Target``, or signed for ``ecr`` / ``ecr-public``),
    registry calls (``/v2/``, Basic credentials) and unsigned calls are ECR's; anything signed
    for another service (``iam``, ``sts``, ``s3``...) is moto's.
    """
    if str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(_ECR_TARGET_PREFIXES):
        return None
    match = _SCOPE_RE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    if match is None:
        match = _QUERY_SCOPE_RE.search(str(environ.get("QUERY_STRING", "")))
    if match is None or match.group(1) in _ECR_SIGNING_NAMES:
        return None
    return match.group(1)


_SERVED: dict[str, bool] = {}


def moto_serves(service: str) -> bool:
    """Whether moto's server has a backend for the SigV4 signing name ``service``.

    Answers without importing the backend (moto's URL index only); cached per name.
    """
    known = _SERVED.get(service)
    if known is not None:
        return known
    try:
        from moto.backend_index import backend_url_patterns
        from moto.backends import list_of_moto_modules
        from moto.moto_server.werkzeug_app import SIGNING_ALIASES
    except ImportError:
        return True  # moto's own answer (501 without its server extras) says what is missing
    name = SIGNING_ALIASES.get(service, service)
    url = f"http://{name}.us-east-1.amazonaws.com"
    served = name in set(list_of_moto_modules()) or any(
        pattern.match(url) for _, pattern in backend_url_patterns
    )
    _SERVED[service] = served
    return served


def unknown_service_app(service: str) -> WSGIApp:
    """A WSGI app refusing at once, with a JSON 1.1 error naming ``service`` (400: no retries)."""

    def refuse(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = json.dumps(
            {
                "__type": "UnknownServiceException",
                "message": f"ecr-mock does not serve the AWS service '{service}': it serves ECR "
                "and the services moto emulates",
            }
        ).encode()
        start_response(
            "400 Bad Request",
            [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
        )
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    return refuse


WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]
_moto_app: list[WSGIApp] = []
_moto_app_lock = threading.Lock()


AWS_EXTRA = "ecr-mock[aws]"
"""The extra that brings moto with its server: IAM, STS, EventBridge and moto's other services."""


def moto_server_installed() -> bool:
    """Whether moto and its server's dependencies can be imported (without importing them)."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("moto", "flask"))


def _unavailable(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A 400 JSON 1.1 error naming the extra: other AWS services need moto's server."""
    body = json.dumps(
        {
            "__type": "UnknownServiceException",
            "message": "ecr-mock serves AWS services other than ECR (IAM, STS, ...) through "
            f"moto's server, which is not installed: pip install '{AWS_EXTRA}'",
        }
    ).encode()
    start_response(
        "400 Bad Request",
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
    )
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def moto_wsgi(default_account: str = "123456789012") -> WSGIApp:
    """A WSGI app serving every AWS service moto emulates (IAM, STS, S3...), made once.

    Before each request the four ECR managed policies are made known to moto's IAM, so that
    ``aws iam attach-user-policy --policy-arn arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly``
    works as against AWS. Without moto's server (the ``ecr-mock[aws]`` extra) it answers 400
    naming the extra.
    """
    with _moto_app_lock:
        if not _moto_app:
            try:
                from moto.moto_server.werkzeug_app import (
                    DomainDispatcherApplication,
                    create_backend_app,
                )
            except ImportError:
                _moto_app.append(_unavailable)
            else:
                _moto_app.append(DomainDispatcherApplication(create_backend_app))
        app = _moto_app[0]

    def serve(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if app is not _unavailable:
            ensure_ecr_managed_policies(default_account)
        return app(environ, start_response)

    return serve


MOTO_IDENTITIES = MotoIdentities()
"""The provider the faces install into every store they serve (it does nothing until moto's
IAM holds users)."""
