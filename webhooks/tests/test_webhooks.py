"""Signed webhooks: signature and documented verification, retries with backoff, the delivery log,
redelivery, no redirects, public addresses checked at connect time, batch.completed, 404s."""

import json
import re
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.owners import Owner
from factories import upload
from webhooks import services, signing, transport
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.tasks import webhook_deliveries_due_task

# after-commit work (the eager worker, the deliveries) runs at the end of each request
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("commit_per_request")]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"


@pytest.fixture
def private_ok(settings):
    settings.CONVERSION_WEBHOOK_ALLOW_PRIVATE = True
    settings.SITE_URL = "https://convert.example.org"


def _events(receiver, event_type):
    return [r for r in receiver.requests if r["headers"].get("Anclora-Event-Type") == event_type]


def _run_example(name, header, body, secret):
    command = [sys.executable, str(EXAMPLES / name)] if name.endswith(".py") else ["sh", str(EXAMPLES / name)]
    return subprocess.run([*command, header], input=body, capture_output=True, timeout=30,
                          env={"WEBHOOK_SECRET": secret, "PATH": "/usr/bin:/bin"})


def test_signed_delivery_verified_by_the_documented_examples(api_client, make_user, sample, receiver, private_ok):
    user = make_user()
    services.webhook_endpoint_create(user=user, url=receiver.url, events=["conversion.completed"])
    api_client.force_authenticate(user)
    body = upload(api_client, [sample("png")], "jpg").json()

    [hit] = _events(receiver, "conversion.completed")
    header = hit["headers"]["Anclora-Signature"]
    assert re.fullmatch(r"t=\d{10},v1=[0-9a-f]{64}", header)
    assert abs(int(header[2:12]) - timezone.now().timestamp()) < 60
    event = json.loads(hit["body"])
    conversion = event["data"]["conversion"]
    assert event["type"] == "conversion.completed" and hit["headers"]["Anclora-Event-Id"] == event["id"]
    assert isinstance(event["created"], int)
    assert conversion["id"] == body["conversions"][0]["id"] and conversion["status"] == "completed"
    assert conversion["original_filename"].endswith(".png") and conversion["original_format"] == "png"
    assert conversion["target_format"] == "jpg"
    assert conversion["download_url"] == f"https://convert.example.org/api/conversion/{conversion['id']}/download"

    secret = services.webhook_secret_get(owner=Owner(user=user)).secret
    assert secret.startswith("whsec_")
    for example in ("verify_webhook.py", "verify_webhook.sh"):
        ok = _run_example(example, header, hit["body"], secret)
        assert ok.returncode == 0 and ok.stdout.strip() == b"valid", (example, ok.stdout, ok.stderr)
        tampered = _run_example(example, header, hit["body"].replace(b"completed", b"failed!!!"), secret)
        assert tampered.returncode == 1 and tampered.stdout.strip() == b"invalid"
        wrong_key = _run_example(example, header, hit["body"], secret + "x")
        assert wrong_key.returncode == 1
        stale_header = signing.signature_header(secret, hit["body"], timestamp=int(header[2:12]) - 3600)
        assert _run_example(example, stale_header, hit["body"], secret).returncode == 1


def test_readme_includes_the_examples_verbatim():
    readme = (ROOT / "README.md").read_text()
    for example in ("verify_webhook.py", "verify_webhook.sh"):
        assert (EXAMPLES / example).read_text().strip() in readme


