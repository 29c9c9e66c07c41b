"""Quotas mode: the API request rates AWS documents for ECR, enforced with token buckets.

Source: the Amazon ECR User Guide, "Amazon ECR service quotas"
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html), the rows
"Rate of <Operation> requests" (per second, per account and Region; AWS can raise them on
request). ECR throttles with a bucket per account, Region and operation that refills at the
documented rate ("Troubleshooting Amazon ECR error messages", HTTP 429 / ThrottlingException);
a bucket here holds one second of requests, so a burst of the documented size passes at once.

=============================  ===========
Operation                      Requests/s
=============================  ===========
BatchCheckLayerAvailability         1,000
BatchGetImage                       2,000
CompleteLayerUpload                   100
GetAuthorizationToken                 500
GetDownloadUrlForLayer              3,000
InitiateLayerUpload                   100
PutImage                               10
UploadLayerPart                       500
=============================  ===========

A registry (/v2/) request counts against the operation ECR bills it as (``manifest.put`` is
PutImage, ``blob.get`` is GetDownloadUrlForLayer, ...): each registry route's spec
(``ecr_mock.protocols.registry.spec``) names it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

__all__ = ["API_RATE_QUOTAS", "Quotas"]

API_RATE_QUOTAS: Mapping[str, float] = {
    "BatchCheckLayerAvailability": 1000,
    "BatchGetImage": 2000,
    "CompleteLayerUpload": 100,
    "GetAuthorizationToken": 500,
    "GetDownloadUrlForLayer": 3000,
    "InitiateLayerUpload": 100,
    "PutImage": 10,
    "UploadLayerPart": 500,
}
"""Requests per second per account and Region, as AWS documents them."""


class Quotas:
    """Token buckets per (account, region, operation); off until ``enabled``.

    ``rates`` may be changed (an operation missing from it is never throttled); ``time`` is
    the monotonic clock in seconds the buckets refill on (replace it to test deterministically).
    """

    def __init__(
        self, enabled: bool = False, time_source: Callable[[], float] | None = None
    ) -> None:
        self.enabled = enabled
        self.rates: dict[str, float] = dict(API_RATE_QUOTAS)
        self.time: Callable[[], float] = time_source or time.monotonic
        self._buckets: dict[tuple[str, str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, account: str, region: str, operation: str | None) -> bool:
        """Take a token for one request; False when the bucket is empty (throttle it)."""
        if not self.enabled or operation is None:
            return True
        rate = self.rates.get(operation)
        if rate is None:
            return True
        now = self.time()
        key = (account, region, operation)
        with self._lock:
            tokens, since = self._buckets.get(key, (rate, now))
            tokens = min(rate, tokens + max(0.0, now - since) * rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1, now)
            return True

    def reset(self) -> None:
        """Refill every bucket."""
        with self._lock:
            self._buckets.clear()
