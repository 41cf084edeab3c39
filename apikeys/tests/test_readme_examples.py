"""The README's "API keys" and "Idempotency" examples: shown verbatim, and they run against a live server."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.services import tokens_for_user
from apikeys.models import ApiKey
from conversions.models import Conversion

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"

pytestmark = pytest.mark.django_db(transaction=True)


def _run(args, env, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(args, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name,fence", [("api_key_create.sh", "sh"), ("convert_with_key.sh", "sh"),
                                        ("convert_with_key.py", "python")])
def test_the_readme_shows_the_examples_verbatim(name, fence):
    readme = (ROOT / "README.md").read_text()
    assert f"```{fence}\n{(EXAMPLES / name).read_text()}```" in readme


def test_curl_creates_a_key(live_server, make_user, tmp_path):
    user = make_user()
    env = {"ANCLORA_URL": live_server.url, "ANCLORA_ACCESS_TOKEN": tokens_for_user(user)["access_token"]}
    result = _run(["sh", str(EXAMPLES / "api_key_create.sh")], env, tmp_path)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["scopes"] == ["convert", "read"]
    assert ApiKey.objects.get(user=user).prefix == body["key"].split(".")[0]


def test_curl_converts_once_with_an_idempotency_key(live_server, make_user, make_key, sample, tmp_path):
    user = make_user()
    shutil.copy(sample("png"), tmp_path / "report.png")
    env = {"ANCLORA_URL": live_server.url, "ANCLORA_API_KEY": make_key(user, scopes=["convert"])}
    first = _run(["sh", str(EXAMPLES / "convert_with_key.sh")], env, tmp_path)
    again = _run(["sh", str(EXAMPLES / "convert_with_key.sh")], env, tmp_path)
    assert first.returncode == again.returncode == 0, (first.stderr, again.stderr)
    assert json.loads(first.stdout)["conversions"][0]["target_format"] == "jpg"
    assert json.loads(again.stdout) == json.loads(first.stdout)
    assert Conversion.objects.filter(user=user).count() == 1


def test_python_converts_and_downloads(live_server, make_user, make_key, sample, tmp_path):
    user = make_user()
    env = {"ANCLORA_URL": live_server.url, "ANCLORA_API_KEY": make_key(user, scopes=["convert", "read"])}
    out = tmp_path / "photo.jpg"
    result = _run([sys.executable, str(EXAMPLES / "convert_with_key.py"), str(sample("png")), "jpg", str(out)],
                  env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("completed")
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"
    assert Conversion.objects.get(user=user).status == Conversion.Status.COMPLETED
