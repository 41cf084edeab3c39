"""Test settings: the base settings with fast hashing and a local-memory cache."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks run in-process when enqueued (on commit); the integration tests start real workers.
CELERY_TASK_ALWAYS_EAGER = True
HEALTH_BROKER_TIMEOUT = 1.0
