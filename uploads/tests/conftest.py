"""uploads tests (the `s3` fixture, moto on loopback as the default storage, is in the root conftest)."""

import io
import os

import pytest
from PIL import Image
from rest_framework.test import APIClient

MB = 1024 * 1024


@pytest.fixture(scope="module")
def big_png():
    """A real PNG a little over 5 MB (noise does not compress): two parts of the minimum size."""
    image = Image.frombytes("RGB", (1400, 1300), os.urandom(1400 * 1300 * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0)
    data = out.getvalue()
    assert 5 * MB < len(data) < 10 * MB
    return data


@pytest.fixture
def user_client(make_user):
    """An API client signed in as a new user."""
    client = APIClient()
    client.force_authenticate(make_user())
    return client