def test_retries_with_backoff_against_a_failing_receiver(api_client, make_user, sample, receiver, private_ok):
    """500 then 200: the first attempt is logged as failed and waits 30 s; a due run sends it again."""
    user = make_user()
    endpoint = services.webhook_endpoint_create(user=user, url=receiver.url, events=["conversion.completed"])
    receiver.codes = [500, 200]
    api_client.force_authenticate(user)
    upload(api_client, [sample("png")], "jpg")

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == ("pending", 1, 500)
    assert delivery.last_error.startswith("HTTP 500")
    assert timedelta(seconds=30) <= delivery.next_attempt_at - delivery.last_attempt_at < timedelta(seconds=35)
    assert len(receiver.requests) == 1  # the eager re-enqueue found it not yet due
    assert webhook_deliveries_due_task() == 0 and len(receiver.requests) == 1

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert webhook_deliveries_due_task() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code, delivery.last_error) == \
        ("succeeded", 2, 200, "")
    assert delivery.delivered_at and delivery.next_attempt_at is None
    first, second = receiver.requests
    assert first["body"] == second["body"]  # the same event, signed again with a fresh timestamp
    secret = services.webhook_secret_get(owner=Owner(user=user)).secret
    assert signing.signature_verify(secret, second["body"], second["headers"]["Anclora-Signature"])

    log = api_client.get(f"/api/webhooks/deliveries?endpoint={endpoint.pk}").json()
    assert log["count"] == 1
    row = log["results"][0]
    assert (row["status"], row["attempts"], row["last_response_code"], row["event_type"]) == \
        ("succeeded", 2, 200, "conversion.completed")


def _pending_delivery(user, url):
    return WebhookDelivery.objects.create(
        user=user, url=url, event_type="conversion.completed", event_id="6f1c1c7e-3f3a-4a4c-9a51-0c0d1f1e2a3b",
        payload={"id": "6f1c1c7e-3f3a-4a4c-9a51-0c0d1f1e2a3b", "type": "conversion.completed", "created": 1,
                 "data": {}}, next_attempt_at=timezone.now())


def test_gives_up_after_the_last_attempt_with_exponential_backoff(make_user, receiver, private_ok):
    user = make_user()
    receiver.codes = [500] * 20
    delivery = _pending_delivery(user, receiver.url)
    gaps = []
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        services.webhook_delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.attempts == attempt and delivery.last_response_code == 500
        if delivery.next_attempt_at:
            gaps.append(int((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()))
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert gaps == [30, 120, 300, 900, 1800]  # about 52 minutes from the first attempt to the sixth
    assert (delivery.status, delivery.next_attempt_at) == ("failed", None)
    assert len(receiver.requests) == services.MAX_ATTEMPTS
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == "not_due"
    assert webhook_deliveries_due_task() == 0 and len(receiver.requests) == services.MAX_ATTEMPTS


def test_a_duplicate_task_sends_once(make_user, receiver, private_ok):
    user = make_user()
    delivery = _pending_delivery(user, receiver.url)
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == "succeeded"
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == "not_due"
    assert len(receiver.requests) == 1


def test_redeliver_by_hand(api_client, make_user, receiver, private_ok):
    user = make_user()
    endpoint = services.webhook_endpoint_create(user=user, url=receiver.url, events=["conversion.failed"])
    receiver.codes = [500] * 6
    delivery = _pending_delivery(user, receiver.url)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(endpoint=endpoint)
    for _ in range(services.MAX_ATTEMPTS):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        services.webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed"

    api_client.force_authenticate(user)
    resp = api_client.post(f"/api/webhooks/deliveries/{delivery.pk}/redeliver")
    assert resp.status_code == 202, resp.content
    again = WebhookDelivery.objects.get(pk=resp.json()["id"])
    assert (again.status, again.attempts, again.redelivery_of_id, again.event_id) == \
        ("succeeded", 1, delivery.pk, delivery.event_id)
    assert len(receiver.requests) == 7 and receiver.requests[-1]["body"] == receiver.requests[0]["body"]

    # One redelivery at a time per delivery: a second click while one is pending is a 409.
    receiver.codes = [500]
    assert api_client.post(f"/api/webhooks/deliveries/{delivery.pk}/redeliver").status_code == 202
    busy = api_client.post(f"/api/webhooks/deliveries/{delivery.pk}/redeliver")
    assert busy.status_code == 409 and busy.json()["code"] == "redelivery_pending"
    WebhookDelivery.objects.filter(redelivery_of=delivery, status="pending").update(status="failed")
    assert len(receiver.requests) == 8

    # The account page's button does the same.
    from django.test import Client

    page = Client()
    page.force_login(user)
    assert page.post(f"/account/webhooks/deliveries/{delivery.pk}/redeliver/").status_code == 302
    assert len(receiver.requests) == 9


def test_redirects_are_not_followed(make_user, receiver, private_ok):
    user = make_user()
    receiver.codes = [302]
    delivery = _pending_delivery(user, receiver.url)
    services.webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_response_code) == ("pending", 302)  # a failure, retried later
    assert [r["path"] for r in receiver.requests] == ["/hook"]


