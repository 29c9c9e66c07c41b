"""Providers: what moto and the network supply to a Store (identities, events, upstreams).

The faces (``mock_ecr``, the live server, ``ecr-mock serve``) call :func:`install` once for
each Store they serve; nothing here registers itself at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecr_mock.runtime.providers import moto_iam, upstream_http

if TYPE_CHECKING:
    from ecr_mock.store.state import Store

__all__ = ["install"]


def install(store: Store) -> None:
    """Give ``store`` moto's IAM/STS identities, the HTTP upstream client and moto's secrets.

    Installing twice is harmless; a slot the user filled already is kept.
    """

    with store.lock:
        if "providers" in store.installed:
            return
        if not any(p is moto_iam.MOTO_IDENTITIES for p in store.identity_providers):
            store.identity_providers.append(moto_iam.MOTO_IDENTITIES)
        upstream_http.install(store)
        store.installed["providers"] = lambda: None
