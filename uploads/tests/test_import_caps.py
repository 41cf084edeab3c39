"""URL imports in flight (pending, not yet downloaded) are capped per owner and per client address:
past a cap POST /api/conversion/convert answers 429 with Retry-After and creates nothing; a slot comes
back as soon as an import ends. Counted from the database under a lock, so parallel requests cannot
all pass."""

import pytest
import requests
from rest_framework.test import APIClient

from anclora.core.tests.parallel import run_in_parallel
from conversions.models import Conversion
from storage.models import StoredFile

URL = "https://files.example.com/foto.png"  # never fetched: the downloads are not enqueued here


@pytest.fixture
def no_download(monkeypatch):
    """The jobs stay in flight: the download task is never enqueued."""
    from uploads import imports

    queued = []
    monkeypatch.setattr(imports, "url_import_enqueue", lambda **kw: queued.append(kw))
    return queued


@pytest.fixture
def caps(settings):
    def set_caps(*, owner: int = 100, address: int = 100):
        settings.URL_IMPORTS_IN_FLIGHT_MAX = owner
        settings.URL_IMPORTS_IN_FLIGHT_PER_ADDRESS_MAX = address
    return set_caps


def _post(client, session_id=None, address="127.0.0.1"):
    data = {"source_url": URL, "target_format": "jpg", **({"session_id": session_id} if session_id else {})}
    return client.post("/api/conversion/convert", data, format="multipart", REMOTE_ADDR=address)


def _assert_refused(resp, before: tuple[int, int]):
    assert resp.status_code == 429, resp.content
    body = resp.json()
    assert body["code"] == "too_many_imports" and body["error"]
    assert body["details"]["source_url"] == [body["error"]]
    assert int(resp["Retry-After"]) == body["details"]["retry_after"] >= 1
    assert (Conversion.objects.count(), StoredFile.objects.count()) == before  # nothing created


@pytest.mark.django_db
@pytest.mark.usefixtures("commit_per_request", "no_download")
def test_an_anonymous_owner_past_its_cap_gets_429_until_an_import_ends(caps):
    caps(owner=2)
    client = APIClient()
    first = _post(client)
    assert first.status_code == 202, first.content
    session_id = first.json()["session_id"]
    assert _post(client, session_id).status_code == 202
    _assert_refused(_post(client, session_id), (2, 2))

    # another owner (a new session) is not affected
    assert _post(APIClient()).status_code == 202
    # one of the two ends (cancelled): its slot is free again
    cancel = client.post(first.json()["conversions"][0]["status_url"].rstrip("/") + "/cancel",
                         {"session_id": session_id})
    assert cancel.status_code == 200, cancel.content
    assert _post(client, session_id).status_code == 202


@pytest.mark.django_db
@pytest.mark.usefixtures("commit_per_request", "no_download")
def test_a_user_past_the_cap_gets_429(caps, make_user):
    caps(owner=1)
    client = APIClient()
    client.force_authenticate(make_user())
    assert _post(client).status_code == 202
    _assert_refused(_post(client), (1, 1))


@pytest.mark.django_db
@pytest.mark.usefixtures("commit_per_request", "no_download")
def test_one_address_past_its_cap_gets_429_whatever_the_session(caps, make_user):
    caps(owner=10, address=2)
    for _ in range(2):  # a new anonymous session each time, one address
        assert _post(APIClient(), address="198.51.100.7").status_code == 202
    _assert_refused(_post(APIClient(), address="198.51.100.7"), (2, 2))
    user_client = APIClient()
    user_client.force_authenticate(make_user())
    _assert_refused(_post(user_client, address="198.51.100.7"), (2, 2))  # signed in, same address
    assert _post(APIClient(), address="203.0.113.9").status_code == 202  # another address


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_download")
def test_parallel_requests_cannot_all_pass_the_cap(caps, live_server):
    caps(owner=2, address=100)
    url = f"{live_server.url}/api/conversion/convert"
    created = requests.post(url, data={"source_url": URL, "target_format": "jpg"}, timeout=30)
    assert created.status_code == 202, created.text
    session_id = created.json()["session_id"]

    def one():
        return requests.post(url, data={"source_url": URL, "target_format": "jpg", "session_id": session_id},
                             timeout=60).status_code

    codes, errors = run_in_parallel(one, n=8)
    assert errors == []
    assert sorted(codes) == [202] + [429] * 7, codes  # one slot was left
    assert Conversion.objects.filter(session_id=session_id).count() == 2