PUBLIC = "93.184.216.34"
HOST = "hooks.example.test"


@pytest.fixture
def rebinding_dns(monkeypatch):
    """hooks.example.test resolves to a public address the first time and to loopback afterwards."""
    real = socket.getaddrinfo
    calls = []

    def fake(host, port, *args, **kwargs):
        if host != HOST:
            return real(host, port, *args, **kwargs)
        calls.append(host)
        address = PUBLIC if len(calls) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return calls


@pytest.fixture
def connections(monkeypatch, receiver):
    """Record where the transport connects; a connection to the public address reaches the receiver."""
    made = []

    def fake_connect(family, sockaddr, deadline):
        made.append(sockaddr[0])
        if sockaddr[0] != PUBLIC:
            raise AssertionError(f"connected to {sockaddr[0]}")
        return socket.create_connection(("127.0.0.1", receiver.port), deadline.left())

    monkeypatch.setattr(transport, "connect", fake_connect)
    return made


def test_dns_rebinding_between_check_and_connect_is_refused(make_user, receiver, rebinding_dns, connections,
                                                            settings):
    settings.CONVERSION_WEBHOOK_ALLOW_PRIVATE = False
    user = make_user()
    url = f"http://{HOST}:{receiver.port}/hook"
    endpoint = services.webhook_endpoint_create(user=user, url=url, events=["conversion.completed"])  # public
    delivery = _pending_delivery(user, endpoint.url)
    services.webhook_delivery_attempt(delivery_id=delivery.pk)  # now loopback
    delivery.refresh_from_db()
    assert connections == [] and receiver.requests == []
    assert delivery.status == "pending" and delivery.last_response_code is None
    assert "non-public address (127.0.0.1)" in delivery.last_error


def test_connection_goes_to_the_checked_address(make_user, receiver, rebinding_dns, connections, settings):
    """One resolution per attempt: the address checked is the address connected to, whatever DNS says next."""
    settings.CONVERSION_WEBHOOK_ALLOW_PRIVATE = False
    user = make_user()
    delivery = _pending_delivery(user, f"http://{HOST}:{receiver.port}/hook")
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) == "succeeded"
    assert rebinding_dns == [HOST] and connections == [PUBLIC]
    assert receiver.requests[0]["headers"]["Host"] == f"{HOST}:{receiver.port}"


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:127.0.0.1",
                                     "::ffff:10.0.0.1", "64:ff9b::7f00:1", "fe80::1", "0.0.0.0",
                                     # local-use NAT64, IPv4-translated, site-local: never public
                                     "64:ff9b:1::a00:1", "64:ff9b:1::808:808", "::ffff:0:a00:1",
                                     "::ffff:0:808:808", "fec0::1"])
def test_private_addresses_refused_at_delivery_time(make_user, monkeypatch, connections, settings, address):
    settings.CONVERSION_WEBHOOK_ALLOW_PRIVATE = False
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: [
        (family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))])
    delivery = _pending_delivery(make_user(), f"https://{HOST}/hook")
    services.webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert connections == [] and delivery.last_error.startswith("refused:")


def test_batch_completed_sent_once_when_a_batch_of_two_ends(api_client, make_user, sample, receiver, private_ok):
    user = make_user()
    services.webhook_endpoint_create(user=user, url=receiver.url, events=list(services.EVENT_TYPES))
    api_client.force_authenticate(user)
    body = upload(api_client, [sample("png"), sample("png")], "jpg").json()
    assert len(_events(receiver, "conversion.completed")) == 2
    [hit] = _events(receiver, "batch.completed")
    batch = json.loads(hit["body"])["data"]["batch"]
    assert batch["id"] == body["batch_id"] and (batch["total"], batch["completed"], batch["failed"]) == (2, 2, 0)
    assert {c["id"] for c in batch["conversions"]} == {c["id"] for c in body["conversions"]}
    # Two jobs ending together both check the batch: the event is recorded once.
    assert services.batch_completed_check(batch_id=body["batch_id"]) == 0
    assert WebhookDelivery.objects.filter(event_type="batch.completed").count() == 1


