"""Settings for bench/estimate_rps.py: the app's settings plus a bare constant DRF view."""

from anclora.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.estimate_urls"
