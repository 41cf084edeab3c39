import itertools
from pathlib import Path

import pytest

from accounts.models import AnonymousSession
from accounts.owners import Owner
from storage import services

_n = itertools.count()


@pytest.fixture
def store(tmp_path):
    """store(owner, content=b"...") -> a StoredFile saved through the storage API."""
    def make(owner: Owner, content: bytes = b"hola", name: str = "nota.txt", kind: str = "original", **extra):
        path = Path(tmp_path) / f"src-{next(_n)}"
        path.write_bytes(content)
        return services.stored_file_create(owner=owner, path=path, kind=kind, original_filename=name,
                                           file_format="txt", content_type="text/plain", **extra)

    return make


@pytest.fixture
def anon_owner(db):
    return Owner(session=AnonymousSession.objects.create())
