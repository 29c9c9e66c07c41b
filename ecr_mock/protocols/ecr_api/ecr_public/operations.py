"""The ECR Public API (``ecr-public``, target ``SpencerFrontendService``): its 23 operations."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from ecr_mock.domain.errors import InvalidParameter, SerializationFailed, UnsupportedCommand
from ecr_mock.domain.models import Registry, Repository
from ecr_mock.protocols.ecr_api.dispatch import (
    ApiService,
    Context,
    Handler,
    Params,
    Result,
    paginate,
)
from ecr_mock.protocols.ecr_api.ecr import images, layers
from ecr_mock.protocols.ecr_api.ecr.repositories import tags_param
from ecr_mock.protocols.ecr_api.serialize import image_detail, tags_json
from ecr_mock.services import policies, repositories
from ecr_mock.services import public as svc
from ecr_mock.services.access import AccessRequest, check_access

MODEL = "ecr-public"
DEFAULT_PAGE = 100
MAX_PAGE = 1000
IMAGE_DETAIL_MEMBERS = (
    "registryId",
    "repositoryName",
    "imageDigest",
    "imageTags",
    "imageSizeInBytes",
    "imagePushedAt",
    "imageManifestMediaType",
    "artifactMediaType",
)
"""The members of ECR Public's ``ImageDetail`` (fewer than private ECR's)."""
REFERENCED_IMAGE_MEMBERS = IMAGE_DETAIL_MEMBERS[2:3] + IMAGE_DETAIL_MEMBERS[4:]


class PublicContext(Context):
    """An ECR Public call: registries are the accounts' public registries."""

    def registry(self, params: Params) -> Registry:
        """The public registry ``registryId`` names (an account id or, where the model allows,
        an alias); the caller's own by default."""
        value = params.get("registryId")
        if not value:
            return svc.public_registry(self.backend, self.account)
        return svc.registry_by_id_or_alias(self.backend, str(value))

    def repository(self, params: Params, reg: Registry | None = None) -> Repository:
        """Public repository ``repositoryName``; RepositoryNotFoundException otherwise."""
        reg = reg or self.registry(params)
        return svc.get_repository(self.backend, reg, params["repositoryName"])


# ----- access: the region, then IAM with ecr-public actions ------------------------------------


def _access_registry(account: str) -> Registry:
    """A stand-in naming the owner for evaluation: public registries have no registry policy."""
    return Registry(account=account, region=svc.API_REGION)


def _targets(ctx: Context, params: Params) -> list[AccessRequest]:
    action = f"ecr-public:{ctx.operation}"
    if ctx.operation == "GetAuthorizationToken":
        return [
            AccessRequest(action, "*", identity_only=True),
            AccessRequest("sts:GetServiceBearerToken", "*", identity_only=True),
        ]
    if ctx.operation in ("TagResource", "UntagResource", "ListTagsForResource"):
        parsed = svc.parse_repository_arn(str(params.get("resourceArn") or ""))
        if parsed is None:
            return []
        account, name = parsed
        found = ctx.backend.registries.get((account, svc.PUBLIC_REGION))
        repo = found.repositories.get(svc.repository_key(found, name)) if found else None
        keys = params.get("tagKeys")
        return [
            AccessRequest(
                action,
                svc.repository_arn(account, name),
                _access_registry(account),
                repo,
                request_tags=tags_param(params.get("tags")) if params.get("tags") else None,
                tag_keys=tuple(str(k) for k in keys) if isinstance(keys, list) else None,
            )
        ]
    value = str(params.get("registryId") or ctx.account)
    reg = (
        ctx.backend.registries.get((value, svc.PUBLIC_REGION))
        if len(value) == 12 and value.isdigit()
        else svc.find_by_alias(ctx.backend, value)
    )
    account = reg.account if reg is not None else value
    if len(account) != 12 or not account.isdigit():
        return []  # an unknown alias: the handler answers RegistryNotFoundException
    owner = _access_registry(account)
    repo_name = params.get("repositoryName")
    if isinstance(repo_name, str) and repo_name:
        name = repo_name
        repo = reg.repositories.get(svc.repository_key(reg, name)) if reg else None
        tags = params.get("tags") if ctx.operation == "CreateRepository" else None
        return [
            AccessRequest(
                action,
                svc.repository_arn(account, name),
                owner,
                repo,
                request_tags=tags_param(tags) if tags else None,
            )
        ]
    names = params.get("repositoryNames")
    if isinstance(names, list) and names:
        return [AccessRequest(action, svc.repository_arn(account, str(n)), owner) for n in names]
    if ctx.operation == "DescribeRepositories":
        return [AccessRequest(action, svc.repository_arn(account, "*"), owner)]
    return [AccessRequest(action, svc.registry_arn(account), owner)]


