"""A store's order endpoint for placement tests: a real HTTP server on 127.0.0.1 that records
what it receives and answers as told (a reply, a stall, a dropped connection, a hold until the
test releases it).

``store()`` is a non-deduplicating receiver, like the official ones: every POST it answers
SUCCESS is a store order (``created``), whatever its ``orderPublicId``. ``demo_store()`` serves
the demo store's real ``/og/orders`` (which deduplicates on ``orderPublicId``) behind the same
controls, its orders counted in its own database.
"""

from __future__ import annotations

import contextlib
import io
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lxml import etree

SUCCESS = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<order><code>SUCCESS</code>'
    b"<orderId>{id}</orderId></order>"
)


def success(order_id: str = "1224") -> bytes:
    return SUCCESS.replace(b"{id}", order_id.encode())


def error(code: str, message: str = "Declined") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<order><code>ERROR</code><errorCode>'
        f"{code}</errorCode><errorMsg>{message}</errorMsg></order>"
    ).encode()


def verify_later(order_id: str = "1224") -> bytes:
    return (
        f"<order><code>SUCCESS</code><responseCode>010</responseCode><orderId>{order_id}"
        "</orderId></order>"
    ).encode()


HOLD_LIMIT = 120.0  # seconds a held request waits for ``release`` at most


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def order_public_id(self) -> str | None:
        return etree.fromstring(self.body).findtext("head/orderPublicId")

    @property
    def subscriptions(self) -> list[str]:
        """The public ids of the subscriptions in the order (``items/item/subscription``)."""
        return etree.fromstring(self.body).xpath("items/item/subscription/publicId/text()")


