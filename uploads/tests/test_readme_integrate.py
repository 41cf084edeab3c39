"""The README's "Integrate" section: every code block is extracted from the README and run against a live server.

Each block carries an `# example: <name>` line and is kept verbatim in docs/examples/<name> (for people who
download it). The blocks are written out of the README, run with curl / sh / python against pytest-django's
live_server with ANCLORA_URL and a real ANCLORA_API_KEY, and what they print and download is checked.
The webhook verification blocks need a real signed delivery: webhooks/tests/test_webhooks.py runs them
(docs/examples/verify_webhook.*, identical to the README blocks as the first test here ensures).
"""

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from accounts.services import tokens_for_user
from apikeys import services as key_services
from apikeys.models import ApiKey
from conftest import S3_TEST_BUCKET as BUCKET  # the `s3` fixture's bucket
from conversions.models import Conversion
from uploads.models import ResumableUpload

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
JPEG = b"\xff\xd8\xff"
FENCES = {".sh": "sh", ".py": "python"}
# Which test runs each example (a new block without a runner fails the first test).
RUNNERS = {
    "api_key_create.sh": "test_curl_creates_a_key",
    "convert_with_key.sh": "test_curl_converts_once_with_an_idempotency_key",
    "convert_with_key.py": "test_python_converts_and_downloads",
    "url_import.sh": "test_curl_url_import_waits_and_downloads",
    "resumable_upload.sh": "test_curl_tus_upload_in_chunks_then_converts",
    "s3_upload.py": "test_python_s3_upload_resumes_and_downloads",
    "verify_webhook.py": "webhooks/tests/test_webhooks.py::test_signed_delivery_verified_by_the_documented_examples",
    "verify_webhook.sh": "webhooks/tests/test_webhooks.py::test_signed_delivery_verified_by_the_documented_examples",
}


def integrate_blocks() -> list[tuple[str, str | None, str]]:
    """(fence language, example name or None, code) of every fenced block of the Integrate section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Integrate\n", 1)[1].split("\n## ", 1)[0]
    blocks = []
    for lang, code in re.findall(r"^```(\w*)\n(.*?)^```$", section, flags=re.S | re.M):
        marker = re.search(r"^# example: (\S+)", "\n".join(code.splitlines()[:3]), flags=re.M)
        blocks.append((lang, marker.group(1) if marker else None, code))
    return blocks


def readme_example(name: str, directory: Path) -> Path:
    """The README's block for this example, written to a file to run."""
    (code,) = [code for _lang, block, code in integrate_blocks() if block == name]
    path = directory / name
    path.write_text(code)
    return path


def _run(args, env, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], env={**os.environ, **env}, cwd=cwd, capture_output=True,
                          text=True, timeout=180)


def _key(user, scopes=("convert", "read")) -> str:
    return key_services.api_key_create(user=user, name="readme", scopes=list(scopes)).key


def test_every_integrate_block_is_marked_kept_in_docs_examples_and_run():
    blocks = integrate_blocks()
    assert len(blocks) >= len(RUNNERS)
    names = []
    for lang, name, code in blocks:
        assert name, f"a ```{lang} block of Integrate has no '# example: <name>' line:\n{code[:200]}"
        assert lang == FENCES[Path(name).suffix], name
        assert (EXAMPLES / name).read_text() == code, f"docs/examples/{name} differs from the README"
        names.append(name)
    assert sorted(names) == sorted(RUNNERS)  # every block runs, each once
    for runner in RUNNERS.values():
        path, _, function = runner.rpartition("::")
        source = (ROOT / path).read_text() if path else Path(__file__).read_text()
        assert f"def {function}(" in source, runner


def test_curl_creates_a_key(live_server, make_user, tmp_path):
    user = make_user()
    env = {"ANCLORA_URL": live_server.url, "ANCLORA_ACCESS_TOKEN": tokens_for_user(user)["access_token"]}
    result = _run(["sh", readme_example("api_key_create.sh", tmp_path)], env, tmp_path)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["scopes"] == ["convert", "read"]
    assert ApiKey.objects.get(user=user).prefix == body["key"].split(".")[0]


def test_curl_converts_once_with_an_idempotency_key(live_server, make_user, sample, tmp_path):
    user = make_user()
    sample("png", "report.png").replace(tmp_path / "report.png")
    env = {"ANCLORA_URL": live_server.url, "ANCLORA_API_KEY": _key(user, ["convert"])}
    script = readme_example("convert_with_key.sh", tmp_path)
    first, again = _run(["sh", script], env, tmp_path), _run(["sh", script], env, tmp_path)
    assert first.returncode == again.returncode == 0, (first.stderr, again.stderr)
    assert json.loads(first.stdout)["conversions"][0]["target_format"] == "jpg"
    assert json.loads(again.stdout) == json.loads(first.stdout)
    assert Conversion.objects.filter(user=user).count() == 1


