"""OCI distribution v1.1 / Docker Registry v2 over the backend, with ECR's auth and errors."""

from ecr_mock.protocols.registry.app import RegistryApp, basic_auth_headers
from ecr_mock.services.download_urls import layer_download_url

__all__ = ["RegistryApp", "basic_auth_headers", "layer_download_url"]
