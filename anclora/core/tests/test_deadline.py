"""anclora.core.deadline: one deadline for a whole outbound exchange, over plain TCP and TLS."""

import http.client
import socket
import ssl
import subprocess
import time

import pytest

from anclora.core import deadline as dl
from anclora.core.tests.trickle import TrickleServer, http_head

DEADLINE = 1.0
MARGIN = 1.5


@pytest.fixture(scope="module")
def tls_contexts(tmp_path_factory):
    """(server context, client context trusting it) for 127.0.0.1, from a throwaway self-signed cert."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def _exchange(port: int, client_tls: ssl.SSLContext | None) -> bytes:
    deadline = dl.Deadline(DEADLINE)
    sock = dl.connect(socket.AF_INET, ("127.0.0.1", port), deadline)
    if client_tls is not None:
        sock = dl.tls_wrap(sock, client_tls, "localhost", deadline)
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()  # status line and headers, line by line
        return response.read()
    finally:
        sock.close()


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
@pytest.mark.parametrize("part", ["head", "body"])
def test_a_trickled_answer_ends_at_the_deadline(tls_contexts, tls, part):
    server_tls, client_tls = tls_contexts if tls else (None, None)
    body = b"x" * 400
    head = http_head(Content_Length=str(len(body)), X_Padding="a" * 400)
    with TrickleServer(head=head, body=body, trickle_head=part == "head", trickle_body=part == "body",
                       tls=server_tls) as server:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            _exchange(server.port, client_tls)
        elapsed = time.monotonic() - started
        assert server.request_seen.is_set() and not server.finished.is_set()
    assert elapsed < DEADLINE + MARGIN, f"{elapsed:.1f}s with a {DEADLINE}s deadline"


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_a_prompt_answer_is_read_whole(tls_contexts, tls):
    server_tls, client_tls = tls_contexts if tls else (None, None)
    with TrickleServer(head=http_head(Content_Length="5"), body=b"hello", tls=server_tls) as server:
        assert _exchange(server.port, client_tls) == b"hello"


def test_a_passed_deadline_refuses_to_start():
    deadline = dl.Deadline(0)
    with pytest.raises(TimeoutError):
        deadline.left()