def test_an_endpoint_for_batch_completed_only_gets_the_batch_event(api_client, make_user, sample, receiver,
                                                                   private_ok):
    user = make_user()
    services.webhook_endpoint_create(user=user, url=receiver.url, events=["batch.completed"])
    api_client.force_authenticate(user)
    upload(api_client, [sample("png")], "jpg")
    assert len(_events(receiver, "batch.completed")) == 1
    assert _events(receiver, "conversion.completed") == []


def test_nobody_listening_records_nothing(api_client, make_user, sample, receiver, private_ok):
    other = make_user()
    services.webhook_endpoint_create(user=other, url=receiver.url, events=list(services.EVENT_TYPES))
    api_client.force_authenticate(make_user())
    body = upload(api_client, [sample("png")], "jpg").json()
    assert body["conversions"][0]["status"] in ("completed", "pending", "processing")
    assert not WebhookDelivery.objects.exists() and receiver.requests == []


def test_failed_conversion_event(api_client, make_user, sample, receiver, private_ok, monkeypatch,
                                 django_capture_on_commit_callbacks):
    from conversions import services as conversion_services

    user = make_user()
    services.webhook_endpoint_create(user=user, url=receiver.url, events=["conversion.failed"])
    api_client.force_authenticate(user)
    monkeypatch.setattr(conversion_services, "conversion_enqueue", lambda conversion: None)  # stays pending
    body = upload(api_client, [sample("png")], "jpg").json()
    with django_capture_on_commit_callbacks(execute=True):  # the delivery is sent after the commit
        conversion_services.conversion_fail(conversion_id=body["conversions"][0]["id"], message="roto", code="boom")
    [hit] = _events(receiver, "conversion.failed")
    data = json.loads(hit["body"])["data"]["conversion"]
    assert (data["status"], data["error"], data["error_code"], data["download_url"]) == \
        ("failed", "roto", "boom", None)
    assert _events(receiver, "conversion.completed") == []


def test_per_request_webhook_url_is_signed_with_the_session_secret(api_client, sample, receiver, private_ok):
    resp = upload(api_client, [sample("png")], "jpg", webhook_url=receiver.url)
    assert resp.status_code == 202
    session_id = resp.json()["session_id"]
    [hit] = _events(receiver, "conversion.completed")
    secret = api_client.get(f"/api/webhooks/secret?session_id={session_id}").json()["secret"]
    assert signing.signature_verify(secret, hit["body"], hit["headers"]["Anclora-Signature"])
    assert json.loads(hit["body"])["data"]["conversion"]["id"] == resp.json()["conversions"][0]["id"]
    assert _events(receiver, "batch.completed") == []  # registered endpoints only
    from rest_framework.test import APIClient

    assert APIClient().get("/api/webhooks/secret").status_code == 401  # no user, no session