def check(ctx: Context, params: Params) -> None:
    """Only us-east-1 serves the ECR Public API; then each target must be allowed."""
    if ctx.region != svc.API_REGION:
        raise UnsupportedCommand(ctx.region)
    for request in _targets(ctx, params):
        check_access(
            ctx.backend,
            ctx.principal,
            AccessRequest(
                request.action,
                request.resource,
                request.registry,
                request.repository,
                source_ip=ctx.source_ip,
                secure_transport=ctx.secure_transport,
                request_tags=request.request_tags,
                tag_keys=request.tag_keys,
                identity_only=request.identity_only,
            ),
        )


# ----- shapes ----------------------------------------------------------------------------------


def _repository_json(ctx: Context, reg: Registry, repo: Repository) -> dict[str, Any]:
    return {
        "repositoryArn": svc.repository_arn(reg.account, repo.name),
        "registryId": reg.account,
        "repositoryName": repo.name,
        "repositoryUri": svc.repository_uri(ctx.backend, reg, repo),
        "createdAt": repo.created_at,
    }


def _catalog_json(ctx: Context, reg: Registry, repo: Repository) -> dict[str, Any]:
    catalog = repo.catalog
    doc: dict[str, Any] = {}
    if catalog is not None:
        if catalog.description is not None:
            doc["description"] = catalog.description
        if catalog.architectures:
            doc["architectures"] = list(catalog.architectures)
        if catalog.operating_systems:
            doc["operatingSystems"] = list(catalog.operating_systems)
        url = svc.logo_url(ctx.backend, reg, repo)
        if url is not None:
            doc["logoUrl"] = url
        if catalog.about_text is not None:
            doc["aboutText"] = catalog.about_text
        if catalog.usage_text is not None:
            doc["usageText"] = catalog.usage_text
    doc["marketplaceCertified"] = False
    return doc


def _catalog_input(raw: Any) -> dict[str, Any]:
    """``RepositoryCatalogDataInput`` with the logo decoded from base64."""
    data = dict(raw or {})
    logo = data.get("logoImageBlob")
    if isinstance(logo, str):
        try:
            data["logoImageBlob"] = base64.b64decode(logo, validate=True)
        except (binascii.Error, ValueError):
            raise SerializationFailed("Invalid base64 content for 'logoImageBlob'") from None
    return data


def _registry_json(ctx: Context, reg: Registry) -> dict[str, Any]:
    return {
        "registryId": reg.account,
        "registryArn": svc.registry_arn(reg.account),
        "registryUri": svc.registry_uri(ctx.backend, reg),
        "verified": False,
        "aliases": [
            {
                "name": svc.alias_of(reg),
                "status": "ACTIVE",
                "primaryRegistryAlias": True,
                "defaultRegistryAlias": True,
            }
        ],
    }


def _page(items: list[Any], params: Params) -> tuple[list[Any], str | None]:
    return paginate(items, params, default=DEFAULT_PAGE, maximum=MAX_PAGE)


def _with_token(result: Result, token: str | None) -> Result:
    if token:
        result["nextToken"] = token
    return result


# ----- repositories and catalog data -----------------------------------------------------------


