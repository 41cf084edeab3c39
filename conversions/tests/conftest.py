import itertools

import pytest

from accounts import services as account_services

PASSWORD = "Secreta123!"
_n = itertools.count()


@pytest.fixture
def make_user(db):
    def make(verified=True, **extra):
        from accounts.tests.factories import verified as verified_user

        user = account_services.user_create(email=f"conv{next(_n)}@example.com", password=PASSWORD,
                                            **extra)
        return verified_user(user) if verified else user

    return make


def upload(client, paths, target, *, names=None, quality=None, **extra):
    files = []
    names = names or [p.name for p in paths]
    handles = [open(p, "rb") for p in paths]
    try:
        from django.core.files.uploadedfile import SimpleUploadedFile

        for handle, name in zip(handles, names, strict=True):
            files.append(SimpleUploadedFile(name, handle.read()))
        data = {"file": files, "target_format": target, **extra}
        if quality:
            data["quality"] = quality
        return client.post("/api/conversion/convert", data, format="multipart")
    finally:
        for handle in handles:
            handle.close()


@pytest.fixture
def no_worker(monkeypatch):
    """Jobs stay pending: nothing is enqueued."""
    from conversions import services

    queued = []
    monkeypatch.setattr(services, "conversion_enqueue", lambda conversion: queued.append(conversion.pk))
    return queued


@pytest.fixture
def registry_override():
    """Replace the default engine registry for one test.

    ``registry_override(missing=["libreoffice"])`` rebuilds the configured engines with those
    reported as not installed; ``registry_override(engines=[...])`` uses the given engine instances.
    Returns the registry in use; the previous one comes back after the test.
    """
    import contextlib

    from conversions.engines import registry as registry_module

    with contextlib.ExitStack() as stack:
        def override(*, missing=(), engines=None):
            if engines is None:
                engines = [type(e)(available=False) if e.name in missing else e
                           for e in registry_module.default_engines()]
            return stack.enter_context(registry_module.use(registry_module.Registry(engines)))

        yield override
