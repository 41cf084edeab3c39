"""A curated, grouped list of time zones for the profile form (not the ~600 raw tz names with
"Factory" and "localtime"). Any other valid zone a user already has stays selectable."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.utils.translation import gettext_lazy as _

CURATED: tuple[tuple[object, tuple[str, ...]], ...] = (
    (_("Europa"), ("Europe/Madrid", "Atlantic/Canary", "Europe/Lisbon", "Europe/London", "Europe/Dublin",
                   "Europe/Paris", "Europe/Brussels", "Europe/Amsterdam", "Europe/Berlin", "Europe/Zurich",
                   "Europe/Rome", "Europe/Vienna", "Europe/Stockholm", "Europe/Warsaw", "Europe/Prague",
                   "Europe/Athens", "Europe/Helsinki", "Europe/Bucharest", "Europe/Kyiv", "Europe/Istanbul",
                   "Europe/Moscow")),
    (_("América"), ("America/Mexico_City", "America/Guatemala", "America/Costa_Rica", "America/Panama",
                    "America/Havana", "America/Santo_Domingo", "America/Puerto_Rico", "America/Bogota",
                    "America/Caracas", "America/Guayaquil", "America/Lima", "America/La_Paz",
                    "America/Santiago", "America/Asuncion", "America/Argentina/Buenos_Aires",
                    "America/Montevideo", "America/Sao_Paulo", "America/New_York", "America/Chicago",
                    "America/Denver", "America/Phoenix", "America/Los_Angeles", "America/Anchorage",
                    "America/Toronto", "America/Vancouver", "Pacific/Honolulu")),
    (_("África"), ("Africa/Casablanca", "Africa/Malabo", "Africa/Lagos", "Africa/Cairo", "Africa/Nairobi",
                   "Africa/Johannesburg")),
    (_("Asia"), ("Asia/Jerusalem", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Bangkok",
                 "Asia/Jakarta", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "Asia/Manila",
                 "Asia/Seoul", "Asia/Tokyo")),
    (_("Oceanía"), ("Australia/Perth", "Australia/Sydney", "Pacific/Auckland")),
    (_("Universal"), ("UTC",)),
)
NOT_PLACES = {"Factory", "localtime", "posixrules", "Etc/Unknown"}


def zone_is_valid(name: str) -> bool:
    return bool(name) and name not in NOT_PLACES and name in zoneinfo.available_timezones()


def zone_label(name: str, now: datetime | None = None) -> str:
    """"Buenos Aires (UTC−03:00)": the place, then its offset now."""
    place = name.rsplit("/", 1)[-1].replace("_", " ")
    offset = (now or datetime.now(zoneinfo.ZoneInfo(name))).astimezone(zoneinfo.ZoneInfo(name)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "−"
    return f"{place} (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


def zone_choices(current: str | None = None) -> list:
    """Grouped choices for a <select>; the user's current zone is kept even if not curated."""
    now = datetime.now(zoneinfo.ZoneInfo("UTC"))
    groups = [(group, [(zone, zone_label(zone, now)) for zone in zones]) for group, zones in CURATED]
    curated = {zone for _group, zones in CURATED for zone in zones}
    if current and current not in curated and zone_is_valid(current):
        groups.append((_("Tu zona actual"), [(current, zone_label(current, now))]))
    return groups