@dataclass
class Gate:
    """Holds the next ``hold`` requests (after the store has acted on them) until ``release``."""

    hold: int = 0
    released: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    count: int = 0

    def arrive(self) -> bool:
        """Count one request; whether it must wait."""
        with self.arrived:
            self.count += 1
            self.arrived.notify_all()
            held = self.hold > 0
            self.hold -= held
            return held

    def wait_for(self, n: int, timeout: float = 30.0) -> None:
        """Wait until ``n`` requests have arrived (AssertionError after ``timeout``)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: self.count >= n, timeout):
                raise AssertionError(f"{self.count} requests arrived, expected {n}")

    def release(self) -> None:
        self.released.set()

    def pause(self, held: bool) -> None:
        if held:
            self.released.wait(HOLD_LIMIT)


@dataclass
class Store:
    """What the endpoint does next: ``answer`` (status, body) or ``stall_seconds`` then answer
    (``stall_after``: one stall for each coming POST, then ``stall_seconds`` again), or ``drop``
    (close without a reply); ``gate.hold`` requests wait for ``gate.release()``. With
    ``numbered`` each order it creates gets its own orderId (S1, S2, ...)."""

    url: str = ""
    answer: tuple[int, bytes] = (200, b"")
    stall_seconds: float = 0.0
    stall_after: list[float] = field(default_factory=list)
    drop: bool = False
    numbered: bool = False
    script: list[Callable[[Store], None]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    created: list[Received] = field(default_factory=list)  # the POSTs that made a store order
    gate: Gate = field(default_factory=Gate)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def replies(self, body: bytes, status: int = 200) -> None:
        self.answer, self.stall_seconds, self.drop = (status, body), 0.0, False

    def __repr__(self) -> str:
        return f"<Store {self.url}: {len(self.received)} POSTs, {len(self.created)} orders>"

    def _act(self, received: Received) -> tuple[float, bool, int, bytes]:
        """Record one POST and decide the answer (under ``lock``)."""
        self.received.append(received)
        if self.script:
            self.script.pop(0)(self)
        (status, reply), drop = self.answer, self.drop
        if b"<code>SUCCESS</code>" in reply and not drop:
            self.created.append(received)  # a non-deduplicating store: every one is an order
            if self.numbered:
                reply = success(f"S{len(self.created)}")
        stall = self.stall_after.pop(0) if self.stall_after else self.stall_seconds
        return stall, drop, status, reply


@contextlib.contextmanager
def store(answer: bytes | None = None) -> Iterator[Store]:
    """A running endpoint at ``store.url`` (default answer: SUCCESS with orderId 1224)."""
    state = Store(answer=(200, answer if answer is not None else success()))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with state.lock:
                stall, drop, status, reply = state._act(
                    Received(self.path, dict(self.headers), body)
                )
            state.gate.pause(state.gate.arrive())
            if stall:
                time.sleep(stall)
            if drop:
                self.close_connection = True
                return
            with contextlib.suppress(OSError):  # the client may be gone (killed, timed out)
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
        state.gate.release()
        server.shutdown()
        server.server_close()


# -- the demo store's real endpoint ------------------------------------------------------------


@dataclass
class DemoStore:
    """The demo store's ``/og/orders`` on a real server: it deduplicates on ``orderPublicId``.
    ``received`` is every POST; ``stall_after`` seconds pass after the store has answered (and
    created the order) before the reply goes out; ``gate.hold`` requests wait, likewise."""

    url: str
    db_path: str
    received: list[Received] = field(default_factory=list)
    stall_after: list[float] = field(default_factory=list)  # one per coming POST, then none
    gate: Gate = field(default_factory=Gate)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __repr__(self) -> str:
        return f"<DemoStore {self.url}: {len(self.received)} POSTs>"

    def orders(self) -> dict[str, str]:
        """The store's recurring orders: orderPublicId -> its order number (one row each)."""
        return dict(
            self._query(
                "SELECT order_public_id, o.order_number FROM recurring_order r"
                " JOIN store_order o ON o.id = r.order_id"
            )
        )

    def deliveries(self) -> list[str]:
        """What the store made of each POST, oldest first (accepted, repeat, declined, ...)."""
        return [row[0] for row in self._query("SELECT outcome FROM recurring_delivery ORDER BY id")]

    def add_customers(self, user_ids: list[str]) -> None:
        """Customers the store knows (the order endpoint refuses anyone else's order)."""
        conn = sqlite3.connect(self.db_path, timeout=10)
        try:
            with conn:
                conn.executemany(
                    "INSERT OR IGNORE INTO customer (user_id, email, password_hash, first_name,"
                    " last_name, address, city, state_province_code, zip_postal_code)"
                    " VALUES (?, ?, '-', 'Test', 'Buyer', '1 Main St', 'Albany', 'NY', '12207')",
                    [(u, f"{u.lower()}@example.com") for u in user_ids],
                )
        finally:
            conn.close()

    def _query(self, sql: str) -> list[tuple]:
        conn = sqlite3.connect(self.db_path, timeout=10)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()


@contextlib.contextmanager
def demo_store(folder: Path, merchant_public_id: str, hash_key: str) -> Iterator[DemoStore]:
    """The demo store on a fresh database in ``folder``, placing for this merchant."""
    from werkzeug.serving import make_server

    from demo import create_app as create_store

    path = str(folder / "demo-store.db")
    app = create_store(
        {
            "DEMO_DB": path,
            "SECRET_KEY": "fault-tests",
            "MERCHANT_PUBLIC_ID": merchant_public_id,
            "MERCHANT_HASH_KEY": hash_key,
        }
    )
    state = DemoStore(url="", db_path=path)

    def endpoint(environ, start_response):
        if environ["REQUEST_METHOD"] != "POST":
            return app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {
            k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        with state.lock:
            state.received.append(Received(environ["PATH_INFO"], headers, body))
            stall = state.stall_after.pop(0) if state.stall_after else 0.0
        answered: list = []
        chunks = b"".join(
            app(environ, lambda status, hdrs, exc=None: answered.append((status, hdrs)))
        )  # the store has placed (or refused) the order by now
        state.gate.pause(state.gate.arrive())
        time.sleep(stall)
        start_response(*answered[0])
        return [chunks]

    server = make_server("127.0.0.1", 0, endpoint, threaded=True)
    state.url = f"http://127.0.0.1:{server.server_port}/og/orders"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.gate.release()
        server.shutdown()
        server.server_close()
