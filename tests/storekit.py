"""A store's order endpoint for placement tests: a real HTTP server on 127.0.0.1 that records
what it receives and answers as told (a reply, a stall, a dropped connection)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SUCCESS = b'<?xml version="1.0" encoding="UTF-8"?>\n<order><code>SUCCESS</code>' \
          b'<orderId>{id}</orderId></order>'


def success(order_id: str = "1224") -> bytes:
    return SUCCESS.replace(b"{id}", order_id.encode())


def error(code: str, message: str = "Declined") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<order><code>ERROR</code><errorCode>'
            f"{code}</errorCode><errorMsg>{message}</errorMsg></order>").encode()


def verify_later(order_id: str = "1224") -> bytes:
    return (f"<order><code>SUCCESS</code><responseCode>010</responseCode><orderId>{order_id}"
            "</orderId></order>").encode()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Store:
    """What the endpoint does next: ``answer`` (status, body) or ``stall_seconds`` then answer,
    or ``drop`` (close without a reply)."""

    url: str = ""
    answer: tuple[int, bytes] = (200, b"")
    stall_seconds: float = 0.0
    drop: bool = False
    script: list[Callable[[Store], None]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def replies(self, body: bytes, status: int = 200) -> None:
        self.answer, self.stall_seconds, self.drop = (status, body), 0.0, False


@contextlib.contextmanager
def store(answer: bytes | None = None) -> Iterator[Store]:
    """A running endpoint at ``store.url`` (default answer: SUCCESS with orderId 1224)."""
    state = Store(answer=(200, answer if answer is not None else success()))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with state.lock:
                state.received.append(Received(self.path, dict(self.headers), body))
                if state.script:
                    state.script.pop(0)(state)
                stall, drop, (status, reply) = state.stall_seconds, state.drop, state.answer
            if stall:
                time.sleep(stall)
            if drop:
                self.close_connection = True
                return
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/og/orders"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
