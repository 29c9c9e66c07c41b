"""Domain errors: each carries its ECR error code and builds ECR's message from its arguments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar


class EcrError(Exception):
    """Base of every domain error; ``code`` is the ECR API error code (``__type``)."""

    code: ClassVar[str] = "ServerException"
    status: ClassVar[int] = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class SerializationFailed(EcrError):
    """A request member cannot be read as its type (e.g. a blob that is not base64)."""

    code = "SerializationException"


class InvalidParameter(EcrError):
    """A parameter fails a constraint the service checks beyond the model."""

    code = "InvalidParameterException"


class ValidationFailed(EcrError):
    """A parameter fails a constraint of the API model."""

    code = "ValidationException"


class InvalidTagParameter(EcrError):
    """A resource tag key or value is malformed."""

    code = "InvalidTagParameterException"


class TooManyTags(EcrError):
    """More than 50 resource tags would be on a resource."""

    code = "TooManyTagsException"


class LimitExceeded(EcrError):
    """A service quota or rate limit was hit."""

    code = "LimitExceededException"


class RepositoryNotFound(EcrError):
    """The named repository does not exist in the registry."""

    code = "RepositoryNotFoundException"

    def __init__(self, name: str, registry_id: str) -> None:
        super().__init__(
            f"The repository with name '{name}' does not exist in the registry with id "
            f"'{registry_id}'"
        )
        self.name = name
        self.registry_id = registry_id


class RepositoryAlreadyExists(EcrError):
    """CreateRepository on a name that exists."""

    code = "RepositoryAlreadyExistsException"

    def __init__(self, name: str, registry_id: str) -> None:
        super().__init__(
            f"The repository with name '{name}' already exists in the registry with id "
            f"'{registry_id}'"
        )


class RepositoryNotEmpty(EcrError):
    """DeleteRepository without force on a repository holding images."""

    code = "RepositoryNotEmptyException"

    def __init__(self, name: str, registry_id: str) -> None:
        super().__init__(
            f"The repository with name '{name}' in registry with id '{registry_id}' cannot be "
            "deleted because it still contains images"
        )


class RepositoryPolicyNotFound(EcrError):
    """No repository policy is set."""

    code = "RepositoryPolicyNotFoundException"

    def __init__(self, name: str, registry_id: str) -> None:
        super().__init__(
            "Repository policy does not exist for the repository with name "
            f"'{name}' in the registry with id '{registry_id}'"
        )


class RegistryPolicyNotFound(EcrError):
    """No registry policy is set."""

    code = "RegistryPolicyNotFoundException"

    def __init__(self, registry_id: str) -> None:
        super().__init__(f"Registry policy does not exist in the registry with id '{registry_id}'")


class LifecyclePolicyNotFound(EcrError):
    """No lifecycle policy is set."""

    code = "LifecyclePolicyNotFoundException"

    def __init__(self, name: str, registry_id: str) -> None:
        super().__init__(
            "Lifecycle policy does not exist for the repository with name "
            f"'{name}' in the registry with id '{registry_id}'"
        )


class ImageNotFound(EcrError):
    """An image id matches no image (API), or a reference matches no manifest (/v2/)."""

    code = "ImageNotFoundException"

    def __init__(self, message: str = "Requested image not found") -> None:
        super().__init__(message)


class ImageAlreadyExists(EcrError):
    """The same manifest is put again under the same tag (or untagged again)."""

    code = "ImageAlreadyExistsException"

    def __init__(self, digest: str, tag: str | None, name: str, registry_id: str) -> None:
        what = f"and tag '{tag}' " if tag else "and no tag "
        super().__init__(
            f"Image with digest '{digest}' {what}already exists in the repository with name "
            f"'{name}' in registry with id '{registry_id}'"
        )


class ImageTagAlreadyExists(EcrError):
    """A tag would move in an immutable repository."""

    code = "ImageTagAlreadyExistsException"

    def __init__(self, tag: str, name: str) -> None:
        super().__init__(
            f"The image tag '{tag}' already exists in the '{name}' repository and cannot be "
            "overwritten because the repository is immutable."
        )
        self.tag = tag


class ImageDigestDoesNotMatch(EcrError):
    """The caller-supplied digest is not the digest of the manifest."""

    code = "ImageDigestDoesNotMatchException"

    def __init__(self, given: str, actual: str) -> None:
        super().__init__(
            f"Invalid parameter at 'imageDigest' failed to satisfy constraint: 'The digest "
            f"'{given}' does not match the digest of the manifest '{actual}''"
        )


class LayersNotFound(EcrError):
    """A manifest references blobs that were never uploaded."""

    code = "LayersNotFoundException"

    def __init__(self, digests: Iterable[str], name: str, registry_id: str) -> None:
        self.digests = sorted(set(digests))
        super().__init__(
            f"Layers with digests '{self.digests}' required for pushing image into repository "
            f"with name '{name}' in registry with id '{registry_id}' do not exist"
        )


class LayerNotFound(EcrError):
    """GetDownloadUrlForLayer names a layer the repository never received."""

    code = "LayersNotFoundException"

    def __init__(self, digest: str, name: str, registry_id: str) -> None:
        super().__init__(
            f"The image layer '{digest}' does not exist in the repository with name '{name}' in "
            f"the registry with id '{registry_id}'"
        )


class ReferencedImagesNotFound(EcrError):
    """A manifest list or index references manifests that are not in the repository."""

    code = "ReferencedImagesNotFoundException"

    def __init__(self, digests: Iterable[str]) -> None:
        self.digests = sorted(set(digests))
        super().__init__(
            f"Manifest list or image index references images with digests {self.digests} "
            "which do not exist in the repository"
        )


class ManifestInvalid(EcrError):
    """The manifest is not valid JSON of a supported media type."""

    code = "InvalidParameterException"

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"Invalid parameter at 'ImageManifest' failed to satisfy constraint: '{detail}'"
        )
        self.detail = detail


class UnsupportedImageType(EcrError):
    """A manifest media type ECR does not store (e.g. Docker schema 1)."""

    code = "UnsupportedImageTypeException"


class ImageArchived(EcrError):
    """An archived image cannot be pulled until it is restored."""

    code = "ImageArchivedException"

    def __init__(self, digest: str) -> None:
        super().__init__(
            f"The image with digest '{digest}' is archived and cannot be pulled. "
            "Restore the image before pulling it."
        )


class UploadNotFound(EcrError):
    """The upload id is unknown (never started, completed or cancelled)."""

    code = "UploadNotFoundException"

    def __init__(self, upload_id: str, name: str, registry_id: str) -> None:
        super().__init__(
            f"Upload with id '{upload_id}' is not found in repository with name '{name}' "
            f"in registry with id '{registry_id}'"
        )


class InvalidLayerPart(EcrError):
    """A layer part does not continue where the previous part stopped."""

    code = "InvalidLayerPartException"

    def __init__(
        self, message: str, upload_id: str, name: str, registry_id: str, last_valid_byte: int
    ) -> None:
        super().__init__(
            message,
            registryId=registry_id,
            repositoryName=name,
            uploadId=upload_id,
            lastValidByteReceived=last_valid_byte,
        )
        self.last_valid_byte = last_valid_byte


class LayerPartTooSmall(EcrError):
    """A part other than the last is smaller than 5 MiB."""

    code = "LayerPartTooSmallException"


class EmptyUpload(EcrError):
    """An upload is completed with no bytes."""

    code = "EmptyUploadException"

    def __init__(self, upload_id: str, name: str, registry_id: str) -> None:
        super().__init__(
            f"The upload with id '{upload_id}' in repository with name '{name}' in registry "
            f"with id '{registry_id}' cannot be completed because it does not have any parts"
        )


class InvalidLayer(EcrError):
    """The uploaded bytes do not have the declared digest (or the digest is malformed)."""

    code = "InvalidLayerException"


class DigestInvalid(EcrError):
    """A digest string is malformed or does not match the content (/v2/ DIGEST_INVALID)."""

    code = "InvalidLayerException"


class SizeInvalid(EcrError):
    """A body is shorter or longer than declared (/v2/ SIZE_INVALID)."""

    code = "InvalidParameterException"


class RangeInvalid(EcrError):
    """A chunk does not start where the upload stands (/v2/ 416)."""

    code = "InvalidLayerPartException"

    def __init__(self, message: str, current_size: int) -> None:
        super().__init__(message)
        self.current_size = current_size


class DigestMalformed(DigestInvalid):
    """A digest in a ``/v2/`` path or query that is no digest (DIGEST_INVALID naming it)."""

    def __init__(self, digest: str) -> None:
        super().__init__(f"Invalid digest: '{digest}'", digest=digest)
        self.digest = digest


class RepositoryNameInvalid(InvalidParameter):
    """A ``/v2/`` path naming no valid repository name (NAME_INVALID)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"Invalid repository name '{name}': it must match "
            "'(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*' and be 2-256 "
            "characters"
        )
        self.name = name


