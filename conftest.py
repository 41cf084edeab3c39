"""Project-wide fixtures: media in a temp dir, real services when configured."""

from __future__ import annotations

import os

import pytest

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _skip_or_fail(reason: str):
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Tests build tables from the models (`--nomigrations`: dj-stripe's migrations alone take ~2½ min);
    the rows our data migrations and `seed` add (plans, schedules, achievements) are committed here once.
    CI runs the real migrations separately."""
    from anclora.core.seeding import run_seeders

    with django_db_blocker.unblock():
        run_seeders()
        _SEED_SNAPSHOT[:] = _seed_snapshot()


# PostgreSQL: the tables that have rows once seeded, copied to this schema of the test database; after a
# transactional test's flush they are copied back (a few INSERTs instead of seeding's ~300 queries).
SEED_SCHEMA = "test_seed_rows"
_SEED_SNAPSHOT: list[str] = []


def _seed_snapshot() -> list[str]:
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    qn = connection.ops.quote_name
    tables = []
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SEED_SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SEED_SCHEMA}")
        for table in sorted(connection.introspection.django_table_names(only_existing=True, include_views=False)):
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {qn(table)})")
            if cursor.fetchone()[0]:
                cursor.execute(f"CREATE TABLE {SEED_SCHEMA}.{qn(table)} AS SELECT * FROM {qn(table)}")
                tables.append(table)
    return tables


def _seed_again() -> None:
    """After a flush: the snapshot's rows back into the tables still empty (content types and permissions
    are recreated by the flush itself), or the seeders where there is no snapshot."""
    from django.db import connection, transaction

    if not _SEED_SNAPSHOT:
        from anclora.core.seeding import run_seeders

        run_seeders()
        return
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        for table in _SEED_SNAPSHOT:
            cursor.execute(f"INSERT INTO {qn(table)} SELECT * FROM {SEED_SCHEMA}.{qn(table)} "
                           f"WHERE NOT EXISTS (SELECT 1 FROM {qn(table)})")


@pytest.fixture(scope="session", autouse=True)
def _flush_with_delete():
    """A transactional test ends with a flush of every table. PostgreSQL's TRUNCATE of our ~110 tables
    creates new files for each table and index (~1-3 s per test here); DELETE of the few rows a test
    leaves takes milliseconds. Same result: every row gone (the foreign keys Django creates are
    DEFERRABLE INITIALLY DEFERRED, so the order does not matter), sequences untouched as before. A flush
    that resets sequences or cascades keeps TRUNCATE."""
    try:
        from django.db.backends.postgresql.operations import DatabaseOperations
    except ImportError:  # no psycopg: SQLite runs
        yield
        return
    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return [f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};" for table in tables]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = media
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(media)}},
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis URL, or skip (fail with REQUIRE_SERVICES=1)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        _skip_or_fail("needs a real Redis broker: set REDIS_URL")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _skip_or_fail(f"Redis at {url} is not reachable: {exc}")
    return url


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


# --- factories (factories.py): one way to make users, files, conversions, payments, credits ---
@pytest.fixture
def make_user(db):
    """make_user(email=None, *, password=..., verified=True, plan=None, **model_fields) -> a signed-up
    user (factories.UserFactory); verified=False leaves the e-mail unverified."""
    from factories import UserFactory

    def make(email=None, *, verified=True, **fields):
        if email is not None:
            fields["email"] = email
        if not verified:
            fields["email_verified_at"] = None
        return UserFactory(**fields)

    return make


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def staff_user(db):
    """Staff with a confirmed TOTP device (log in through ``otp_login`` to pass the second factor)."""
    from factories import VerifiedStaffFactory

    return VerifiedStaffFactory()


@pytest.fixture
def no_worker(monkeypatch):
    """Jobs stay pending: nothing is enqueued (the ids that would have been are listed)."""
    from conversions import services

    queued = []
    monkeypatch.setattr(services, "conversion_enqueue", lambda conversion: queued.append(conversion.pk))
    return queued


@pytest.fixture
def commit_per_request(monkeypatch, django_capture_on_commit_callbacks):
    """Each test-client request ends as a committed one does: what it registered with
    transaction.on_commit runs (the eager worker, e-mails, webhooks), and what those register too.
    API tests that need only the after-commit work stay in the fast per-test transaction instead of
    ``django_db(transaction=True)`` (keep that for threads, live servers and real workers)."""
    from django.test import Client

    request = Client.request

    def committed(self, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return request(self, *args, **kwargs)

    monkeypatch.setattr(Client, "request", committed)


@pytest.fixture(autouse=True)
def _seeded_plans(request):
    """Seeded rows (plans, achievements, schedules) come from migrations and `seed`: committed once in
    django_db_setup, so a test in its rolled-back transaction finds them. A transactional test flushes
    every table when it ends; pytest_runtest_teardown below puts them back after that flush. (Seeding
    in every test, the schedules alone ~300 queries, made the suite minutes slower.)"""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    request.getfixturevalue("transactional_db" if marker and marker.kwargs.get("transaction") else "db")
    # pytest-django's own rule (_django_db_helper) for a test that runs outside a transaction
    if (marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))) or \
            {"transactional_db", "live_server", "django_db_reset_sequences"} & set(request.fixturenames):
        request.node.stash[_FLUSHES] = request.getfixturevalue("django_db_blocker")


_FLUSHES = pytest.StashKey()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test's flush, commit the seeded rows again for the tests after it (not after
    the last test, whose teardown drops the test database)."""
    result = yield
    blocker = item.stash.get(_FLUSHES, None)
    if blocker is not None and nextitem is not None:
        with blocker.unblock():
            _seed_again()
    return result


