"""A real webhook receiver for the tests: an HTTP server on a free port that records each POST
(headers and raw body) and answers as told (up, or down with 503)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Receiver:
    url: str = ""
    up: bool = True
    received: list[tuple[dict, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> list[int]:
        import json

        with self.lock:
            return [json.loads(body)["id"] for _, body in self.received]


@contextlib.contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    @Request.application
    def app(request: Request) -> Response:
        with state.lock:
            state.received.append((dict(request.headers), request.get_data()))
        return Response("ok", status=200 if state.up else 503)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    state.url = f"http://127.0.0.1:{server.server_port}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
