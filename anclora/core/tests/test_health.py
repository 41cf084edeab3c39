import pytest

pytestmark = pytest.mark.django_db


def test_health_ok_on_embedded_defaults(client):
    resp = client.get("/api/health")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok", "storage": "ok"}
    assert body["engines"]["pillow"] is True and body["engines"]["ffmpeg"] is True
    assert set(body["engines"]) >= {"pillow", "ffmpeg", "pandoc", "pymupdf", "libreoffice"}


def test_health_503_when_broker_down(client, settings):
    from anclora.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        resp = client.get("/api/health")
    finally:
        app.conf.broker_url = previous
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"] == "error"
    assert body["checks"]["database"] == "ok"


def test_health_503_when_storage_fails(client, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    def fail(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(FileSystemStorage, "save", fail)
    resp = client.get("/api/health")
    assert resp.status_code == 503
    assert resp.json()["checks"]["storage"] == "error"


@pytest.mark.services
def test_health_with_real_redis_broker(client, redis_url):
    from anclora.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = redis_url
    try:
        resp = client.get("/api/health")
    finally:
        app.conf.broker_url = previous
    assert resp.status_code == 200
    assert resp.json()["checks"]["broker"] == "ok"
