"""Production settings: base plus the deployment checklist (``check --deploy`` clean)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
# Never the per-installation development secret: Stripe's signing secret comes from the environment.
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET")
# Staff always pass the second factor here, whatever the environment says (checked by `check --deploy`).
ADMIN_REQUIRE_2FA = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_REFERRER_POLICY = "same-origin"
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405
if "file" in LOGGING["handlers"]:  # noqa: F405
    LOGGING["handlers"]["file"]["formatter"] = LOG_FORMAT  # noqa: F405
