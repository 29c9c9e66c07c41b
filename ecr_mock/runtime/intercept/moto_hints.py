"""Hints for suites coming from moto: one Python warning when an in-process PutImage is refused
because its layers were never uploaded (moto accepts such images; ECR does not)."""

from __future__ import annotations

import threading
import warnings

from ecr_mock.runtime.errors import MissingLayersWarning as MissingLayersWarning
from ecr_mock.services.backend import Backend

_PUT_IMAGE_TARGETS = frozenset(
    {
        "AmazonEC2ContainerRegistry_V20150921.PutImage",
        "SpencerFrontendService.PutImage",
    }
)
_lock = threading.Lock()
_warned: list[bool] = []


MESSAGE = (
    "PutImage was refused with LayersNotFoundException because the manifest names layers that "
    "were never uploaded, as ECR refuses it. Suites written for moto push such images: "
    "mock_ecr(allow_missing_layers=True) (or ECR_MOCK_ALLOW_MISSING_LAYERS=1) accepts them "
    "as moto does."
)


def note_answer(backend: Backend, target: str, status: int, payload: bytes, injected: bool) -> None:
    """Warn once per process when ``target`` is a PutImage refused for missing layers.

    The answer itself is left as ECR gives it; a refusal made by a fault rule says nothing.
    """
    if status != 400 or injected or target not in _PUT_IMAGE_TARGETS:
        return
    if backend.allow_missing_layers or b'"LayersNotFoundException"' not in payload:
        return
    with _lock:
        if _warned:
            return
        _warned.append(True)
    warnings.warn(MESSAGE, MissingLayersWarning, stacklevel=2)


def reset() -> None:
    """Let the next refusal warn again."""
    with _lock:
        _warned.clear()
