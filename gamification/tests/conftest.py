import pytest

from factories import PASSWORD, ConversionFactory  # noqa: F401 (PASSWORD: the tests' password)
from gamification import services

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _seeded_achievements(request):
    """The data migration seeds achievements; transactional tests flush them, so re-seed."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    request.getfixturevalue("transactional_db" if marker and marker.kwargs.get("transaction") else "db")
    services.achievements_ensure()


@pytest.fixture
def make_conversion(db):
    """A completed (by default) conversion row of ``user`` (factories.ConversionFactory)."""

    def make(user, source="png", target="jpg", *, size=1024, finished_at=None, status="completed"):
        extra = {"finished_at": finished_at} if finished_at else {}
        return ConversionFactory(user=user, original_format=source, target_format=target, size=size,
                                 status=status, **extra)

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
