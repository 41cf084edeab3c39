"""Env-driven settings with embedded defaults.

Without any environment variable the project runs on a bare machine: SQLite under
var/, local media under var/media, console e-mail, a Celery broker kept in a SQLite
file (kombu's SQLAlchemy transport). DATABASE_URL, CELERY_BROKER_URL / REDIS_URL,
STORAGE=s3, EMAIL_URL, STRIPE_* switch to real services.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from .installation import installation_secret

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

# Development: random per installation (var/secrets/); production.py requires the environment's.
SECRET_KEY = env.str("SECRET_KEY", default="") or installation_secret(VAR_DIR, "secret_key")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public address of this installation: absolute links sent outside a request (webhook payloads).
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")

INSTALLED_APPS = [
    # django.contrib.admin with our default site: staff pass a second factor (accounts/admin_site.py)
    "accounts.admin_site.AncloraAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "djstripe",
    "anclora.core",
    "accounts",
    "storage",
    "conversions",
    "billing",
    "webhooks",
    "gamification",
    "uploads",
    "rest_framework_api_key",
    "apikeys",
    "idempotency",
    "backoffice",
]

MIDDLEWARE = [
    "anclora.core.observability.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "anclora.core.middleware.ContentSecurityPolicyMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the admin's second factor
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "anclora.core.middleware.ApplicationErrorPageMiddleware",
    # Last: turns a login refused by the throttle into 429 with Retry-After (page and admin).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "anclora.urls"
WSGI_APPLICATION = "anclora.wsgi.application"
ASGI_APPLICATION = "anclora.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "anclora.sqlite3"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + busy timeout + IMMEDIATE transactions: web, worker and beat share the file
    # without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache("CACHE_URL")}
elif REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- auth -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# The throttle first: it refuses a locked account+address before any password is checked.
AUTHENTICATION_BACKENDS = ["accounts.backends.LoginThrottleBackend", "accounts.backends.EmailBackend"]
# Email uniqueness is case-insensitive (a UniqueConstraint on Lower(email)), which
# Django's check cannot see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 8}},
    {"NAME": "accounts.validators.CharacterClassValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Failed-login throttle (django-axes, see accounts/throttling.py): this many failures of one
# account from one client address, each within the window of the previous one, make every
# further attempt of that pair 429 (with Retry-After) until the window has passed.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=60)
# Reverse proxies in front of the app that append the client address to X-Forwarded-For
# (deploy/nginx.conf: 1). 0 = the socket's address (REMOTE_ADDR); X-Forwarded-For is ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_HANDLER = "accounts.throttling.AtomicAxesHandler"
AXES_FAILURE_LIMIT = "accounts.throttling.failure_limit"
AXES_COOLOFF_TIME = "accounts.throttling.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.throttling.username_for"
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # refused attempts do not extend the lock
AXES_DISABLE_ACCESS_LOG = True  # successful logins are in our own logs; keep no extra personal data

# Password reset (accounts/password_reset.py): the e-mailed link lives this long (Django's token
# generator; it also dies once the password changes). Requests are counted per e-mail and per
# client address in fixed windows: over the e-mail limit the answer is the same but nothing is sent;
# over the address limit the answer is 429 with Retry-After.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
PASSWORD_RESET_EMAIL_LIMIT = env.int("PASSWORD_RESET_EMAIL_LIMIT", default=3)
PASSWORD_RESET_ADDRESS_LIMIT = env.int("PASSWORD_RESET_ADDRESS_LIMIT", default=10)
PASSWORD_RESET_WINDOW_SECONDS = env.int("PASSWORD_RESET_WINDOW_SECONDS", default=3600)

# Staff second factor (accounts/admin_site.py): /admin/ opens only after a TOTP code or a
# recovery code (django-otp). Off only for local development with DEBUG on; production.py forces
# it on and `check` fails when it is off without DEBUG.
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=True)
OTP_TOTP_ISSUER = "Anclora Converter"
ADMIN_RECOVERY_CODES = 10

# Abuse limits (accounts/abuse.py, billing/entitlements.py, accounts/owners.py), per client
# address (TRUSTED_PROXY_COUNT; IPv6 by /64): sign-ups per window, new anonymous sessions per hour,
# and free anonymous conversions per calendar month shared by every session of the address.
SIGNUP_ADDRESS_LIMIT = env.int("SIGNUP_ADDRESS_LIMIT", default=5)
SIGNUP_WINDOW_SECONDS = env.int("SIGNUP_WINDOW_SECONDS", default=3600)
ANONYMOUS_SESSIONS_PER_ADDRESS_HOUR = env.int("ANONYMOUS_SESSIONS_PER_ADDRESS_HOUR", default=20)
ANONYMOUS_FREE_CONVERSIONS_PER_ADDRESS = env.int("ANONYMOUS_FREE_CONVERSIONS_PER_ADDRESS", default=5)
# Payment intents created per hour (billing.services.transaction_create): per owner (user or
# anonymous session) and per client address; past either, 429 with Retry-After, nothing created at
# the provider. An idempotent replay (same key, same request) does not count.
PAYMENT_INTENTS_PER_HOUR = env.int("PAYMENT_INTENTS_PER_HOUR", default=10)
PAYMENT_INTENTS_PER_ADDRESS_HOUR = env.int("PAYMENT_INTENTS_PER_ADDRESS_HOUR", default=30)

# --- i18n -------------------------------------------------------------------------
LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Español")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Madrid"
USE_I18N = True
USE_TZ = True
# Own English date formats (anclora/formats/en): day-month-year, 24-hour clock.
FORMAT_MODULE_PATH = ["anclora.formats"]

# --- static and media -------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly; downloads go through the API

STORAGE_BACKEND = env.str("STORAGE", default="local")
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME", default="anclora"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "access_key": env.str("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default=None),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_expire": 300,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Uploads stream to temp files on disk above this size (never whole in memory).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "uploads-tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
MAX_UPLOAD_MB = env.int("MAX_UPLOAD_MB", default=2048)

# --- e-mail -----------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Anclora Converter <noreply@localhost>")

# --- REST API ---------------------------------------------------------------------
# JSON request bodies (anclora.core.parsers): larger → 413, nested deeper → 400.
API_JSON_MAX_BYTES = env.int("API_JSON_MAX_BYTES", default=1024 * 1024)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, plus the token version: tokens issued before a password change are refused
        "accounts.authentication.VersionedJWTAuthentication",
        "apikeys.authentication.ApiKeyAuthentication",  # Authorization: Api-Key <key>, scoped
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Per API key (apikeys.throttling); JWT, session and anonymous callers have their own limits.
    "DEFAULT_THROTTLE_CLASSES": ["apikeys.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "anclora.core.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "anclora.core.exceptions.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "anclora.core.pagination.DefaultPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "anclora.core.schema.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Requests per API key ("120/min", "5000/hour", …); beyond it 429 with Retry-After.
API_KEY_THROTTLE_RATE = env.str("API_KEY_THROTTLE_RATE", default="120/min")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=env.int("JWT_ACCESS_HOURS", default=24)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Anclora Converter API",
    "DESCRIPTION": "Conversión de archivos, pagos y recompensas / file conversion, payments and rewards.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Celery -----------------------------------------------------------------------
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=REDIS_URL or f"anclora-sqla+sqlite:///{VAR_DIR / 'broker.sqlite3'}"
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A prefork child whose resident memory is above this after a task is replaced by a fresh one, so a
# huge-but-allowed job (an image near the pixel cap) does not leave its peak behind (Celery counts
# KiB). The warm LibreOffice listener (conversions/engines/office_server.py) is its own process and
# is not counted. bench/worker_memory.py measures it.
WORKER_MAX_MEMORY_MB = env.int("WORKER_MAX_MEMORY_MB", default=1024)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = WORKER_MAX_MEMORY_MB * 1024 if WORKER_MAX_MEMORY_MB > 0 else None
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CONVERSION_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CONVERSION_HARD_TIME_LIMIT", default=660)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Unacked messages (a killed worker) come back after this; above the hard time limit.
    # `queue_order_strategy: priority`: a worker started with `-Q priority,default` drains
    # `priority` before it takes anything from `default`.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 300,
                                       "queue_order_strategy": "priority"}
if CELERY_BROKER_URL.startswith(("sqla+", "anclora-sqla+")):
    # The SQLAlchemy transport cannot broadcast remote-control commands.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
if CELERY_BROKER_URL.startswith("anclora-sqla+"):
    # anclora.core.broker: poll the embedded broker every 0.1 s instead of kombu's 1 s.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": env.float("BROKER_POLLING_INTERVAL", default=0.1)}
CONVERSION_ENGINE_TIME_LIMIT = env.int(
    "CONVERSION_ENGINE_TIME_LIMIT", default=max(CELERY_TASK_SOFT_TIME_LIMIT - 30, 10)
)
# Warm LibreOffice per worker process (conversions/engines/office_server.py): started on first use,
# recycled after this many conversions and after any failure; off -> every document starts soffice.
OFFICE_WARM_ENABLED = env.bool("OFFICE_WARM_ENABLED", default=True)
OFFICE_WARM_MAX_CONVERSIONS = env.int("OFFICE_WARM_MAX_CONVERSIONS", default=50)
OFFICE_WARM_START_TIMEOUT = env.float("OFFICE_WARM_START_TIMEOUT", default=60.0)
# A python with LibreOffice's `uno` module (python3-uno); empty: /usr/bin/python3, then LibreOffice's own.
OFFICE_PYTHON = env.str("OFFICE_PYTHON", default="")
# A job's progress is saved when it moved this many points, or this many seconds after the last save.
PROGRESS_SAVE_MIN_STEP = env.int("PROGRESS_SAVE_MIN_STEP", default=2)
PROGRESS_SAVE_MIN_INTERVAL = env.float("PROGRESS_SAVE_MIN_INTERVAL", default=0.5)
# Conversion engines (dotted class paths; conversions/engines/registry.py): the registry asks each
# whether it is installed and which pairs it converts; the best-priority one serves a pair, the next
# one is the fallback. Unset, the registry's DEFAULT_ENGINES (every engine shipped) apply; a list
# here replaces them (e.g. CONVERSION_ENGINES=conversions.engines.pillow.PillowEngine,...).
CONVERSION_ENGINES = env.list("CONVERSION_ENGINES", default=None)
# Workers consuming conversions (for the queue's load estimate; remote control may be off).
# Who pays for conversions (see conversions/authorization.py); billing replaces it.
CONVERSION_AUTHORIZER = "billing.entitlements.EntitlementAuthorizer"
CONVERSION_WEBHOOK_ALLOW_PRIVATE = env.bool("CONVERSION_WEBHOOK_ALLOW_PRIVATE", default=False)
# Import from a URL (uploads/fetch.py): total time, redirects; private addresses only for tests.
URL_IMPORT_ALLOW_PRIVATE = env.bool("URL_IMPORT_ALLOW_PRIVATE", default=False)
URL_IMPORT_TIMEOUT = env.int("URL_IMPORT_TIMEOUT", default=300)  # total: lookup, connect, TLS, headers, body
URL_IMPORT_MAX_REDIRECTS = env.int("URL_IMPORT_MAX_REDIRECTS", default=5)
# Resumable (tus) uploads (uploads/resumable.py): local chunks, expiry, PATCH cap; the convert page
# switches to them above RESUMABLE_UPLOAD_THRESHOLD_MB.
RESUMABLE_UPLOAD_DIR = env.str("RESUMABLE_UPLOAD_DIR", default="")
RESUMABLE_UPLOAD_EXPIRE_HOURS = env.int("RESUMABLE_UPLOAD_EXPIRE_HOURS", default=24)
RESUMABLE_UPLOAD_CHUNK_MAX_MB = env.int("RESUMABLE_UPLOAD_CHUNK_MAX_MB", default=64)
RESUMABLE_UPLOAD_THRESHOLD_MB = env.int("RESUMABLE_UPLOAD_THRESHOLD_MB", default=50)
RESUMABLE_UPLOAD_CLIENT_CHUNK_KB = env.int("RESUMABLE_UPLOAD_CLIENT_CHUNK_KB", default=8192)
# Total time one tus PATCH may take (a slow client keeps what arrived and resumes with the next PATCH).
RESUMABLE_UPLOAD_PATCH_DEADLINE_SECONDS = env.int("RESUMABLE_UPLOAD_PATCH_DEADLINE_SECONDS", default=120)
# Open (unconverted, unexpired) resumable uploads, tus and S3: per owner and per client address,
# count and reserved bytes (sum of their Upload-Length). Past a cap: 429 with Retry-After.
UNFINISHED_UPLOADS_MAX = env.int("UNFINISHED_UPLOADS_MAX", default=10)
UNFINISHED_UPLOADS_MAX_MB = env.int("UNFINISHED_UPLOADS_MAX_MB", default=4096)
UNFINISHED_UPLOADS_PER_ADDRESS_MAX = env.int("UNFINISHED_UPLOADS_PER_ADDRESS_MAX", default=30)
UNFINISHED_UPLOADS_PER_ADDRESS_MAX_MB = env.int("UNFINISHED_UPLOADS_PER_ADDRESS_MAX_MB", default=10240)
# With STORAGE=s3: direct multipart uploads (uploads/s3multipart.py): part size (S3's minimum is 5),
# lifetime of a presigned part URL.
S3_UPLOAD_PART_MB = env.int("S3_UPLOAD_PART_MB", default=16)
S3_UPLOAD_URL_EXPIRE_SECONDS = env.int("S3_UPLOAD_URL_EXPIRE_SECONDS", default=3600)
CONVERSION_WORKERS = env.int("CONVERSION_WORKERS", default=1)
CELERY_TASK_ROUTES = {
    "anclora.core.tasks.*": {"queue": "priority"},
    "conversions.tasks.conversions_reap_task": {"queue": "priority"},
    # Requests to other people's servers (URL imports, finished S3 uploads, webhook deliveries) run on
    # their own queue, consumed by their own worker (scripts/run.sh, docker-compose.yml): a slow remote
    # server never holds a conversion worker.
    "uploads.tasks.url_import_run": {"queue": "remote"},
    "webhooks.tasks.webhook_delivery_task": {"queue": "remote"},
}
# A webhook attempt's total deadline (name lookup, connect, TLS, request, answer), webhooks/transport.py.
WEBHOOK_DELIVERY_TIMEOUT = env.float("WEBHOOK_DELIVERY_TIMEOUT", default=10.0)
# URL imports not yet downloaded (uploads/imports.py), per owner and per client address: past a cap
# POST /api/conversion/convert answers 429 with Retry-After and creates nothing.
URL_IMPORTS_IN_FLIGHT_MAX = env.int("URL_IMPORTS_IN_FLIGHT_MAX", default=3)
URL_IMPORTS_IN_FLIGHT_PER_ADDRESS_MAX = env.int("URL_IMPORTS_IN_FLIGHT_PER_ADDRESS_MAX", default=6)
# Webhook attempts under way per owner (webhooks/services.py): past the cap a due delivery waits
# WEBHOOK_DELIVERY_WAIT_SECONDS (not counted as an attempt) instead of taking another remote worker.
WEBHOOK_DELIVERIES_IN_FLIGHT_MAX = env.int("WEBHOOK_DELIVERIES_IN_FLIGHT_MAX", default=4)
WEBHOOK_DELIVERY_WAIT_SECONDS = env.int("WEBHOOK_DELIVERY_WAIT_SECONDS", default=5)
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
HEALTH_BROKER_TIMEOUT = env.float("HEALTH_BROKER_TIMEOUT", default=2.0)

# --- Stripe (offline test mode when no key is set) ---------------------------------
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="") or installation_secret(
    VAR_DIR, "stripe_webhook_secret", prefix="whsec_")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# dj-stripe keeps the synced Stripe objects and the received events (billing/stripe_sync.py).
STRIPE_LIVE_MODE = bool(STRIPE_SECRET_KEY) and not STRIPE_SECRET_KEY.startswith(("sk_test_", "rk_test_"))
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
if STRIPE_API_BASE:  # localstripe (make run, tests) or another Stripe-compatible server, on purpose
    STRIPE_API_HOST = STRIPE_API_BASE
    SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "djstripe.W002"]
# Webhook signatures older than this, or dated further ahead, are refused (Stripe's default tolerance).
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)
# POST /api/payments/estimate may reuse a server-load label this old (seconds, per process);
# the prices actually charged (402 details, payment intents) always read the queue.
BILLING_ESTIMATE_LOAD_MAX_AGE = env.float("BILLING_ESTIMATE_LOAD_MAX_AGE", default=1.0)

# --- logging ----------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")  # "json" in production
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "anclora.core.observability.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(actor)s %(conversion_id)s] "
                            "%(message)s"},
        "json": {"()": "anclora.core.observability.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
LOG_FILE = env.str("LOG_FILE", default="")
if LOG_FILE:
    LOGGING["handlers"]["file"] = {
        "class": "logging.handlers.RotatingFileHandler",
        "filename": LOG_FILE,
        "maxBytes": 10240000,
        "backupCount": 10,
        "formatter": LOG_FORMAT,
        "filters": ["context"],
    }
    LOGGING["root"]["handlers"].append("file")

# --- HTTP security headers ---------------------------------------------------------
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'",
)
# The API may be called from other origins only when they are configured.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
# A browser client on an allowed origin may send the API's own headers (tus, idempotency, anonymous
# session) in the preflight and read the answers' (tus offsets, Location, Retry-After).
CORS_ALLOW_HEADERS = ("accept", "authorization", "content-type", "user-agent", "x-csrftoken", "x-requested-with",
                      "idempotency-key", "x-session-id", "tus-resumable", "upload-length", "upload-metadata",
                      "upload-offset")
CORS_EXPOSE_HEADERS = ["Location", "Retry-After", "X-Session-Id", "Idempotent-Replayed", "Tus-Resumable",
                       "Tus-Version", "Tus-Extension", "Tus-Max-Size", "Upload-Offset", "Upload-Length",
                       "Upload-Expires"]
# /metrics: loopback (and these networks) or a bearer token.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1/32", "::1/128"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
