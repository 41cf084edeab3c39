from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from accounts.models import AnonymousSession, User
from accounts.owners import Owner
from storage import maintenance
from storage.models import StoredFile

pytestmark = pytest.mark.django_db


def _hours_left(stored):
    return round((stored.expires_at - timezone.now()).total_seconds() / 3600)


@pytest.mark.parametrize("plan,hours", [(None, 24), ("basico", 7 * 24), ("pro", 30 * 24),
                                        ("enterprise", 90 * 24)])
def test_retention_by_plan(make_user, store, plan, hours):
    user = make_user(plan=plan)
    assert _hours_left(store(Owner(user=user))) == hours


def test_anonymous_retention_is_24h(store, anon_owner):
    assert _hours_left(store(anon_owner)) == 24


def test_plan_change_applies_to_new_files_only(make_user, store):
    from accounts import services as account_services
    from accounts.models import SubscriptionPlan

    user = make_user()
    old = store(Owner(user=user))
    account_services.subscription_start(user=user, plan=SubscriptionPlan.objects.get(slug="pro"))
    new = store(Owner(user=user))
    old.refresh_from_db()
    assert _hours_left(old) == 24 and _hours_left(new) == 30 * 24


def _extend(client, stored, credits):
    return client.post(f"/api/files/{stored.pk}/extend-retention", {"credits": credits}, format="json")


def test_extend_retention_arithmetic_cap_and_credits(make_user, store):
    user = make_user(conversion_credits=40)
    stored = store(Owner(user=user))
    client = APIClient()
    client.force_authenticate(user)
    before = stored.expires_at
    resp = _extend(client, stored, 3)
    assert resp.status_code == 200, resp.content
    stored.refresh_from_db()
    assert stored.expires_at - before == timedelta(hours=72) and stored.extended_hours == 72
    assert User.objects.get(pk=user.pk).conversion_credits == 37
    # 27 more reach the 30-day cap exactly; one more is refused and costs nothing
    assert _extend(client, stored, 27).status_code == 200
    refused = _extend(client, stored, 1)
    assert refused.status_code == 400 and refused.json()["code"] == "extension_cap"
    stored.refresh_from_db()
    assert stored.extended_hours == 30 * 24
    assert User.objects.get(pk=user.pk).conversion_credits == 10


def test_extend_retention_short_of_credits_changes_nothing(make_user, store):
    user = make_user(conversion_credits=1)
    stored = store(Owner(user=user))
    client = APIClient()
    client.force_authenticate(user)
    resp = _extend(client, stored, 2)
    assert resp.status_code == 400 and resp.json()["code"] == "insufficient_credits"
    stored.refresh_from_db()
    assert stored.extended_hours == 0
    assert User.objects.get(pk=user.pk).conversion_credits == 1


@pytest.mark.parametrize("credits", [0, -1, "x", 31])
def test_extend_retention_bad_input(make_user, store, credits):
    user = make_user()
    stored = store(Owner(user=user))
    client = APIClient()
    client.force_authenticate(user)
    resp = _extend(client, stored, credits)
    assert resp.status_code == 400 and "credits" in resp.json()["details"]


def test_extend_retention_other_users_file_is_404(make_user, store):
    stored = store(Owner(user=make_user()))
    client = APIClient()
    client.force_authenticate(make_user())
    assert _extend(client, stored, 1).status_code == 404


def test_cleanup_deletes_exactly_the_expired_set_once(make_user, store, anon_owner):
    user = make_user(plan="pro")
    anon_file = store(anon_owner)
    user_file = store(Owner(user=user))
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        assert maintenance.stored_files_delete_expired() == 1
        assert maintenance.stored_files_delete_expired() == 0  # a second beat finds nothing
    anon_file.refresh_from_db()
    user_file.refresh_from_db()
    assert anon_file.is_deleted and anon_file.deleted_at is not None
    assert not default_storage.exists(anon_file.storage_name)
    assert not user_file.is_deleted and default_storage.exists(user_file.storage_name)
    with time_machine.travel(timezone.now() + timedelta(days=30, hours=1), tick=False):
        assert maintenance.stored_files_delete_expired() == 1
    assert not default_storage.exists(user_file.storage_name)


def test_cleanup_in_batches(store, anon_owner):
    files = [store(anon_owner) for _ in range(7)]
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        assert maintenance.stored_files_delete_expired(batch_size=3) == 7
    assert not any(default_storage.exists(f.storage_name) for f in files)


