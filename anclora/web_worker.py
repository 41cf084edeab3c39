"""gunicorn's threaded worker with deadlines on what a client sends: a slow client cannot hold a thread.

gunicorn's gthread worker waits 5 s for the first byte of a request, then reads the request line,
the headers and the body with blocking reads and no timeout at all (gunicorn 27: ``--timeout`` is the
worker's heartbeat, which the main loop keeps sending while a request thread is stuck). A client that
sends its headers, or its body, one byte a second holds one of the WEB_THREADS threads for as long as
it likes; a few such clients hold them all. Here one watchdog thread per worker process ends them:

- headers: the request line and every header within WEB_HEADER_TIMEOUT seconds of the thread taking
  the connection;
- body (of known length or chunked): after WEB_BODY_GRACE seconds, at least WEB_BODY_MIN_RATE bytes a
  second on average since the headers must have arrived (Kestrel's "minimum request body data rate");
  once the whole body has arrived nothing is cut, whatever the application then does;
- the answer: a client that takes no byte of it for WEB_SEND_TIMEOUT seconds (a download read at a
  trickle) is dropped (the socket's timeout, which bounds each ``sendall`` and ``sendfile`` wait).

Past a deadline the watchdog shuts down the read side of the client's socket: the blocked read returns,
gunicorn drops a request whose headers never came, and the application sees a short body (a tus PATCH
keeps what arrived; a form upload is refused as incomplete). The answer can still be written.
``anclora/gunicorn_conf.py`` makes this the worker class. Imports nothing of Django's.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from dataclasses import dataclass

from gunicorn.http.body import LengthReader
from gunicorn.workers.gthread import ThreadWorker

HEADER_TIMEOUT = float(os.environ.get("WEB_HEADER_TIMEOUT", "20"))
BODY_GRACE = float(os.environ.get("WEB_BODY_GRACE", "10"))
BODY_MIN_RATE = float(os.environ.get("WEB_BODY_MIN_RATE", "1024"))
SEND_TIMEOUT = float(os.environ.get("WEB_SEND_TIMEOUT", "60"))
SCAN_SECONDS = 0.25


def counted(unreader) -> list[int]:
    """The bytes the connection's reader took from the socket so far (its `chunk` wrapped once)."""
    counter = getattr(unreader, "anclora_received", None)
    if counter is None:
        counter = unreader.anclora_received = [0]
        source = unreader.chunk

        def chunk(size_hint=None):
            data = source(size_hint)
            counter[0] += len(data)
            return data

        unreader.chunk = chunk
    return counter


@dataclass
class Watch:
    sock: socket.socket
    started: float
    reader: object = None  # the body's reader once the headers are in; None while they travel
    counter: list[int] | None = None
    base: int = 0

    def overdue(self, now: float) -> bool:
        elapsed = now - self.started
        if self.reader is None:
            return elapsed > HEADER_TIMEOUT
        received = self.counter[0] - self.base
        if isinstance(self.reader, LengthReader):
            if self.reader.length <= 0 or received >= self.reader.length:
                return False  # every byte of the body has arrived
        elif getattr(self.reader, "parser", True) is None:
            return False  # gunicorn's ChunkedReader drops its parser after the last chunk
        return elapsed > BODY_GRACE and received < (elapsed - BODY_GRACE) * BODY_MIN_RATE


class Watchdog:
    """The connections whose request is being read, and the thread that ends the overdue ones."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.watches: dict[int, Watch] = {}

    def start(self) -> None:
        threading.Thread(target=self._run, name="request-deadlines", daemon=True).start()

    def arm(self, key: int, sock: socket.socket) -> None:
        with self.lock:
            self.watches[key] = Watch(sock=sock, started=time.monotonic())

    def headers_in(self, key: int, reader, unreader) -> None:
        counter = counted(unreader)
        with self.lock:
            watch = self.watches.get(key)
            if watch is not None:
                watch.started, watch.reader, watch.counter, watch.base = time.monotonic(), reader, counter, counter[0]

    def disarm(self, key: int) -> None:
        with self.lock:
            self.watches.pop(key, None)

    def overdue(self, now: float) -> list[Watch]:
        with self.lock:
            late = [key for key, watch in self.watches.items() if watch.overdue(now)]
            return [self.watches.pop(key) for key in late]

    def _run(self) -> None:
        while True:
            time.sleep(SCAN_SECONDS)  # a periodic scan, not synchronisation
            for watch in self.overdue(time.monotonic()):
                with contextlib.suppress(OSError):
                    watch.sock.shutdown(socket.SHUT_RD)


class DeadlineThreadWorker(ThreadWorker):
    """gthread with the watchdog: see the module's docstring."""

    def init_process(self):
        self.watchdog = Watchdog()
        self.watchdog.start()
        super().init_process()

    def handle(self, conn):
        self.watchdog.arm(id(conn), conn.sock)
        try:
            return super().handle(conn)
        finally:
            self.watchdog.disarm(id(conn))

    def handle_request(self, req, conn):
        reader = getattr(getattr(req, "body", None), "reader", None)
        unreader = getattr(getattr(conn, "parser", None), "unreader", None)
        if reader is None or unreader is None:
            self.watchdog.disarm(id(conn))
        else:
            self.watchdog.headers_in(id(conn), reader, unreader)
        # A reader of the answer: each send (sendall, sendfile) fails once the client has taken no byte
        # for SEND_TIMEOUT; gthread makes the socket blocking again before the next request.
        conn.sock.settimeout(SEND_TIMEOUT)
        return super().handle_request(req, conn)
