"""The deployment files describe the code as it is (no Docker engine runs here: checked structurally)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_services_and_single_beat():
    services = _compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "nginx"} <= set(services)
    beats = [name for name, svc in services.items() if "beat" in str(svc.get("command", ""))]
    assert beats == ["beat"], "exactly one beat"
    assert "worker" in services["worker"]["command"] and "-Q priority,default" in services["worker"]["command"]
    assert "--beat" not in services["worker"]["command"] and " -B" not in services["worker"]["command"]
    assert "gunicorn anclora.wsgi:application" in services["web"]["command"]
    assert "--workers" in services["web"]["command"]


def test_compose_environment_is_read_by_settings():
    settings_text = (ROOT / "anclora/settings/base.py").read_text() + (
        ROOT / "anclora/settings/production.py").read_text()
    env = _compose()["x-app"]["environment"]
    for name in env:
        if name == "DJANGO_SETTINGS_MODULE":
            continue
        assert re.search(rf'["\']{name}["\']', settings_text), f"{name} is not read by the settings"
    assert env["DJANGO_SETTINGS_MODULE"] == "anclora.settings.production"
    for name in re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M):
        assert re.search(rf'["\']{name}["\']', settings_text), f".env.example names unknown {name}"


def test_nginx_allows_large_uploads_and_long_requests():
    conf = (ROOT / "deploy/nginx.conf").read_text()
    size = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))
    assert size >= 500
    assert int(re.search(r"proxy_read_timeout (\d+)s;", conf).group(1)) >= 300
    assert "X-Forwarded-Proto" in conf


def test_dockerfile_installs_libreoffice_and_the_python_stack():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "libreoffice" in dockerfile and "requirements/prod.txt" in dockerfile
    assert "python:3.11" in dockerfile