class TagInvalid(InvalidParameter):
    """A malformed image tag in a ``/v2/`` manifest reference (TAG_INVALID)."""

    def __init__(self, tag: str) -> None:
        super().__init__(
            "Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy "
            "regular expression '[a-zA-Z0-9-_.]+' and have length between 1 and 300'"
        )
        self.tag = tag


class LayerAlreadyExists(EcrError):
    """CompleteLayerUpload of a layer the registry already holds."""

    code = "LayerAlreadyExistsException"

    def __init__(self, digest: str, name: str, registry_id: str) -> None:
        super().__init__(
            f"The layer with digest '{digest}' already exists in the repository with name "
            f"'{name}' in registry with id '{registry_id}'"
        )


class LayerInaccessible(EcrError):
    """GetDownloadUrlForLayer of a layer no image in the repository references."""

    code = "LayerInaccessibleException"

    def __init__(self, digest: str, name: str, registry_id: str) -> None:
        super().__init__(
            f"The specified layer '{digest}' is not accessible in the repository with name "
            f"'{name}' in registry with id '{registry_id}'"
        )


class BlobUnknown(EcrError):
    """/v2/ asked for a blob the repository cannot serve."""

    code = "LayersNotFoundException"

    def __init__(self, digest: str) -> None:
        super().__init__(f"blob unknown to registry: {digest}")
        self.digest = digest


