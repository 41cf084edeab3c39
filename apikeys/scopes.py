"""Which scope an API key needs for each operation.

A view may declare ``api_key_scopes = {"POST": "convert"}``; otherwise the route's name decides here.
Operations not listed (managing keys, the account itself, staff actions, anything new) refuse keys.
"""

from __future__ import annotations

from .models import Scope

CONVERT, READ, BILLING = Scope.CONVERT.value, Scope.READ.value, Scope.BILLING.value

SCOPES_BY_ROUTE: dict[str, dict[str, str]] = {
    # conversions
    "api:conversions:convert": {"POST": CONVERT},
    "api:conversions:convert-again": {"POST": CONVERT},  # a new job from a stored source, like convert
    "api:conversions:cancel": {"POST": CONVERT},
    "api:conversions:history": {"GET": READ},
    "api:conversions:detail": {"GET": READ},
    "api:conversions:download": {"GET": READ},
    "api:conversions:batch-download": {"GET": READ},
    # files
    "api:files:list": {"GET": READ},
    "api:files:delete": {"DELETE": CONVERT},
    "api:files:extend-retention": {"POST": BILLING},  # spends credits
    # payments
    "api:payments:estimate": {"POST": READ},
    "api:payments:quote": {"POST": READ},
    "api:payments:pricing-tiers": {"GET": READ},
    "api:payments:plans": {"GET": READ},
    "api:payments:entitlement": {"GET": READ},
    "api:payments:transactions": {"GET": BILLING},
    "api:payments:transaction": {"GET": BILLING},
    "api:payments:create-payment-intent": {"POST": BILLING},
    "api:payments:pay-test": {"POST": BILLING},
    "api:payments:subscribe": {"POST": BILLING},
    "api:payments:subscription-cancel": {"POST": BILLING},
    # rewards
    "api:rewards:profile": {"GET": READ},
    "api:rewards:leaderboard": {"GET": READ},
    "api:rewards:achievements": {"GET": READ},
    "api:rewards:challenges": {"GET": READ},
    "api:rewards:history": {"GET": READ},
    "api:rewards:redeem-credits": {"POST": BILLING},
    # who am I
    "api:auth:me": {"GET": READ},
    # webhooks (per-account endpoints, delivery log, signing secret)
    "api:webhooks:endpoints": {"GET": READ, "POST": CONVERT},
    "api:webhooks:endpoint": {"DELETE": CONVERT},
    "api:webhooks:deliveries": {"GET": READ},
    "api:webhooks:redeliver": {"POST": CONVERT},
    "api:webhooks:secret": {"GET": CONVERT},  # the secret lets its holder forge deliveries: not `read`
    "api:webhooks:secret-rotate": {"POST": CONVERT},
    # resumable uploads (part of converting: a tus client's HEAD/PATCH carry the same key)
    "api:uploads:create": {"POST": CONVERT, "OPTIONS": CONVERT},  # OPTIONS: tus discovery
    "api:uploads:detail": {"GET": CONVERT, "PATCH": CONVERT, "DELETE": CONVERT},
    "api:uploads:s3-create": {"POST": CONVERT},
    "api:uploads:s3-parts": {"GET": CONVERT, "POST": CONVERT},
    "api:uploads:s3-complete": {"POST": CONVERT},
}


def required_scope(request) -> str | None:
    """The scope the request's operation needs, or None when keys may not call it at all."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    declared = getattr(view, "api_key_scopes", None)
    if declared is None:
        match = getattr(request._request, "resolver_match", None)
        if match is None:
            return None
        declared = SCOPES_BY_ROUTE.get(match.view_name, {})
    if request.method == "OPTIONS" and "OPTIONS" in declared:
        return declared["OPTIONS"]
    return declared.get("GET" if request.method in ("HEAD", "OPTIONS") else request.method)