@pytest.fixture
def sample(tmp_path):
    """sample("png") -> path of a small real file of that format (generated by the engines' helpers)."""
    import itertools

    from conversions.tests import enginefiles

    counter = itertools.count()

    def make(fmt: str, name: str | None = None):
        path = tmp_path / (name or f"sample-{next(counter)}.{fmt}")
        return enginefiles.make_sample(path, fmt)

    return make


# --- staff with the second factor (the admin refuses a session that passed only the password) ---
@pytest.fixture
def otp_login():
    """otp_login(client, user) -> client: logged in as ``user`` with a confirmed TOTP device and a
    session that passed the second factor (what /admin/otp/ records), so /admin/ opens."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def login(client, user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or \
            TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return login


@pytest.fixture
def admin_user(db):
    """A superuser (replaces pytest-django's, whose password "password" the staff password policy
    refuses: UserManager.create_superuser validates)."""
    from django.contrib.auth import get_user_model

    from factories import PASSWORD

    return get_user_model().objects.create_superuser("admin@example.com", PASSWORD)


@pytest.fixture
def verified_admin_client(client, admin_user, otp_login):
    """A superuser's test client that passed the password and the second factor."""
    return otp_login(client, admin_user)


# --- conversion engines: a registry of our own for one test (conversions/engines/registry.py) ---
@pytest.fixture
def registry_override():
    """registry_override(missing=["libreoffice"]) -> the default registry rebuilt with those engines
    reported as not installed; registry_override(engines=[...]) -> a registry of these engine instances.
    The previous registry comes back after the test."""
    import contextlib

    from conversions.engines import registry as registry_module

    with contextlib.ExitStack() as stack:
        def override(*, missing=(), engines=None):
            if engines is None:
                engines = [type(e)(available=False) if e.name in missing else e
                           for e in registry_module.default_engines()]
            return stack.enter_context(registry_module.use(registry_module.Registry(engines)))

        yield override


# --- STORAGE=s3 against a real S3-compatible server on loopback (moto's ThreadedMotoServer) ---
S3_TEST_BUCKET = "anclora-test"


@pytest.fixture(scope="session")
def s3_endpoint():
    import socket

    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        _skip_or_fail("moto[server] is not installed (requirements/dev.txt)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(settings, s3_endpoint, monkeypatch):
    """The default storage is the bucket S3_TEST_BUCKET (django-storages, nothing mocked); yields a boto3
    client for looking at it. Objects and open multipart uploads are removed afterwards."""
    import boto3

    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=S3_TEST_BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage",
                    "OPTIONS": {"bucket_name": S3_TEST_BUCKET, "endpoint_url": s3_endpoint, "access_key": "test",
                                "secret_key": "test", "region_name": "us-east-1", "file_overwrite": False,
                                "default_acl": None}},
    }
    settings.S3_UPLOAD_PART_MB = 5  # S3's (and moto's) minimum for every part but the last
    yield client
    for upload in client.list_multipart_uploads(Bucket=S3_TEST_BUCKET).get("Uploads", []):
        client.abort_multipart_upload(Bucket=S3_TEST_BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
    for obj in client.list_objects_v2(Bucket=S3_TEST_BUCKET).get("Contents", []):
        client.delete_object(Bucket=S3_TEST_BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=S3_TEST_BUCKET)