class Unsupported(EcrError):
    """An operation this registry does not support."""

    code = "UnsupportedImageTypeException"


class AccessDenied(EcrError):
    """The caller may not perform the action on the resource."""

    code = "AccessDeniedException"

    def __init__(self, principal_arn: str, action: str, resource: str, because: str = "") -> None:
        text = (
            f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource}"
        )
        if because:
            text += f" {because}"
        super().__init__(text)


class Unauthenticated(EcrError):
    """No, malformed or unknown credentials."""

    code = "UnrecognizedClientException"
    status = 401

    def __init__(
        self, message: str = "The security token included in the request is invalid."
    ) -> None:
        super().__init__(message)


class UnverifiableToken(Unauthenticated):
    """A registry password this server cannot verify: not its token, another key's, altered
    or revoked; the message says which."""


class TokenExpired(EcrError):
    """An authorization token past its ``expiresAt``."""

    code = "ExpiredTokenException"
    status = 403

    def __init__(self) -> None:
        super().__init__("Your authorization token has expired. Reauthenticate and try again.")


class ScanNotFound(EcrError):
    """No scan exists for the image."""

    code = "ScanNotFoundException"


class KmsError(EcrError):
    """A KMS key cannot be used."""

    code = "KmsException"


class ItemFailure(EcrError):
    """One item (image id, layer digest) of a batch call cannot be served.

    ``failure_code`` is the item's ``failureCode``; the message its ``failureReason``.
    """

    code = "InvalidParameterException"

    def __init__(self, failure_code: str, message: str) -> None:
        super().__init__(message)
        self.failure_code = failure_code


class ImageDeleteFailure(ItemFailure):
    """One image id of BatchDeleteImage cannot be deleted; ``failure_code`` says why."""


class SigningConfigurationNotFound(EcrError):
    """The registry has no signing configuration."""

    code = "SigningConfigurationNotFoundException"

    def __init__(self, registry_id: str) -> None:
        super().__init__(
            f"Signing configuration does not exist in the registry with id '{registry_id}'"
        )


class ExclusionAlreadyExists(EcrError):
    """The principal is already on the pull-time update exclusion list."""

    code = "ExclusionAlreadyExistsException"

    def __init__(self, principal_arn: str, registry_id: str) -> None:
        super().__init__(
            f"The pull time update exclusion for principal '{principal_arn}' already exists in "
            f"the registry with id '{registry_id}'"
        )


class ExclusionNotFound(EcrError):
    """The principal is not on the pull-time update exclusion list."""

    code = "ExclusionNotFoundException"

    def __init__(self, principal_arn: str, registry_id: str) -> None:
        super().__init__(
            f"The pull time update exclusion for principal '{principal_arn}' does not exist in "
            f"the registry with id '{registry_id}'"
        )


class ReplicationBackfillInProgress(EcrError):
    """A replication backfill to the same destination region has not ended yet."""

    code = "ReplicationBackfillInProgressException"

    def __init__(self, region: str, backfill_id: str, registry_id: str) -> None:
        super().__init__(
            f"A replication backfill to the destination region '{region}' is already in "
            f"progress in the registry with id '{registry_id}' (replicationBackfillId "
            f"'{backfill_id}')"
        )


class ReplicationBackfillNotFound(EcrError):
    """No replication backfill has the id in the registry."""

    code = "ReplicationBackfillNotFoundException"

    def __init__(self, backfill_id: str, registry_id: str) -> None:
        super().__init__(
            f"The replication backfill with id '{backfill_id}' does not exist in the registry "
            f"with id '{registry_id}'"
        )