def create_repository(ctx: Context, params: Params) -> Result:
    """CreateRepository: a public repository with its catalog data and resource tags."""
    reg = svc.public_registry(ctx.backend, ctx.account)
    repo = svc.create_repository(
        ctx.backend,
        reg,
        params["repositoryName"],
        _catalog_input(params.get("catalogData")),
        tags_param(params.get("tags")),
    )
    return {
        "repository": _repository_json(ctx, reg, repo),
        "catalogData": _catalog_json(ctx, reg, repo),
    }


def describe_repositories(ctx: Context, params: Params) -> Result:
    """DescribeRepositories: the named repositories (each must exist) or all, paginated."""
    reg = ctx.registry(params)
    names = params.get("repositoryNames")
    if names:
        found = [svc.get_repository(ctx.backend, reg, str(n)) for n in names]
    else:
        found = svc.repositories(reg)
    page, token = _page(found, params)
    return _with_token({"repositories": [_repository_json(ctx, reg, repo) for repo in page]}, token)


def delete_repository(ctx: Context, params: Params) -> Result:
    """DeleteRepository: refused while images remain unless ``force``."""
    reg = ctx.registry(params)
    repo = svc.delete_repository(
        ctx.backend, reg, params["repositoryName"], bool(params.get("force"))
    )
    return {"repository": _repository_json(ctx, reg, repo)}


def get_repository_catalog_data(ctx: Context, params: Params) -> Result:
    """GetRepositoryCatalogData: the repository's gallery data."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    return {"catalogData": _catalog_json(ctx, reg, repo)}


def put_repository_catalog_data(ctx: Context, params: Params) -> Result:
    """PutRepositoryCatalogData: replace the repository's gallery data."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    svc.put_catalog(ctx.backend, repo, _catalog_input(params.get("catalogData")))
    return {"catalogData": _catalog_json(ctx, reg, repo)}


def describe_registries(ctx: Context, params: Params) -> Result:
    """DescribeRegistries: the caller's public registry with its alias."""
    reg = svc.public_registry(ctx.backend, ctx.account)
    page, token = _page([reg], params)
    return _with_token({"registries": [_registry_json(ctx, r) for r in page]}, token)


def get_registry_catalog_data(ctx: Context, params: Params) -> Result:
    """GetRegistryCatalogData: the registry's display name."""
    reg = svc.public_registry(ctx.backend, ctx.account)
    name = reg.public.display_name if reg.public is not None else ""
    return {"registryCatalogData": {"displayName": name} if name else {}}


def put_registry_catalog_data(ctx: Context, params: Params) -> Result:
    """PutRegistryCatalogData: set the display name (empty clears it)."""
    reg = svc.public_registry(ctx.backend, ctx.account)
    name = svc.set_display_name(ctx.backend, reg, str(params.get("displayName") or ""))
    return {"registryCatalogData": {"displayName": name} if name else {}}


# ----- repository policies ---------------------------------------------------------------------


def set_repository_policy(ctx: Context, params: Params) -> Result:
    """SetRepositoryPolicy: validated like ECR; ``force`` is needed for a self-lockout."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    text = policies.set_repository_policy(
        ctx.backend,
        repo,
        params["policyText"],
        ctx.principal,
        force=bool(params.get("force")),
        resource_arn=svc.repository_arn(reg.account, repo.name),
        action="ecr-public:SetRepositoryPolicy",
    )
    return {"registryId": reg.account, "repositoryName": repo.name, "policyText": text}


def get_repository_policy(ctx: Context, params: Params) -> Result:
    """GetRepositoryPolicy: the text exactly as set."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    text = policies.get_repository_policy(ctx.backend, repo)
    return {"registryId": reg.account, "repositoryName": repo.name, "policyText": text}


