"""What the core service tests share: the OCI media types of the pushed images and ``Push``,
the type of the ``push`` fixture."""

from __future__ import annotations

from collections.abc import Callable

from ecr_mock.domain.models import Image

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

Push = Callable[..., Image]