def test_python_converts_and_downloads(live_server, make_user, sample, tmp_path):
    user = make_user()
    env = {"ANCLORA_URL": live_server.url, "ANCLORA_API_KEY": _key(user)}
    out = tmp_path / "photo.jpg"
    result = _run([sys.executable, readme_example("convert_with_key.py", tmp_path), sample("png"), "jpg", out],
                  env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("completed")
    assert out.read_bytes()[:3] == JPEG
    assert Conversion.objects.get(user=user).status == Conversion.Status.COMPLETED


@pytest.fixture
def file_server(tmp_path):
    """A plain HTTP server on loopback serving tmp_path/served (the URL import's source)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_curl_url_import_waits_and_downloads(live_server, make_user, sample, tmp_path, file_server, settings):
    served, base = file_server
    sample("png", "report.png").replace(served / "report.png")
    user = make_user()
    env = {"ANCLORA_URL": live_server.url, "ANCLORA_API_KEY": _key(user)}
    script = readme_example("url_import.sh", tmp_path)

    # As documented: a loopback source is refused (the job fails with source_not_public) ...
    refused = _run(["sh", script, f"{base}/report.png", "jpg", "report.jpg"], env, tmp_path)
    assert refused.returncode == 1
    state = json.loads(refused.stdout)
    assert state["status"] == "failed" and state["error_code"] == "source_not_public"
    assert not (tmp_path / "report.jpg").exists()

    # ... and converted once private addresses are allowed (tests only).
    settings.URL_IMPORT_ALLOW_PRIVATE = True
    result = _run(["sh", script, f"{base}/report.png", "jpg", "report.jpg"], env, tmp_path)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stdout.strip() == "report.jpg"
    assert (tmp_path / "report.jpg").read_bytes()[:3] == JPEG
    done = Conversion.objects.filter(user=user, status=Conversion.Status.COMPLETED).get()
    assert done.options["source_url"] == f"{base}/report.png" and done.original_format == "png"


def test_curl_tus_upload_in_chunks_then_converts(live_server, make_user, big_png, tmp_path, settings):
    user = make_user()
    (tmp_path / "noise.png").write_bytes(big_png)
    env = {"ANCLORA_URL": live_server.url, "ANCLORA_API_KEY": _key(user), "CHUNK_MB": "2"}  # 3 PATCHes
    result = _run(["sh", readme_example("resumable_upload.sh", tmp_path), "noise.png", "jpg"], env, tmp_path)
    assert result.returncode == 0, (result.stdout, result.stderr)
    (item,) = json.loads(result.stdout)["conversions"]
    assert item["original_filename"] == "noise.png"
    conversion = Conversion.objects.get(pk=item["id"], user=user)
    assert conversion.status == Conversion.Status.COMPLETED and conversion.source.size == len(big_png)
    assert not ResumableUpload.objects.exists()
    auth = {"Authorization": f"Api-Key {env['ANCLORA_API_KEY']}"}
    detail = requests.get(live_server.url + item["status_url"], headers=auth, timeout=30).json()
    download = requests.get(live_server.url + detail["download_url"], headers=auth, timeout=30)
    assert download.status_code == 200 and download.content[:3] == JPEG


def test_python_s3_upload_resumes_and_downloads(live_server, make_user, big_png, tmp_path, s3):
    user = make_user()
    key = _key(user)
    auth = {"Authorization": f"Api-Key {key}"}
    (tmp_path / "noise.png").write_bytes(big_png)
    # An earlier run got as far as part 1, then the connection dropped.
    upload = requests.post(f"{live_server.url}/api/uploads/s3", headers=auth, timeout=30,
                           json={"filename": "noise.png", "length": len(big_png)}).json()
    assert upload["part_count"] == 2
    (part,) = requests.post(f"{live_server.url}/api/uploads/{upload['id']}/parts", headers=auth, timeout=30,
                            json={"part_numbers": [1]}).json()["parts"]
    assert requests.put(part["url"], data=big_png[:part["size"]], timeout=30).status_code == 200

    env = {"ANCLORA_URL": live_server.url, "ANCLORA_API_KEY": key}
    result = _run([sys.executable, readme_example("s3_upload.py", tmp_path), "noise.png", "jpg", "noise.jpg",
                   upload["id"]], env, tmp_path)
    assert result.returncode == 0, (result.stdout, result.stderr)
    lines = result.stdout.split("\n")
    assert lines[0] == f"upload {upload['id']}" and lines[1].endswith(" completed")
    assert (tmp_path / "noise.jpg").read_bytes()[:3] == JPEG
    conversion = Conversion.objects.get(user=user)
    assert conversion.status == Conversion.Status.COMPLETED and conversion.source.size == len(big_png)
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