class ReplicationBackfillInvalidStatus(EcrError):
    """The backfill's status does not allow the operation (stopping an ended backfill)."""

    code = "ReplicationBackfillInvalidStatusException"

    def __init__(self, backfill_id: str, status: str) -> None:
        super().__init__(
            f"The replication backfill with id '{backfill_id}' cannot be stopped because its "
            f"status is '{status}'; only a PREPARING or IN_PROGRESS backfill can be stopped"
        )


class MissingAuthenticationToken(Unauthenticated):
    """Strict mode: a request carries no credentials at all."""

    code = "MissingAuthenticationTokenException"

    def __init__(self) -> None:
        super().__init__("Missing Authentication Token")


class ExpiredCredentials(Unauthenticated):
    """Temporary credentials (an assumed-role session) past their expiry."""

    code = "ExpiredTokenException"

    def __init__(self) -> None:
        super().__init__("The security token included in the request is expired")


class LifecyclePolicyPreviewInProgress(EcrError):
    """StartLifecyclePolicyPreview while the previous preview has not completed."""

    code = "LifecyclePolicyPreviewInProgressException"

    def __init__(self) -> None:
        super().__init__(
            "Previous lifecycle policy preview request has not completed. Please try again later."
        )


class LifecyclePolicyPreviewNotFound(EcrError):
    """GetLifecyclePolicyPreview before any preview was started for the repository."""

    code = "LifecyclePolicyPreviewNotFoundException"

    def __init__(self, name: str, registry_id: str) -> None:
        super().__init__(
            "Lifecycle policy preview request does not exist for the repository with name "
            f"'{name}' in the registry with id '{registry_id}'"
        )


class ImageStorageClassUpdateNotSupported(EcrError):
    """UpdateImageStorageClass on an image whose restore is still in progress."""

    code = "ImageStorageClassUpdateNotSupportedException"


class LifecyclePolicyError(InvalidParameter):
    """Lifecycle policy text fails validation; ``detail`` is the part after ECR's fixed prefix."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
            f"'Lifecycle policy validation failure: {detail}'"
        )
        self.detail = detail


class PullThroughCacheRuleAlreadyExists(EcrError):
    """A rule with the prefix exists."""

    code = "PullThroughCacheRuleAlreadyExistsException"

    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"Pull through cache rule with prefix '{prefix}' already exists in registry with id "
            f"'{registry_id}'"
        )


class PullThroughCacheRuleNotFound(EcrError):
    """No rule with the prefix."""

    code = "PullThroughCacheRuleNotFoundException"

    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"Pull through cache rule with prefix '{prefix}' does not exist in registry with id "
            f"'{registry_id}'"
        )


class UnsupportedUpstreamRegistry(EcrError):
    """The upstream URL or registry type is not one ECR can cache from."""

    code = "UnsupportedUpstreamRegistryException"


class SecretNotFound(EcrError):
    """The rule's credential ARN names no secret."""

    code = "SecretNotFoundException"

    def __init__(self, arn: str) -> None:
        super().__init__(f"The secret with ARN '{arn}' was not found")


class UnableToAccessSecret(EcrError):
    """The secret cannot be read."""

    code = "UnableToAccessSecretException"


class UnableToDecryptSecretValue(EcrError):
    """The secret is readable but its value is not usable."""

    code = "UnableToDecryptSecretValueException"


class UnableToGetUpstreamImage(EcrError):
    """The upstream did not give the image (unreachable, refused, unknown, or bad content)."""

    code = "UnableToGetUpstreamImageException"


class UnableToGetUpstreamLayer(EcrError):
    """The upstream did not give a layer of the image."""

    code = "UnableToGetUpstreamLayerException"


class TemplateAlreadyExists(EcrError):
    """CreateRepositoryCreationTemplate on a prefix that has a template."""

    code = "TemplateAlreadyExistsException"

    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"Repository creation template with prefix '{prefix}' already exists in the "
            f"registry with id '{registry_id}'"
        )


class TemplateNotFound(EcrError):
    """Update/Delete of a prefix without a template."""

    code = "TemplateNotFoundException"

    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"Repository creation template with prefix '{prefix}' does not exist in the "
            f"registry with id '{registry_id}'"
        )


class UnsupportedCommand(EcrError):
    """An ECR Public call outside the one region that serves the ECR Public API."""

    code = "UnsupportedCommandException"

    def __init__(self, region: str) -> None:
        super().__init__(
            f"The action isn't supported in this Region ({region}): the ECR Public API is "
            "served in us-east-1"
        )


class RegistryNotFound(EcrError):
    """An ECR Public registry id or alias names no registry."""

    code = "RegistryNotFoundException"

    def __init__(self, registry: str) -> None:
        super().__init__(f"The registry with id or alias '{registry}' does not exist")
