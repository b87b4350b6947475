"""Live servers for the browser tests: the platform, its SFTP drop site and an RQ worker."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app import create_app
from app.integrations.sftp import SftpServer, SftpSettings
from app.services import demo
from app.services.sftp_accounts import DatabaseAuthenticator
from tests.conftest import make_config, reset_schema

ROOT = Path(__file__).resolve().parents[2]
WORKER_START_SECONDS = 30
# The default 5 s is tight on a loaded 2-CPU CI box (htmx swaps behind a worker and a feed run).
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that load the demo catalog (``demo_catalog``) after the others: the feed sync
    test counts the catalog's products as created, so it must run before any of them. The
    console orders test last of all."""
    items.sort(  # stable sort: files keep their order within each group
        key=lambda item: (
            "demo_catalog" in getattr(item, "fixturenames", ()),
            "test_console_orders.py" in item.nodeid,
        )
    )


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
        live.credentials = demo.seed(
            secret=app.config["SECRET_KEY"],
            platform_url=live.url,
            store_url="http://127.0.0.1:5001",
        )
    yield live
    live.stop()


@pytest.fixture(scope="session")
def screenshots(pytestconfig) -> Path:
    """Playwright's output folder (``--output``, default test-results/) plus screenshots/."""
    folder = Path(pytestconfig.getoption("--output")).resolve() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def drop_site(platform) -> Iterator[SftpServer]:
    """The platform's real SFTP drop site on a free port, checking logins against its database."""
    config = platform.app.config
    settings = SftpSettings(
        port=0, root=Path(config["SFTP_ROOT"]), host_key_path=Path(config["SFTP_HOST_KEY"])
    )
    server = SftpServer(settings, DatabaseAuthenticator(platform.app))
    server.start_background()
    yield server
    server.shutdown()


@pytest.fixture(scope="session")
def worker(platform, tmp_path_factory) -> Iterator[subprocess.Popen]:
    """A real ``flask --app wsgi worker`` on the platform's database, Redis and folders."""
    config = platform.app.config
    instance = tmp_path_factory.mktemp("worker-instance")
    env = {
        **os.environ,
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": config["REDIS_URL"],
        "SECRET_KEY": config["SECRET_KEY"],
        "PERENNIAL_INSTANCE": str(instance),
        "PYTHONUNBUFFERED": "1",
        **{key: config[key] for key in ("SFTP_ROOT", "FEEDS_DIR", "SFTP_HOST_KEY")},
    }
    log = (instance / "worker.log").open("wb")
    flask = Path(sys.executable).with_name("flask")
    proc = subprocess.Popen(  # noqa: S603 - our own venv's flask
        [str(flask), "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for_worker(proc, instance / "worker.log")
        yield proc
    finally:
        # The worker's scheduler runs in a child process: stop the whole group we started,
        # warmly first (the worker finishes its job), then whatever is left of it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()


def _wait_for_worker(proc: subprocess.Popen, log: Path) -> None:
    """Return once the worker listens on its queues; fail with its log if it died first."""
    # Its log, not Redis: another test session flushing the test Redis db must not fool us.
    deadline = time.monotonic() + WORKER_START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the RQ worker exited with {proc.returncode}:\n{log.read_text()}")
        if "Listening on" in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    pytest.fail(
        f"the RQ worker was not listening within {WORKER_START_SECONDS}s:\n{log.read_text()}"
    )


@pytest.fixture(scope="session")
def demo_catalog(platform, drop_site, tmp_path_factory) -> str:
    """The demo store's catalog in the platform, by its real path: SFTP upload, then a run."""
    from demo import create_app as create_store
    from demo import platform as store_platform

    creds = platform.credentials
    store = create_store(
        {
            "DEMO_DB": str(tmp_path_factory.mktemp("catalog-store") / "demo.db"),
            "SECRET_KEY": "e2e-secret",
            "MERCHANT_PUBLIC_ID": creds["merchant_public_id"],
            "PLATFORM_URL": platform.url,
            "SFTP_USERNAME": creds["sftp_username"],
            "SFTP_PASSWORD": creds["sftp_password"],
            "SFTP_PORT": drop_site.port,
        }
    )
    with store.app_context():
        store_platform.sync_catalog()
    with platform.app.app_context():
        from app.services import feeds, merchants

        merchant = merchants.get_by_public_id(creds["merchant_public_id"])
        runs = feeds.run_now(merchant.id)
        assert runs and runs[-1].status == "succeeded", [r.error for r in runs]
    return creds["merchant_public_id"]


def allow_origin(platform, origin: str) -> None:
    """Register a storefront origin for the demo merchant (console Settings does the same)."""
    from app.extensions import db
    from app.services import merchants

    with platform.app.app_context():
        merchant = merchants.get_by_public_id(platform.credentials["merchant_public_id"])
        if origin not in merchant.allowed_origins:
            merchant.allowed_origins = [*merchant.allowed_origins, origin]
            db.session.commit()
