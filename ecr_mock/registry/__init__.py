"""OCI distribution v1.1 / Docker Registry v2 over the backend, with ECR's auth and errors."""

from ecr_mock.core.services.download_urls import layer_download_url
from ecr_mock.registry.app import RegistryApp, basic_auth_headers

__all__ = ["RegistryApp", "basic_auth_headers", "layer_download_url"]
