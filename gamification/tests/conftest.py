import itertools
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from conversions.formats import conversion_type
from conversions.models import Conversion
from gamification import services
from storage.models import StoredFile

PASSWORD = "Secreta123!"
MB = 1024 * 1024
_n = itertools.count()


@pytest.fixture(autouse=True)
def _seeded_achievements(request):
    """The data migration seeds achievements; transactional tests flush them, so re-seed."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    request.getfixturevalue("transactional_db" if marker and marker.kwargs.get("transaction") else "db")
    services.achievements_ensure()


@pytest.fixture
def make_user(db):
    def make(verified=True, **extra):
        """Verified (when it joined) unless verified=False: only verified accounts earn rewards."""
        extra.setdefault("email", f"rewards{next(_n)}@example.com")
        if verified:
            extra.setdefault("email_verified_at", extra.get("date_joined") or timezone.now())
        return User.objects.create_user(password=PASSWORD, **extra)

    return make


def _stored(user, kind, fmt, size):
    return StoredFile.objects.create(
        user=user, kind=kind, storage_name=f"test/{uuid.uuid4()}.{fmt}", original_filename=f"f.{fmt}",
        file_format=fmt, size=size, content_type="application/octet-stream", checksum="0" * 64,
        expires_at=timezone.now() + timedelta(days=1),
    )


@pytest.fixture
def make_conversion(db):
    """A completed (by default) conversion row, created directly with the ORM."""

    def make(user, source="png", target="jpg", *, size=1024, finished_at=None, status="completed"):
        completed = status == Conversion.Status.COMPLETED
        return Conversion.objects.create(
            user=user, batch_id=uuid.uuid4(), source=_stored(user, "original", source, size),
            output=_stored(user, "converted", target, size) if completed else None,
            original_format=source, target_format=target, conversion_type=conversion_type(source, target),
            status=status, progress=100 if completed else 0,
            finished_at=(finished_at or timezone.now()) if completed else None,
        )

    return make


@pytest.fixture
def complete(make_conversion):
    """Create a completed conversion and publish its event the way conversions does."""
    from anclora.core import events

    def run(user, source="png", target="jpg", **kwargs):
        conversion = make_conversion(user, source, target, **kwargs)
        events.publish("conversion_completed", conversion_id=conversion.pk)
        user.refresh_from_db()
        return conversion

    return run


@pytest.fixture(autouse=True)
def _no_early_adopters(monkeypatch):
    """Every test user would be among the first 100; the early-adopter test turns it back on."""
    from gamification import rules

    monkeypatch.setattr(rules, "EARLY_ADOPTER_USERS", 0)


def points_of(user) -> tuple[int, int]:
    user.refresh_from_db()
    return user.total_points, user.lifetime_points
