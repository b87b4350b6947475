"""The web process's memory stays flat while strangers ask for merchants that do not exist.

A real gunicorn (gunicorn.conf.py, one sync worker) serves the test database. After a warm-up,
1,000 requests for distinct unknown merchant ids on the three storefront paths that name a
merchant (mostly ids near gunicorn's 4 KB request-line limit, the rest well-formed 32-hex ids)
may grow the worker's resident set by less than 2 MB. This is a memory bound, not a timing.
"""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import make_merchant, make_product

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
UNKNOWN = 1_000
WARM_UP = 300
MAX_GROWTH_KB = 2 * 1024
LONG_ID = 4_000  # gunicorn refuses a request line over 4,094 bytes (limit_request_line)
OFFER_QUERY = "?k=o0&p=P1&l=pdp&d=&t="


@pytest.fixture
def web(app, database_url, tmp_path) -> Iterator[tuple[int, int, str]]:
    """gunicorn on the test database with one merchant; yields (port, worker pid, merchant)."""
    merchant = make_merchant()
    make_product(merchant, "P1")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": app.config["REDIS_URL"],
        "SECRET_KEY": "memory-test",
        "PERENNIAL_INSTANCE": str(tmp_path / "instance"),
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - our venv's gunicorn
            [str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(port, server, log)
        yield port, _worker_of(server.pid), merchant.public_id
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_unknown_merchant_ids_leave_the_worker_flat(web):
    port, worker, merchant = web
    for n in range(WARM_UP):  # every code path runs often: first-use allocations are done
        for path, status in (*_known(merchant), _unknown(n)):
            assert _get(port, path) == status, path[:80]
    before = _rss_kb(worker)
    for n in range(WARM_UP, WARM_UP + UNKNOWN):
        path, status = _unknown(n)
        assert _get(port, path) == status, path[:80]
    growth = _rss_kb(worker) - before
    assert growth < MAX_GROWTH_KB, f"RSS grew by {growth} kB over {UNKNOWN} unknown ids"


def _known(merchant: str) -> list[tuple[str, int]]:
    return [
        (f"/{merchant}/main.js", 200),
        (f"/{merchant}/offers/{OFFER_QUERY}", 200),
        (f"/carts/{merchant}.1.1/", 200),
    ]


def _unknown(n: int) -> tuple[str, int]:
    """The n-th hostile request: four in five a long id on the loader or the offers path (a
    long id never names a cart: the session id's shape is checked first), the fifth a
    well-formed id on each of the three paths in turn."""
    if n % 5:
        merchant, path = secrets.token_hex(LONG_ID // 2), n % 2
    else:
        merchant, path = uuid.uuid4().hex, n // 5 % 3
    return [
        (f"/{merchant}/main.js", 200),  # an empty script: a page's tag must not break
        (f"/{merchant}/offers/{OFFER_QUERY}", 404),
        (f"/carts/{merchant}.1.1/", 404),
    ][path]


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def _worker_of(arbiter: int) -> int:
    """The one worker gunicorn forked (its arbiter only supervises)."""
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue  # exited meanwhile
        if f"\nPPid:\t{arbiter}\n" in status:
            return int(entry.name)
    raise AssertionError(f"gunicorn {arbiter} has no worker")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            if _get(port, "/healthz") == 200:
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer /healthz: {log.read_text()[-2000:]}")
