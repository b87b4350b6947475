"""Live servers for the browser tests: the platform (and later the demo store) on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.services import demo
from tests.conftest import make_config, reset_schema

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    app: object
    server: object

    def stop(self) -> None:
        self.server.shutdown()


def serve(app) -> LiveServer:
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return LiveServer(f"http://127.0.0.1:{port}", app, server)


@pytest.fixture(scope="session")
def platform(tmp_path_factory) -> Iterator[LiveServer]:
    """The platform on a fresh migrated SQLite file, with the demo merchant seeded."""
    db_file = tmp_path_factory.mktemp("e2e") / "platform.db"
    app = create_app(make_config(f"sqlite:///{db_file}"))
    reset_schema(app)
    live = serve(app)
    with app.app_context():
        app.extensions["rq"]["redis"].flushdb()
        live.credentials = demo.seed(secret=app.config["SECRET_KEY"], platform_url=live.url,
                                     store_url="http://127.0.0.1:5001")
    yield live
    live.stop()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
