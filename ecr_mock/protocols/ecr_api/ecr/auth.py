"""GetAuthorizationToken: one expiring, principal-bound registry password per registry id."""

from __future__ import annotations

from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result


def get_authorization_token(ctx: Context, params: Params) -> Result:
    """One ``authorizationData`` entry per requested registry id (default: the caller's)."""
    registry_ids = params.get("registryIds") or [ctx.account]
    entries = []
    for registry_id in registry_ids:
        token = ctx.backend.tokens.issue(ctx.principal, registry_id, ctx.region)
        entries.append(
            {
                "authorizationToken": token.authorization_token,
                "expiresAt": token.expires_at,
                "proxyEndpoint": ctx.backend.proxy_endpoint(registry_id, ctx.region),
            }
        )
    return {"authorizationData": entries}


HANDLERS: dict[str, Handler] = {
    "GetAuthorizationToken": get_authorization_token,
}
"""The ECR operations this module serves, by name."""
