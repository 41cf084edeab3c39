"""Outbound connections with a total deadline (connect, TLS handshake, request, headers and body together).

A socket timeout alone bounds each read: a server that trickles one byte of its headers every few
seconds keeps ``http.client`` reading for as long as it likes (headers are read line by line, one
``recv`` at a time, each within the timeout). Here every blocking call on the socket first sets the
socket timeout to the time left until one deadline, and fails with ``TimeoutError`` once it has
passed. CPython bounds a whole TLS read or handshake (and a whole ``sendall``) by the timeout set
before the call, so the deadline holds for https too.

Used by URL imports (uploads/fetch.py) and webhook deliveries (webhooks/transport.py).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time


class Deadline:
    """A point in time (monotonic clock); ``left()`` raises TimeoutError once it has passed."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"deadline of {self.seconds:g} s passed")
        return left


class _Bounded:
    """Every blocking call waits at most until the deadline (set right after the socket is made)."""

    _deadline: Deadline | None = None

    def _arm(self) -> None:
        if self._deadline is not None:
            self.settimeout(self._deadline.left())

    def recv(self, *args, **kwargs):
        self._arm()
        return super().recv(*args, **kwargs)

    def recv_into(self, *args, **kwargs):
        self._arm()
        return super().recv_into(*args, **kwargs)

    def send(self, *args, **kwargs):
        self._arm()
        return super().send(*args, **kwargs)

    def sendall(self, *args, **kwargs):
        self._arm()
        return super().sendall(*args, **kwargs)


class DeadlineSocket(_Bounded, socket.socket):
    pass


class DeadlineSSLSocket(_Bounded, ssl.SSLSocket):
    def read(self, *args, **kwargs):
        self._arm()
        return super().read(*args, **kwargs)

    def write(self, *args, **kwargs):
        self._arm()
        return super().write(*args, **kwargs)

    def do_handshake(self, *args, **kwargs):
        self._arm()
        return super().do_handshake(*args, **kwargs)


def resolve(host: str, port: int, deadline: Deadline) -> list:
    """``socket.getaddrinfo`` (TCP) within the deadline: a resolver that hangs is left behind in its
    daemon thread, the caller gets TimeoutError. Lookup errors are raised as getaddrinfo raises them."""
    outcome: dict = {}

    def lookup():
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=lookup, name="deadline-resolve", daemon=True)
    thread.start()
    thread.join(deadline.left())
    if thread.is_alive():
        raise TimeoutError(f"resolving {host} took longer than the deadline")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["infos"]


def connect(family: int, sockaddr: tuple, deadline: Deadline) -> DeadlineSocket:
    """A TCP connection to exactly ``sockaddr`` (no name lookup), bounded by ``deadline`` from now on."""
    sock = DeadlineSocket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock._deadline = deadline
        sock.settimeout(deadline.left())
        sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


def tls_wrap(sock: DeadlineSocket, context: ssl.SSLContext, server_hostname: str,
             deadline: Deadline) -> DeadlineSSLSocket:
    """TLS over ``sock``; the handshake and every later read and write are bounded by ``deadline``."""
    context.sslsocket_class = DeadlineSSLSocket
    tls = context.wrap_socket(sock, server_hostname=server_hostname, do_handshake_on_connect=False)
    try:
        tls._deadline = deadline
        tls.do_handshake()
    except BaseException:
        tls.close()
        raise
    return tls
