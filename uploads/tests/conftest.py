"""uploads tests: a real S3-compatible server on loopback (moto's ThreadedMotoServer) as the default storage."""

import io
import os
import socket

import pytest
from PIL import Image

BUCKET = "anclora-multipart"
MB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(settings, moto_endpoint, monkeypatch):
    import boto3

    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage",
                    "OPTIONS": {"bucket_name": BUCKET, "endpoint_url": moto_endpoint, "access_key": "test",
                                "secret_key": "test", "region_name": "us-east-1", "file_overwrite": False,
                                "default_acl": None}},
    }
    settings.S3_UPLOAD_PART_MB = 5  # S3's (and moto's) minimum for every part but the last
    yield client
    for upload in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        client.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture(scope="module")
def big_png():
    """A real PNG a little over 5 MB (noise does not compress): two parts of the minimum size."""
    image = Image.frombytes("RGB", (1400, 1300), os.urandom(1400 * 1300 * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0)
    data = out.getvalue()
    assert 5 * MB < len(data) < 10 * MB
    return data
