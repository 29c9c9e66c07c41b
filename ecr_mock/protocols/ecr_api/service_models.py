"""botocore's service models (``service-2.json``) of ECR and ECR Public, read from botocore's data."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
from typing import Any


def load_model(service: str) -> dict[str, Any]:
    path = model_file(service)
    if path is not None:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as handle:
            loaded: dict[str, Any] = json.loads(handle.read())
        return loaded
    import botocore.loaders

    fallback: dict[str, Any] = botocore.loaders.Loader().load_service_model(service, "service-2")
    return fallback


def model_file(service: str) -> str | None:
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        service_dir = os.path.join(root, "data", service)
        try:
            versions = sorted(os.listdir(service_dir), reverse=True)
        except OSError:
            continue
        for version in versions:
            for name in ("service-2.json.gz", "service-2.json"):
                candidate = os.path.join(service_dir, version, name)
                if os.path.isfile(candidate):
                    return candidate
    return None
