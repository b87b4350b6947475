"""The demo store's purchase POST against a live platform: sent at checkout, the store's order
never blocked by the platform, retried on the §5.4 schedule, and 409 counted as delivered."""

from __future__ import annotations

import re
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Subscription
from app.services import offer_views, opt_ins
from demo import create_app as create_store
from demo import purchase_post
from demo.db import get_db
from tests.factories import make_api_key, make_merchant, make_product

PRODUCT = "FF2040101"  # a demo catalog product, eligible


@pytest.fixture
def live(app):
    """The platform on a real port, as the store's server reaches it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def merchant(app):
    merchant = make_merchant()
    make_product(merchant, PRODUCT, name="Café Crème Coffee Beans, 12 oz", price_minor=1650)
    return merchant


@pytest.fixture
def store(merchant, live, tmp_path):
    return create_store(
        {
            "DEMO_DB": str(tmp_path / "demo.db"),
            "SECRET_KEY": "unit-test",
            "MERCHANT_PUBLIC_ID": merchant.public_id,
            "PLATFORM_URL": live,
            "PLATFORM_API_KEY": make_api_key(merchant),
            "MERCHANT_HASH_KEY": merchant.hash_key,
        }
    )


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens once closed


def token(client, path: str) -> str:
    return re.search(
        r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)
    ).group(1)


def checkout(store, session_id: str | None) -> str:
    client = store.test_client()
    if session_id:
        client.set_cookie("og_session_id", session_id)
    client.post(
        "/login",
        data={
            "email": "maya.okafor@example.com",
            "password": "demo1234",
            "csrf_token": token(client, "/login"),
        },
    )
    client.post(
        "/cart/add",
        data={
            "product_id": PRODUCT,
            "quantity": "1",
            "csrf_token": token(client, f"/products/{PRODUCT}"),
        },
    )
    response = client.post(
        "/checkout",
        data={
            "csrf_token": token(client, "/checkout"),
            "first_name": "Maya",
            "last_name": "Okafor",
            "address": "75 Broad Street",
            "city": "New York",
            "state_province_code": "NY",
            "zip_postal_code": "10004",
            "payment_token": "tok_visa_4242",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    order_number = re.search(r"/orders/(FF\d+)", response.headers["Location"]).group(1)
    page = client.get(f"/orders/{order_number}?placed=1").get_data(as_text=True)
    store.config["last_page"] = page
    return order_number


def post_row(store, order_number):
    with store.app_context():
        return dict(purchase_post.for_order(order_number))


def test_checkout_creates_the_subscription_and_the_page_lists_it(app, merchant, store):
    session_id = f"{merchant.public_id}.99.1596647632"
    opt_ins.choose(
        merchant, session_id, offer_views.Slot("o0", PRODUCT), subscribed=True, frequency="4_2"
    )
    order_number = checkout(store, session_id)
    row = post_row(store, order_number)
    assert (row["status"], row["http_status"], row["attempts"]) == ("sent", 200, 1)
    sub = db.session.scalar(select(Subscription))
    assert sub.merchant_order_id == order_number and (sub.every, sub.every_period) == (4, 2)
    assert sub.customer.merchant_user_id == "DC69410241"
    assert sub.payment.expiry_year == 2099  # the AES expiry made it through
    assert "delivered every 4 weeks" in store.config["last_page"]


def test_platform_down_the_order_completes_and_is_retried(app, merchant, store, live):
    store.config["PLATFORM_URL"] = closed_port()
    order_number = checkout(store, None)  # no opt-ins: a non-subscription checkout
    row = post_row(store, order_number)
    assert (row["status"], row["attempts"], row["http_status"]) == ("pending", 1, None)
    due = datetime.fromisoformat(row["next_attempt_at"])
    assert timedelta(seconds=50) < due - datetime.now(UTC) <= timedelta(minutes=1)
    with store.app_context():
        assert purchase_post.retry_due() == 0  # not due yet
        get_db().execute("UPDATE purchase_post SET next_attempt_at = '2000-01-01T00:00:00'")
        get_db().commit()
        store.config["PLATFORM_URL"] = live
        assert purchase_post.retry_due() == 1
    row = post_row(store, order_number)
    assert (row["status"], row["attempts"], row["http_status"]) == ("sent", 2, 200)
    assert row["subs_req_id"]


def test_retries_follow_the_schedule_then_give_up(app, merchant, store):
    store.config["PLATFORM_URL"] = closed_port()
    order_number = checkout(store, None)
    gaps = []
    with store.app_context():
        for _ in range(4):
            row = purchase_post.for_order(order_number)
            if row["next_attempt_at"]:
                gaps.append(datetime.fromisoformat(row["next_attempt_at"]) - datetime.now(UTC))
            get_db().execute("UPDATE purchase_post SET next_attempt_at = '2000-01-01T00:00:00'")
            get_db().commit()
            purchase_post.retry_due()
        row = purchase_post.for_order(order_number)
    assert (row["status"], row["attempts"]) == ("abandoned", 5)
    assert [round(g.total_seconds() / 60) for g in gaps] == [1, 3, 6, 24 * 60]


def test_a_resend_that_already_arrived_counts_as_sent(app, merchant, store):
    order_number = checkout(store, None)
    with store.app_context():
        get_db().execute(
            "UPDATE purchase_post SET status = 'pending', subs_req_id = NULL,"
            " next_attempt_at = '2000-01-01T00:00:00'"
        )
        get_db().commit()
        purchase_post.retry_due()
    row = post_row(store, order_number)
    assert (row["status"], row["http_status"]) == ("sent", 409)
    assert row["subs_req_id"]  # taken from the 409 body


def test_a_refusal_is_not_retried(app, merchant, store):
    store.config["PLATFORM_API_KEY"] = "pk_wrong"
    order_number = checkout(store, None)
    row = post_row(store, order_number)
    assert (row["status"], row["http_status"], row["next_attempt_at"]) == ("failed", 403, None)
