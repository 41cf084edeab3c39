"""The deployment describes the code as it is. No Docker engine runs here, so docker-compose.yml is read
the way `docker compose config` resolves it (YAML, the x-app anchor merged into each service, commands
split into arguments), and the production settings module is loaded for real with the environment
compose gives it (.env.example as the `env_file`) to check the values it ends up with."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _argv(service) -> list[str]:
    command = service.get("command", "")
    return list(command) if isinstance(command, list) else shlex.split(command)


def _env_file() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def test_compose_runs_the_app_image_as_web_one_worker_pool_and_exactly_one_beat(compose):
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "nginx"} <= set(services)
    app = {name for name, svc in services.items() if svc.get("build") == "."}
    assert app == {"web", "worker", "remote-worker", "beat"}, "the app services share the image built here"
    beats = [name for name, svc in services.items() if "beat" in _argv(svc)]
    assert beats == ["beat"], "exactly one beat"

    worker = _argv(services["worker"])
    assert worker[:4] == ["celery", "-A", "anclora", "worker"]
    assert worker[worker.index("-Q") + 1] == "priority,default"  # priority drained first
    assert "-B" not in worker and "--beat" not in worker
    beat = _argv(services["beat"])
    assert beat[:4] == ["celery", "-A", "anclora", "beat"]
    assert beat[beat.index("--scheduler") + 1] == "django_celery_beat.schedulers:DatabaseScheduler"

    web = shlex.split(_argv(services["web"])[-1])  # sh -c "migrate && seed && gunicorn ..."
    gunicorn = web[web.index("gunicorn"):]
    assert gunicorn[1] == "anclora.wsgi:application" and "--workers" in gunicorn
    assert ["python", "manage.py", "migrate", "--noinput"] == web[:4], "migrations before serving"


def test_app_services_wait_for_a_healthy_database_and_keep_their_data_on_volumes(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name
        mounts = [PurePosixPath(v.split(":")[1]) for v in service["volumes"]]
        env = service["environment"]
        for path in ("MEDIA_ROOT", "VAR_DIR"):
            assert any(PurePosixPath(env[path]).is_relative_to(m) for m in mounts), f"{name}: {path} not on a volume"
        assert service["env_file"] == ".env"
    named = set(compose["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith(".") or source in named, f"undeclared volume {source}"


@pytest.fixture(scope="module")
def production(compose, tmp_path_factory) -> dict:
    """The production settings as loaded inside the container: .env.example, then compose's environment
    (paths under /data moved into tmp_path: this machine has no /data)."""
    tmp_path = tmp_path_factory.mktemp("data")
    env = {"PATH": os.environ["PATH"], **_env_file(), **compose["x-app"]["environment"],
           "VAR_DIR": str(tmp_path / "var"), "MEDIA_ROOT": str(tmp_path / "media")}
    probe = (
        "import json, django; django.setup(); from django.conf import settings as s\n"
        "db = s.DATABASES['default']\n"
        "print(json.dumps({'DEBUG': s.DEBUG, 'SECRET_KEY': s.SECRET_KEY, 'ALLOWED_HOSTS': s.ALLOWED_HOSTS,\n"
        " 'CSRF_TRUSTED_ORIGINS': s.CSRF_TRUSTED_ORIGINS, 'db': [db['ENGINE'], db['HOST'], db['NAME'], db['USER']],\n"
        " 'CELERY_BROKER_URL': s.CELERY_BROKER_URL, 'MEDIA_ROOT': str(s.MEDIA_ROOT),\n"
        " 'EMAIL': [s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS], 'STRIPE_WEBHOOK_SECRET': s.STRIPE_WEBHOOK_SECRET,\n"
        " 'SECURE_SSL_REDIRECT': s.SECURE_SSL_REDIRECT, 'SESSION_COOKIE_SECURE': s.SESSION_COOKIE_SECURE,\n"
        " 'CSRF_COOKIE_SECURE': s.CSRF_COOKIE_SECURE, 'SECURE_HSTS_SECONDS': s.SECURE_HSTS_SECONDS,\n"
        " 'SECURE_PROXY_SSL_HEADER': list(s.SECURE_PROXY_SSL_HEADER), 'ADMIN_REQUIRE_2FA': s.ADMIN_REQUIRE_2FA,\n"
        " 'JWT_SIGNING_KEY': s.SIMPLE_JWT['SIGNING_KEY'],\n"
        " 'log_formatter': s.LOGGING['handlers']['console']['formatter']}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "data_dir": str(tmp_path)}


def test_production_settings_take_their_values_from_the_compose_environment(compose, production):
    example, values = _env_file(), production
    assert values["DEBUG"] is False
    assert values["SECRET_KEY"] == example["SECRET_KEY"]
    assert values["JWT_SIGNING_KEY"] == example["JWT_SIGNING_KEY"]
    assert values["ALLOWED_HOSTS"] == [example["ALLOWED_HOSTS"]]
    assert values["CSRF_TRUSTED_ORIGINS"] == [example["CSRF_TRUSTED_ORIGINS"]]
    assert values["db"] == ["django.db.backends.postgresql", "postgres", "anclora", "anclora"]
    assert values["CELERY_BROKER_URL"] == compose["x-app"]["environment"]["REDIS_URL"]
    assert values["MEDIA_ROOT"] == str(Path(values["data_dir"]) / "media")
    assert values["EMAIL"] == ["smtp.example.com", 587, True]
    assert values["STRIPE_WEBHOOK_SECRET"] == example["STRIPE_WEBHOOK_SECRET"]
    assert values["log_formatter"] == "json"


def test_production_settings_are_locked_down_whatever_the_environment_forgets(production):
    values = production
    assert values["SECURE_SSL_REDIRECT"] and values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["ADMIN_REQUIRE_2FA"] is True


def _nginx_directives() -> dict[str, str]:
    text = re.sub(r"#[^\n]*", "", (ROOT / "deploy/nginx.conf").read_text())
    return {name: value.strip() for name, value in re.findall(r"([a-z_]+)\s+([^;{}]+);", text)}


def test_nginx_passes_uploads_as_large_as_the_app_accepts_and_waits_for_conversions():
    directives = _nginx_directives()
    from django.conf import settings

    assert int(directives["client_max_body_size"].rstrip("m")) >= settings.MAX_UPLOAD_MB
    assert int(directives["proxy_read_timeout"].rstrip("s")) >= 300
    assert directives["proxy_request_buffering"] == "off"
    # slow clients: headers within a bound, a body that stops is dropped, connections per address capped
    assert int(directives["client_header_timeout"].rstrip("s")) <= 30
    assert int(directives["client_body_timeout"].rstrip("s")) <= 60
    zone = directives["limit_conn_zone"].split("zone=")[1].split(":")[0]
    assert directives["limit_conn"].split()[0] == zone and directives["limit_conn_status"] == "429"
    headers = re.findall(r"proxy_set_header\s+(\S+)", (ROOT / "deploy/nginx.conf").read_text())
    assert "X-Forwarded-Proto" in headers  # what SECURE_PROXY_SSL_HEADER reads


def test_dockerfile_installs_what_the_engines_run_and_the_production_requirements():
    instructions = []
    for line in (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    assert instructions[0][0] == "FROM" and instructions[0][1].startswith("python:3.11")
    installed = set()
    for keyword, rest in instructions:
        if keyword == "RUN" and "apt-get install" in rest:
            installed |= {word for word in shlex.split(rest.split("apt-get install", 1)[1].split("&&")[0])
                          if not word.startswith("-")}
    assert {"ffmpeg", "python3-uno", "libreoffice-writer-nogui"} <= installed
    assert ("RUN", "pip install -r requirements/prod.txt") in instructions