def delete_repository_policy(ctx: Context, params: Params) -> Result:
    """DeleteRepositoryPolicy: returns the text it deleted."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    text = policies.delete_repository_policy(ctx.backend, repo)
    return {"registryId": reg.account, "repositoryName": repo.name, "policyText": text}


# ----- resource tags ---------------------------------------------------------------------------


def _tagged(ctx: Context, params: Params) -> Repository:
    parsed = svc.parse_repository_arn(str(params["resourceArn"]))
    if parsed is None:
        raise InvalidParameter("The ARN provided is invalid.")
    account, name = parsed
    return svc.get_repository(ctx.backend, svc.public_registry(ctx.backend, account), name)


def tag_resource(ctx: Context, params: Params) -> Result:
    """TagResource: add or overwrite tags; at most 50 on a repository."""
    repositories.tag_repository(ctx.backend, _tagged(ctx, params), tags_param(params.get("tags")))
    return {}


def untag_resource(ctx: Context, params: Params) -> Result:
    """UntagResource: remove keys; keys the repository does not have are ignored."""
    repositories.untag_repository(ctx.backend, _tagged(ctx, params), params.get("tagKeys") or [])
    return {}


def list_tags_for_resource(ctx: Context, params: Params) -> Result:
    """ListTagsForResource: every tag of the repository."""
    return {"tags": tags_json(dict(_tagged(ctx, params).resource_tags))}


# ----- images ----------------------------------------------------------------------------------


def _trimmed(doc: Mapping[str, Any], members: tuple[str, ...]) -> dict[str, Any]:
    return {key: doc[key] for key in members if key in doc}


def describe_images(ctx: Context, params: Params) -> Result:
    """DescribeImages: as private ECR's, in ECR Public's ``ImageDetail`` shape."""
    result = images.describe_images(ctx, params)
    result["imageDetails"] = [
        _trimmed(detail, IMAGE_DETAIL_MEMBERS) for detail in result["imageDetails"]
    ]
    return result


def describe_image_tags(ctx: Context, params: Params) -> Result:
    """DescribeImageTags: each tag with the image it points at, paginated."""

    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    page, token = _page(svc.tagged_images(ctx.backend, repo), params)
    details = [
        {
            "imageTag": tag,
            "createdAt": image.pushed_at,
            "imageDetail": _trimmed(image_detail(repo, image), REFERENCED_IMAGE_MEMBERS),
        }
        for tag, image in page
    ]
    return _with_token({"imageTagDetails": details}, token)


def get_authorization_token(ctx: Context, params: Params) -> Result:
    """GetAuthorizationToken: one token for the public registries, valid 12 hours."""
    token = svc.issue_token(ctx.backend, ctx.principal)
    return {
        "authorizationData": {
            "authorizationToken": token.authorization_token,
            "expiresAt": token.expires_at,
        }
    }


HANDLERS: dict[str, Handler] = {
    "BatchCheckLayerAvailability": layers.batch_check_layer_availability,
    "BatchDeleteImage": images.batch_delete_image,
    "CompleteLayerUpload": layers.complete_layer_upload,
    "CreateRepository": create_repository,
    "DeleteRepository": delete_repository,
    "DeleteRepositoryPolicy": delete_repository_policy,
    "DescribeImageTags": describe_image_tags,
    "DescribeImages": describe_images,
    "DescribeRegistries": describe_registries,
    "DescribeRepositories": describe_repositories,
    "GetAuthorizationToken": get_authorization_token,
    "GetRegistryCatalogData": get_registry_catalog_data,
    "GetRepositoryCatalogData": get_repository_catalog_data,
    "GetRepositoryPolicy": get_repository_policy,
    "InitiateLayerUpload": layers.initiate_layer_upload,
    "ListTagsForResource": list_tags_for_resource,
    "PutImage": images.put_image,
    "PutRegistryCatalogData": put_registry_catalog_data,
    "PutRepositoryCatalogData": put_repository_catalog_data,
    "SetRepositoryPolicy": set_repository_policy,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "UploadLayerPart": layers.upload_layer_part,
}
"""Every operation of botocore's ``ecr-public`` model (a test checks this against the model)."""

SERVICE = ApiService(MODEL, HANDLERS.get, check, PublicContext)
