"""Staff second factor (django-otp): a TOTP device per staff member plus one-time recovery codes.

- Enrolment: a staff member without a confirmed TOTP device gets an unconfirmed one (its secret
  shown once as a QR code and as text); the first correct code confirms it and creates
  ``ADMIN_RECOVERY_CODES`` recovery codes (a django-otp StaticDevice; each code is deleted when
  used), shown once.
- Verification: a 6-digit code checks the TOTP device, anything else the recovery codes. Both
  devices throttle failures (django-otp's exponential back-off per device); a TOTP code is never
  accepted twice (``last_t``).
- Reset (``staff_second_factor_reset``, the admin action and ``manage.py staff_2fa_reset``): every
  device of the user is deleted; the next login enrols again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from io import BytesIO

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

TOTP_NAME = "Authenticator"
RECOVERY_NAME = "Recovery codes"
_TOTP_RE = re.compile(r"^\d{6}$")


def second_factor_required() -> bool:
    return bool(getattr(settings, "ADMIN_REQUIRE_2FA", True))


def is_verified(user) -> bool:
    """The session passed the second factor (django-otp's OTPMiddleware sets ``otp_device``)."""
    return getattr(user, "otp_device", None) is not None


def has_confirmed_device(user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@dataclass(frozen=True)
class Enrolment:
    device_id: int
    secret: str  # base32, for typing into an authenticator
    uri: str  # otpauth://
    qr_svg: str  # inline <svg>, rendered here (no external service)


def _qr_svg(data: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    out = BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg"):]  # without the XML declaration, to embed in HTML


@transaction.atomic
def totp_enrolment_start(*, user) -> Enrolment:
    """The user's pending (unconfirmed) TOTP device, created on first use; its secret to show."""
    from base64 import b32encode

    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    uri = device.config_url
    return Enrolment(device_id=device.pk, secret=b32encode(device.bin_key).decode(), uri=uri, qr_svg=_qr_svg(uri))


@transaction.atomic
def totp_enrolment_confirm(*, user, device_id: int, token: str):
    """Confirm the pending device with its first code. Returns (device, recovery codes) or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
    token = (token or "").strip().replace(" ", "")
    if device is None or not _TOTP_RE.match(token) or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = recovery_codes_regenerate(user=user)
    logger.info("staff second factor enrolled for user %s", user.pk)
    return device, codes


@transaction.atomic
def recovery_codes_regenerate(*, user) -> list[str]:
    """New recovery codes (the old ones stop working); returned once, stored as django-otp static tokens."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.ADMIN_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def recovery_codes_left(*, user) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_verify(*, user, token: str):
    """The device that accepts ``token`` (TOTP for 6 digits, else a recovery code, used up), or None.

    Returns ``(device, throttled)``: ``throttled`` when the device refuses to check codes for now.
    """
    from django_otp import verify_token
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    token = (token or "").strip().replace(" ", "")
    if _TOTP_RE.match(token):
        candidates = TOTPDevice.objects.filter(user=user, confirmed=True)
    else:
        token = token.replace("-", "").lower()
        candidates = StaticDevice.objects.filter(user=user, confirmed=True)
    throttled = False
    for device in candidates:
        allowed, _info = device.verify_is_allowed()
        if not allowed:
            throttled = True
            continue
        accepted = verify_token(user, device.persistent_id, token)
        if accepted is not None:
            return accepted, False
    return None, throttled


@transaction.atomic
def staff_second_factor_reset(*, user) -> int:
    """Forget every second-factor device of ``user``: the next admin login enrols again."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    removed = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
    logger.info("staff second factor reset for user %s", user.pk)
    return removed
