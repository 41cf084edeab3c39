from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import User
from factories import upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(db):
    user = account_services.user_create(email="staff@example.com", password="Secreta123!")
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    return User.objects.get(pk=user.pk)


@pytest.fixture
def member(db):
    return account_services.user_create(email="member@example.com", password="Secreta123!")


def _transaction(user, amount, status, refunded="0.00", completed_at=None):
    from billing.models import ConversionTransaction

    return ConversionTransaction.objects.create(
        user=user, amount=Decimal(amount), status=status, refunded_amount=Decimal(refunded),
        stripe_payment_intent_id=f"pi_{amount}_{status}_{refunded}",
        conversion_details={"source_format": "jpg", "target_format": "png", "file_size_mb": 1, "quality": "basic"},
        completed_at=completed_at or timezone.now(),
    )


def test_stats_permission_matrix(staff, member, otp_login):
    client = APIClient()
    assert client.get("/api/admin/stats").status_code == 401
    client.force_authenticate(member)
    resp = client.get("/api/admin/stats")
    assert resp.status_code == 403 and resp.json()["code"] == "permission_denied"
    client.force_authenticate(staff)  # a staff JWT proves only the password
    assert client.get("/api/admin/stats").status_code == 403
    client.force_authenticate(None)
    assert otp_login(client, staff).get("/api/admin/stats").status_code == 200


def test_stats_figures_from_known_data(staff, member, sample, otp_login):
    client = APIClient()
    client.force_authenticate(member)
    upload(client, [sample("png"), sample("png")], "jpg")
    _transaction(member, "0.27", "completed")
    _transaction(member, "1.00", "refunded", refunded="1.00")
    _transaction(member, "0.50", "refunded", refunded="0.20")
    _transaction(member, "9.99", "pending")
    _transaction(member, "3.00", "completed", completed_at=timezone.now() - timedelta(days=3))
    cache.clear()
    client.force_authenticate(None)
    body = otp_login(client, staff).get("/api/admin/stats").json()
    stats = body["system_stats"]
    assert stats["total_users"] == User.objects.count() == 2, list(User.objects.values_list("email", flat=True))
    assert stats["total_conversions"] == 2 and stats["conversions_today"] == 2
    assert stats["active_users_today"] == 2  # staff signed in today; the member converted today (no sign-in)
    assert stats["total_revenue_eur"] == 3.57  # 0.27 + 0 + 0.30 + 3.00
    assert stats["revenue_today_eur"] == 0.57
    from storage.models import StoredFile

    stored = sum(StoredFile.objects.filter(is_deleted=False).values_list("size", flat=True))
    assert stats["storage_used_gb"] == round(stored / 1024**3, 3)
    assert stats["average_conversion_time_seconds"] >= 0
    kinds = {item["type"] for item in body["recent_activity"]}
    assert kinds == {"conversion", "payment"}
    assert all({"type", "user_id", "details", "timestamp"} <= set(item) for item in body["recent_activity"])


def test_dashboard_permissions_and_chart(client, staff, member, otp_login):
    assert client.get("/admin/dashboard/").status_code == 302
    client.force_login(member)
    assert client.get("/admin/dashboard/").status_code == 302
    client.force_login(staff)  # the password alone: sent to the second factor
    resp = client.get("/admin/dashboard/")
    assert resp.status_code == 302 and resp["Location"].startswith("/admin/otp/")
    otp_login(client, staff)
    resp = client.get("/admin/dashboard/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert html.count("<rect") == 60  # 30 days × (conversions, revenue)
    assert reverse("dashboard") in client.get("/admin/").content.decode()


def test_every_admin_changelist_and_change_page_loads(client, staff, member, sample, otp_login):
    api = APIClient()
    api.force_authenticate(member)
    upload(api, [sample("png")], "jpg")
    _transaction(member, "0.27", "completed")
    from django.core.management import call_command

    call_command("seed")
    otp_login(client, staff)
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200, info
        obj = model.objects.first()
        if obj is not None:
            change = client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
            assert change.status_code == 200, info


def test_metrics_exposes_named_series_to_loopback_only(client, settings, sample):
    api = APIClient()
    upload(api, [sample("png")], "jpg")
    client.get("/api/health")
    resp = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert resp.status_code == 200
    text = resp.content.decode()
    for series in ("anclora_http_requests_total", "anclora_http_request_duration_seconds_bucket",
                   'anclora_conversions{engine="pillow",status="completed"} 1.0', "anclora_queue_depth",
                   "anclora_conversion_duration_seconds_bucket", "anclora_payments"):
        assert series in text, series
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9",
                      HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