def test_endpoints_api_and_other_users_get_404(api_client, make_user, receiver, private_ok, settings):
    owner, other = make_user(), make_user()
    api_client.force_authenticate(owner)
    resp = api_client.post("/api/webhooks/endpoints", {"url": receiver.url, "events": ["batch.completed"]},
                           format="json")
    assert resp.status_code == 201, resp.content
    endpoint_id = resp.json()["id"]
    assert resp.json()["events"] == ["batch.completed"] and resp.json()["active"] is True
    assert api_client.get("/api/webhooks/endpoints").json()["count"] == 1
    assert api_client.post("/api/webhooks/endpoints", {"url": receiver.url, "events": ["nope"]},
                           format="json").status_code == 400
    settings.CONVERSION_WEBHOOK_ALLOW_PRIVATE = False
    refused = api_client.post("/api/webhooks/endpoints", {"url": "http://10.0.0.1/x"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_webhook_url"

    delivery = _pending_delivery(owner, receiver.url)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(endpoint_id=endpoint_id, next_attempt_at=None)
    first = api_client.get("/api/webhooks/secret").json()["secret"]
    rotated = api_client.post("/api/webhooks/secret/rotate").json()["secret"]
    assert first != rotated and rotated.startswith("whsec_")

    api_client.force_authenticate(other)
    assert api_client.delete(f"/api/webhooks/endpoints/{endpoint_id}").status_code == 404
    assert api_client.get(f"/api/webhooks/deliveries?endpoint={endpoint_id}").status_code == 404
    assert api_client.post(f"/api/webhooks/deliveries/{delivery.pk}/redeliver").status_code == 404
    assert api_client.get("/api/webhooks/deliveries").json()["count"] == 0
    assert api_client.get("/api/webhooks/secret").json()["secret"] not in (first, rotated)
    api_client.force_authenticate(None)
    assert api_client.get("/api/webhooks/endpoints").status_code == 401

    api_client.force_authenticate(owner)
    assert api_client.delete(f"/api/webhooks/endpoints/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.filter(endpoint_id=endpoint_id).exists()


def test_account_page_section(client, make_user, receiver, private_ok):
    user = make_user()
    client.force_login(user)
    resp = client.post("/account/webhooks/endpoints/", {"url": receiver.url, "events": ["conversion.completed"]})
    assert resp.status_code == 302 and resp.url.endswith("/account/#webhooks")
    endpoint = WebhookEndpoint.objects.get(user=user)
    delivery = _pending_delivery(user, receiver.url)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(endpoint=endpoint, attempts=3, last_response_code=503)
    page = client.get("/account/").content.decode()
    secret = services.webhook_secret_get(owner=Owner(user=user)).secret
    assert 'id="webhooks"' in page and receiver.url in page and secret in page
    assert f"/account/webhooks/deliveries/{delivery.pk}/redeliver/" in page and "503" in page
    client.post("/account/webhooks/secret/rotate/")
    assert services.webhook_secret_get(owner=Owner(user=user)).secret != secret
    other = make_user()
    client.force_login(other)
    client.post(f"/account/webhooks/endpoints/{endpoint.pk}/delete/")
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    client.force_login(user)
    client.post(f"/account/webhooks/endpoints/{endpoint.pk}/delete/")
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_api_docs_describe_events_and_signature(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    create = schema["paths"]["/api/webhooks/endpoints"]["post"]
    assert set(create["callbacks"]) == set(services.EVENT_TYPES)
    receiver_op = create["callbacks"]["conversion.completed"]["{$request.body#/url}"]["post"]
    assert "Anclora-Signature" in receiver_op["description"] and "HMAC-SHA256" in receiver_op["description"]
    assert receiver_op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/WebhookEvent")
    convert = schema["paths"]["/api/conversion/convert"]["post"]["requestBody"]["content"]["multipart/form-data"]
    webhook_url = schema["components"]["schemas"][convert["schema"]["$ref"].rsplit("/", 1)[1]]["properties"][
        "webhook_url"]
    assert "Anclora-Signature" in webhook_url["description"]


def test_a_broker_outage_never_fails_the_conversion_and_the_sweep_sends_later(
        api_client, make_user, sample, receiver, private_ok, monkeypatch):
    from webhooks.tasks import webhook_delivery_task

    user = make_user()
    services.webhook_endpoint_create(user=user, url=receiver.url, events=["conversion.completed"])
    api_client.force_authenticate(user)

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(webhook_delivery_task, "apply_async", broker_down)
    body = upload(api_client, [sample("png")], "jpg").json()
    monkeypatch.undo()
    assert api_client.get(body["conversions"][0]["status_url"]).json()["status"] == "completed"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, receiver.requests) == ("pending", 0, [])
    assert webhook_deliveries_due_task() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.requests)) == ("succeeded", 1, 1)
