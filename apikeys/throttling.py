"""Per-key rate limit: API_KEY_THROTTLE_RATE requests per key (429 with Retry-After beyond)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self):
        return settings.API_KEY_THROTTLE_RATE

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None  # JWT, session and anonymous callers have their own limits
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
