"""A real HTTP server (raw sockets, a thread per connection) that answers slowly on purpose.

It reads the request head (and the body its Content-Length announces), then sends ``head`` and
``body``: each at once, or one byte every ``interval`` seconds (``trickle_head`` / ``trickle_body``),
after ``release`` is set when one is given (a receiver that holds the connection).
A peer that hangs up ends the trickle. The pacing is the behaviour under test (a slow server), not a
synchronisation: tests wait for events (``request_seen``) and measure against a configured deadline.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading


class TrickleServer:
    def __init__(self, *, head: bytes, body: bytes = b"", trickle_head: bool = False, trickle_body: bool = False,
                 interval: float = 0.05, tls: ssl.SSLContext | None = None,
                 release: threading.Event | None = None):
        self.head, self.body = head, body
        self.release = release  # when given, every answer waits until it is set (a receiver that hangs)
        self.trickle_head, self.trickle_body, self.interval = trickle_head, trickle_body, interval
        self.tls = tls
        self.request_seen = threading.Event()  # a complete request head arrived
        self.finished = threading.Event()  # the whole answer was sent (a client that gave up never sees it)
        self.hung_up = threading.Event()  # the client closed the connection while we were still sending
        self.sent = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]

    def url(self, path: str = "/file.bin", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> TrickleServer:
        thread = threading.Thread(target=self._accept, daemon=True, name="trickle-accept")
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (close alone does not)
        with contextlib.suppress(OSError):
            self._listener.close()
        for conn in list(self._conns):
            with contextlib.suppress(OSError):
                conn.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True, name="trickle-conn")
            thread.start()
            self._threads.append(thread)

    def _read_request(self, conn) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return
            rest += chunk
        self.request_seen.set()

    def _send(self, conn, data: bytes, trickle: bool) -> bool:
        if not trickle:
            conn.sendall(data)
            self.sent += len(data)
            return True
        for i in range(len(data)):
            if self._stop.wait(self.interval):
                return False
            conn.sendall(data[i:i + 1])
            self.sent += 1
        return True

    def _serve(self, conn) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            self._read_request(conn)
            if self.release is not None:
                while not self.release.wait(0.05):
                    if self._stop.is_set():
                        return
            if self._send(conn, self.head, self.trickle_head) and self._send(conn, self.body, self.trickle_body):
                self.finished.set()
        except OSError:  # the client gave up (reset, broken pipe) or the server is stopping
            if not self._stop.is_set():
                self.hung_up.set()
        finally:
            with contextlib.suppress(OSError):
                conn.close()


def http_head(status: str = "200 OK", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
             "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
