"""AWS host names ``ecr-mock serve --aws-hostnames`` answers for, and the hosts-file lines for them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = [
    "PUBLIC_HOSTS",
    "api_hosts",
    "global_hosts",
    "hosts_file",
    "misdirected_signature",
    "registry_hosts",
]

_API_HOST_RE = re.compile(
    r"(?:api\.ecr|ecr|ecr-fips)\.(?P<region>[a-z]{2}(?:-[a-z]+)+-[0-9])\.amazonaws\.com(?:\.cn)?"
    r"|ecr\.(?P<dual_region>[a-z]{2}(?:-[a-z]+)+-[0-9])\.api\.aws"
)
_SCOPE_RE = re.compile(r"Credential=[^/,\s]+/[0-9]{8}/(?P<region>[^/,\s]*)/ecr/aws4_request")

PUBLIC_HOSTS = ("public.ecr.aws", "api.ecr-public.us-east-1.amazonaws.com")
"""ECR Public's registry and API (its API lives in us-east-1 only)."""


def registry_hosts(account: str, region: str, *, fips: bool = False) -> list[str]:
    """The registry's host names: ``<account>.dkr.ecr.<region>.amazonaws.com`` (with ``fips``
    also the FIPS and dual-stack forms ECR documents)."""
    hosts = [f"{account}.dkr.ecr.{region}.amazonaws.com"]
    if fips:
        hosts += [
            f"{account}.dkr.ecr-fips.{region}.amazonaws.com",
            f"{account}.dkr-ecr.{region}.on.aws",
            f"{account}.dkr-ecr-fips.{region}.on.aws",
        ]
    return hosts


def api_hosts(region: str, *, fips: bool = False) -> list[str]:
    """The ECR API's host names in ``region`` (the SDKs use ``api.ecr.<region>.amazonaws.com``)."""
    hosts = [f"api.ecr.{region}.amazonaws.com", f"ecr.{region}.amazonaws.com"]
    if fips:
        hosts += [f"ecr-fips.{region}.amazonaws.com", f"ecr.{region}.api.aws"]
    return hosts


def global_hosts(regions: Iterable[str]) -> list[str]:
    """STS (global and regional) and IAM, which moto serves behind the same port."""
    hosts = ["sts.amazonaws.com", "iam.amazonaws.com"]
    for region in regions:
        name = f"sts.{region}.amazonaws.com"
        if name not in hosts:
            hosts.append(name)
    return hosts


def misdirected_signature(host: str, authorization: str) -> str | None:
    """The message AWS refuses an ECR API call with (``InvalidSignatureException``) when it is
    sent to one region's endpoint but signed for another; None when host and scope agree, or
    when ``host`` is no ECR API host name (``HOST:PORT`` of a plain server)."""
    match = _API_HOST_RE.fullmatch(host.split(":", 1)[0].lower())
    scope = _SCOPE_RE.search(authorization)
    if match is None or scope is None:
        return None
    signed = scope["region"]
    if signed == (match["region"] or match["dual_region"]):
        return None
    return f"Credential should be scoped to a valid region, not '{signed}'. "


def hosts_file(
    registries: Sequence[tuple[str, str]],
    address: str = "127.0.0.1",
    *,
    fips: bool = False,
    public: bool = False,
) -> str:
    """The ``/etc/hosts`` lines that send every name of ``registries`` ((account, region)
    pairs) to ``address`` (with ``public`` also ECR Public's), with a note on which address
    to use."""
    lines = [
        "# ecr-mock: ECR, STS and IAM host names answered by ecr-mock serve --aws-hostnames",
    ]
    if address in ("127.0.0.1", "::1"):
        lines.append(
            f"# {address} is this machine; inside a container it is the container itself: there "
            "use the address of the machine running ecr-mock (--address) or a network alias"
        )
    seen: set[str] = set()
    regions: list[str] = []
    for account, region in registries:
        if region not in regions:
            regions.append(region)
            names = [name for name in api_hosts(region, fips=fips) if name not in seen]
            seen.update(names)
            lines.append(f"{address} {' '.join(names)}")
        names = [name for name in registry_hosts(account, region, fips=fips) if name not in seen]
        if names:
            seen.update(names)
            lines.append(f"{address} {' '.join(names)}")
    lines.append(f"{address} {' '.join(global_hosts(regions))}")
    if public:
        lines.append(f"{address} {' '.join(PUBLIC_HOSTS)}")
    return "\n".join(lines) + "\n"