def test_orphans_both_ways(store, anon_owner):
    from django.core.files.base import ContentFile

    kept = store(anon_owner)
    gone = store(anon_owner)
    default_storage.delete(gone.storage_name)
    stray = default_storage.save("2020/01/01/original/stray-file.txt", ContentFile(b"x"))
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        result = maintenance.orphans_sweep()
        assert result == {"bytes_removed": 1, "rows_marked": 1}
        assert maintenance.orphans_sweep() == {"bytes_removed": 0, "rows_marked": 0}
    assert not default_storage.exists(stray)
    assert default_storage.exists(kept.storage_name)
    gone.refresh_from_db()
    assert gone.is_deleted


def test_fresh_bytes_without_row_are_not_orphans_yet(anon_owner):
    from django.core.files.base import ContentFile

    name = default_storage.save("2026/01/01/original/in-flight.txt", ContentFile(b"x"))
    assert maintenance.orphans_sweep()["bytes_removed"] == 0
    assert default_storage.exists(name)


def test_anonymous_purge_removes_old_sessions_and_their_files(store, make_user):
    old = Owner(session=AnonymousSession.objects.create())
    recent = Owner(session=AnonymousSession.objects.create())
    old_file = store(old)
    recent_file = store(recent)
    AnonymousSession.objects.filter(pk=old.session.pk).update(last_seen=timezone.now() - timedelta(days=3))
    assert maintenance.anonymous_sessions_purge() == 1
    assert not AnonymousSession.objects.filter(pk=old.session.pk).exists()
    assert not StoredFile.objects.filter(pk=old_file.pk).exists()
    assert not default_storage.exists(old_file.storage_name)
    assert StoredFile.objects.filter(pk=recent_file.pk).exists()
    assert maintenance.anonymous_sessions_purge() == 0


def test_expiry_notice_sent_once_in_user_language(make_user, store, anon_owner):
    user = make_user(language="en")
    stored = store(Owner(user=user), name="informe.txt")
    store(anon_owner)  # anonymous files get no e-mail
    assert maintenance.expiry_notices_send() == 1
    assert maintenance.expiry_notices_send() == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "informe.txt" in message.body and "expire" in message.subject.lower()
    stored.refresh_from_db()
    assert stored.expiry_notice_sent_at is not None


def test_expiry_notice_spanish_by_default(make_user, store):
    user = make_user()
    store(Owner(user=user))
    maintenance.expiry_notices_send()
    assert "caduca" in mail.outbox[0].subject


def test_beat_schedule_seeded_once():
    for _ in range(3):
        call_command("seed")
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert {"delete-expired-files", "file-expiry-notices", "orphan-sweep", "purge-anonymous-sessions",
            "reap-stuck-conversions", "flush-expired-jwt"} <= names
    assert PeriodicTask.objects.filter(name="delete-expired-files").count() == 1


def test_files_page_extend_and_delete(client, make_user, store):
    user = make_user(conversion_credits=2)
    stored = store(Owner(user=user), name="memoria.txt")
    client.force_login(user)
    page = client.get("/files/")
    assert page.status_code == 200 and "memoria.txt" in page.content.decode()
    assert "data-countdown" in page.content.decode()
    resp = client.post(f"/files/{stored.pk}/extend/", {"credits": "2"}, follow=True)
    assert "ampliada" in resp.content.decode()
    stored.refresh_from_db()
    assert stored.extended_hours == 48
    resp = client.post(f"/files/{stored.pk}/extend/", {"credits": "1"}, follow=True)
    assert "créditos suficientes" in resp.content.decode()
    client.post(f"/files/{stored.pk}/delete/")
    stored.refresh_from_db()
    assert stored.is_deleted


def test_admin_extends_retention_through_the_service(client, make_user, store, otp_login):
    staff = make_user(is_staff=True, is_superuser=True)
    stored = store(Owner(user=make_user()))
    before = stored.expires_at
    otp_login(client, staff)
    client.post("/admin/storage/storedfile/", {"action": "extend_seven_days", "_selected_action": [str(stored.pk)]})
    stored.refresh_from_db()
    assert stored.expires_at - before == timedelta(days=7) and stored.extended_hours == 7 * 24


def test_service_refuses_an_absurd_extension_without_overflow(make_user, store):
    """10**30 credits never reaches timedelta(): the 30-day cap answers first, nothing is spent."""
    from anclora.core.errors import ApplicationError
    from factories import give_credits
    from storage import services

    user = make_user()
    give_credits(user, 1)
    stored = store(Owner(user=user))
    with pytest.raises(ApplicationError) as refused:
        services.stored_file_extend_retention(stored_file=stored, user=user, credits=10**30)
    assert refused.value.code == "extension_cap"
    user.refresh_from_db()
    assert user.conversion_credits == 1
