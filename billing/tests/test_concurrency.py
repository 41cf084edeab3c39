"""50 concurrent requests spending one credit: exactly one succeeds (real Postgres)."""

import threading
from pathlib import Path

import pytest
from django.db import connection

from accounts.owners import Owner
from anclora.core.errors import ApplicationError
from billing.models import ConversionCharge
from conversions import services as conversion_services
from factories import give_credits

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_concurrent_credit_spends(make_user, sample, no_worker):
    if connection.vendor != "postgresql":
        pytest.skip("needs real Postgres (row locks, concurrent connections): set DATABASE_URL")
    user = make_user()
    give_credits(user, 1)
    src = sample("png")
    # Use up the month's allowance first.
    for _ in range(5):
        conversion_services.conversion_request(owner=Owner(user=user), uploads=[_upload(src)], target_format="jpg")
    results: list[str] = []
    barrier = threading.Barrier(50)

    def spend():
        from django.db import connection as conn

        try:
            barrier.wait()
            conversion_services.conversion_request(owner=Owner(user=user), uploads=[_upload(src)],
                                                   target_format="jpg", use_credit=True)
            results.append("ok")
        except ApplicationError as exc:
            results.append(exc.code)
        finally:
            conn.close()

    threads = [threading.Thread(target=spend) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    assert results.count("payment_required") == 49
    user.refresh_from_db()
    assert user.conversion_credits == 0
    assert ConversionCharge.objects.filter(kind="credit").count() == 1


def _upload(path: Path):
    return conversion_services.Upload(path=path, name=path.name, size=path.stat().st_size)
