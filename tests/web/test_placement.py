"""Recurring order placement against a real HTTP endpoint: T6 (what is sent), T7 (every reply),
retries and dunning, the merchant-local placement hour, and claims that make it once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from lxml import etree
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Event,
    Order,
    OrderItem,
    OrderStatus,
    OutboundEmail,
    PlacementAttempt,
    PlacementRun,
    Subscription,
)
from app.services import next_orders, placement, placement_send
from tests import storekit
from tests.placementkit import EXP_12_2099, T1_KEY, make_due_order, make_placing_merchant

# 12:00 UTC on 15 March 2030 is 08:00 in New York (EDT): past the 06:00 placement hour.
NOW = datetime(2030, 3, 15, 12, 0, tzinfo=UTC)
TODAY = date(2030, 3, 15)


@pytest.fixture
def store(app):
    with storekit.store() as endpoint:
        yield endpoint


@pytest.fixture
def merchant(store):
    return make_placing_merchant(store.url)


def place_now(merchant, *, now=NOW, as_of=None):
    return placement.run_now(merchant.id, as_of=as_of, now=now)


def status_of(order) -> int:
    db.session.expire_all()
    return db.session.get(Order, order.id).status


def upcoming(order) -> list[Order]:
    return list(
        db.session.scalars(
            select(Order).where(Order.customer_id == order.customer_id, Order.id != order.id)
        )
    )


def test_t6_the_order_xml_and_its_signature(store, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    report = place_now(merchant)
    assert report.outcomes == {"success": 1}
    [sent] = store.received
    assert sent.headers["Content-Type"] == "application/xml"  # exactly, no charset
    header = json.loads(sent.headers["Authorization"])
    assert isinstance(header["ts"], int) and header["public_id"] == merchant.public_id
    user = order.customer.merchant_user_id
    expected = base64.b64encode(
        hmac.new(T1_KEY.encode(), f"{user}|{header['ts']}".encode(), hashlib.sha256).digest()
    ).decode()
    assert header["sig_field"] == user and header["sig"] == expected  # the T1 procedure
    doc = etree.fromstring(sent.body)
    text = {el.tag: el.text for el in doc.iter()}
    assert (text["qty"], text["price"], text["unitary_discount"]) == ("2", "12.99", "1.30")
    assert (text["discount"], text["finalPrice"]) == ("2.60", "23.38")
    assert (text["orderSubtotalValue"], text["orderDiscount"]) == ("23.38", "2.60")
    assert text["customerPartnerId"] == user and text["orderTokenId"] == "7654321"
    assert text["orderCcExpire"] == EXP_12_2099 and text["orderCcType"] == "Visa"
    assert text["orderPublicId"] == order.public_id
    assert b"<![CDATA[Dog Food]]>" in sent.body and b"<orderCcNumber/>" in sent.body


def test_t7_success_places_the_order_and_makes_the_next_one(store, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    place_now(merchant)
    db.session.expire_all()
    placed = db.session.get(Order, order.id)
    assert placed.status == OrderStatus.SUCCESS and placed.order_merchant_id == "1224"
    [following] = upcoming(order)
    assert following.place_date == TODAY + timedelta(weeks=4)
    assert following.status == OrderStatus.UNSENT and following.items[0].cycle == 3
    sub = db.session.get(Subscription, order.items[0].subscription_id)
    assert sub.iteration == 2
    types = set(db.session.scalars(select(Event.type)))
    assert {"order.success", "order.create"} <= types
    attempt = db.session.scalar(select(PlacementAttempt))
    assert attempt.outcome == "success" and attempt.store_order_id == "1224"
    assert "7654321" not in attempt.request_xml and "••••" in attempt.request_xml


def test_a_settled_order_not_yet_followed_up_gets_its_next_order_at_the_next_run(store, merchant):
    """A worker that stops between settling an order and following up its group leaves the
    order marked: the next run counts the subscription and makes its next order, once, and
    two orders settled together that ship together next time join one order."""
    order = make_due_order(merchant, TODAY, now=NOW)
    first_sub = db.session.get(Subscription, order.items[0].subscription_id)
    sub = Subscription(
        **{
            c: getattr(first_sub, c)
            for c in ("merchant_id", "customer_id", "product_id", "quantity", "every")
            + ("every_period", "shipping_address_id", "payment_id", "start_date", "iteration")
        },
        currency=first_sub.currency,
    )
    db.session.add(sub)
    db.session.flush()
    second = Order(
        **{
            c: getattr(order, c)
            for c in ("merchant_id", "customer_id", "place_date", "shipping_address_id")
            + ("payment_id", "currency")
        },
    )
    second.items.append(OrderItem(subscription_id=sub.id, product_id=sub.product_id, cycle=2))
    db.session.add(second)
    for settled in (order, second):
        settled.status, settled.next_order_pending = OrderStatus.SUCCESS, True
    db.session.commit()

    assert place_now(merchant).due == 0
    place_now(merchant)  # nothing left marked: nothing made twice
    db.session.expire_all()
    following = [o for o in upcoming(order) if o.id != second.id]
    assert len(following) == 1 and following[0].place_date == TODAY + timedelta(weeks=4)
    assert sorted(i.cycle for i in following[0].items) == [3, 3]
    for settled in (order, second):
        assert db.session.get(Order, settled.id).next_order_pending is False
        sub = db.session.get(Subscription, settled.items[0].subscription_id)
        assert sub.iteration == 2


def test_a_next_order_made_meanwhile_elsewhere_is_not_made_twice(store, merchant, monkeypatch):
    """The follow-up makes a group's next orders in one savepoint, after one query for those
    made already. Should another transaction make one after that query, the key on
    (subscription, cycle) refuses the write and they are made one at a time, a savepoint
    each: here the query is made to miss the rival order, as it would if the rival came a
    moment later."""
    order = make_due_order(merchant, TODAY, now=NOW)
    item = order.items[0]
    rival = Order(
        merchant_id=order.merchant_id,
        customer_id=order.customer_id,
        place_date=TODAY + timedelta(days=3),
        status=OrderStatus.UNSENT,
        currency=order.currency,
    )
    rival.items.append(
        OrderItem(subscription_id=item.subscription_id, product_id=item.product_id, cycle=3)
    )
    db.session.add(rival)
    db.session.commit()
    looked = []
    monkeypatch.setattr(next_orders, "_next_cycles_made", lambda _: looked.append(1) or set())

    report = place_now(merchant)
    assert looked == [1, 1]  # the group at once, then one at a time
    assert report.outcomes == {"success": 1} and len(store.received) == 1
    assert status_of(order) == OrderStatus.SUCCESS
    cycle_3 = db.session.scalars(
        select(OrderItem.order_id).where(
            OrderItem.subscription_id == item.subscription_id, OrderItem.cycle == 3
        )
    ).all()
    assert cycle_3 == [rival.id]
    assert db.session.get(Subscription, item.subscription_id).iteration == 2


def test_a_batch_job_that_fails_leaves_its_run_interrupted_not_running(
    store, merchant, runner, monkeypatch
):
    for _ in range(2):
        make_due_order(merchant, TODAY, now=NOW)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in placing")

    monkeypatch.setattr(placement_send, "place_all", broken)  # the work-horse is a fork
    run = placement.start(merchant.id, trigger="cron", as_of=TODAY, now=NOW)
    runner.invoke(args=["worker", "--burst"])
    db.session.expire_all()
    run = db.session.get(PlacementRun, run.id)
    assert (run.status, run.processed, run.due) == ("interrupted", 2, 2)
    assert store.received == []


def test_placing_again_sends_nothing_twice(store, merchant):
    make_due_order(merchant, TODAY, now=NOW)
    place_now(merchant)
    place_now(merchant)
    assert len(store.received) == 1


def test_card_declined_is_retried_twice_three_days_apart_then_rejected(store, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    store.replies(storekit.error("140", "Your card was declined."))
    place_now(merchant)
    assert status_of(order) == OrderStatus.CREDIT_CARD_RETRY
    retry_at = db.session.get(Order, order.id).next_attempt_at
    assert retry_at == NOW + timedelta(days=3)
    place_now(merchant, now=NOW + timedelta(days=1))  # not yet
    assert len(store.received) == 1
    place_now(merchant, now=NOW + timedelta(days=3))
    assert status_of(order) == OrderStatus.CREDIT_CARD_RETRY
    place_now(merchant, now=NOW + timedelta(days=6))
    assert status_of(order) == OrderStatus.REJECTED and len(store.received) == 3
    templates = list(db.session.scalars(select(OutboundEmail.template)))
    assert templates == ["order.payment_retry", "order.payment_retry", "order.rejected_payment"]
    rejected = db.session.get(Order, order.id)
    assert rejected.rejected_message == "Your card was declined."
    assert len(upcoming(order)) == 1  # the subscription stays live and gets its next order


@pytest.mark.parametrize(
    "code, template",
    [
        ("160", "order.rejected_payment"),
        ("100", "order.rejected_card_type"),
        ("110", "order.rejected_card_number"),
        ("120", "order.rejected_card_expiry"),
        ("130", "order.rejected_billing_address"),
        ("150", "order.rejected_paypal"),
        ("170", "order.rejected_no_card"),
        ("180", "order.rejected_authentication"),
    ],
)
def test_final_declines_reject_at_once_with_their_email(store, merchant, code, template):
    order = make_due_order(merchant, TODAY, now=NOW)
    store.replies(storekit.error(code))
    place_now(merchant)
    assert status_of(order) == OrderStatus.REJECTED
    assert list(db.session.scalars(select(OutboundEmail.template))) == [template]
    place_now(merchant, now=NOW + timedelta(days=4))
    assert len(store.received) == 1


def test_999_is_retried_at_the_next_three_runs_then_rejected(store, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    store.replies(storekit.error("999", "Temporary stock issue"))
    for hour in range(3):
        place_now(merchant, now=NOW + timedelta(hours=hour))
        assert status_of(order) == OrderStatus.GENERIC_ERROR
    place_now(merchant, now=NOW + timedelta(hours=3))
    assert status_of(order) == OrderStatus.REJECTED and len(store.received) == 4


@pytest.mark.parametrize(
    "body, status",
    [
        (b"<html><body>Internal error</body></html>", 200),
        (b"<order><code>MAYBE</code></order>", 200),
        (b"", 500),
        (b"Not XML at all", 200),
    ],
)
def test_unreadable_replies_are_14_without_retry_or_email(store, merchant, body, status):
    order = make_due_order(merchant, TODAY, now=NOW)
    store.replies(body, status=status)
    place_now(merchant)
    assert status_of(order) == OrderStatus.RESPONSE_PROCESSING_ERROR
    place_now(merchant, now=NOW + timedelta(days=1))
    assert len(store.received) == 1
    assert db.session.scalar(select(func.count(OutboundEmail.id))) == 0


def test_a_reply_with_crlf_as_text_html_is_read_by_content(store, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    store.replies(
        b'<?xml version="1.0"?>\r\n<order>\r\n<code>SUCCESS</code>\r\n'
        b"<orderId>A-9</orderId>\r\n<errorMsg />\r\n</order>\r\n"
    )
    place_now(merchant)
    assert status_of(order) == OrderStatus.SUCCESS
    assert db.session.get(Order, order.id).order_merchant_id == "A-9"


def test_010_waits_for_order_verify(store, merchant, client):
    order = make_due_order(merchant, TODAY, now=NOW)
    store.replies(storekit.verify_later("77"))
    place_now(merchant)
    assert status_of(order) == OrderStatus.PENDING_VERIFICATION
    from tests.factories import make_api_key

    key = make_api_key(merchant)
    response = client.post(
        "/order/verify",
        json={
            "merchant_id": merchant.public_id,
            "orders": [
                {"order_id": "77", "status": "000", "message": "success"},
                {"order_id": "nope", "status": "000"},
            ],
        },
        headers={"x-api-key": key},
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "001",
        "orders": [
            {"order_id": "77", "result": "success", "message": "success"},
            {"order_id": "nope", "result": "error", "message": "Order does not exist"},
        ],
    }
    assert status_of(order) == OrderStatus.SUCCESS
    assert len(upcoming(order)) == 1
    again = client.post(
        "/order/verify",
        json={"orders": [{"order_id": "77", "status": "000"}]},
        headers={"x-api-key": key},
    )
    assert again.get_json()["orders"][0]["message"] == "Order not in 'Processing' status"


def test_refused_connection_is_13_and_retried_next_run(app, merchant):
    merchant.order_endpoint_url = "http://127.0.0.1:9/og/orders"  # discard port: refused
    db.session.commit()
    order = make_due_order(merchant, TODAY, now=NOW)
    place_now(merchant)
    assert status_of(order) == OrderStatus.CONNECTION_ERROR
    attempt = db.session.scalar(select(PlacementAttempt))
    assert attempt.outcome == "not_sent"
    place_now(merchant, now=NOW + timedelta(hours=1))
    assert db.session.scalar(select(func.count(PlacementAttempt.id))) == 2
    place_now(merchant, now=NOW + timedelta(days=28, hours=1))  # the window: its frequency
    assert status_of(order) == OrderStatus.REJECTED


@pytest.mark.parametrize(
    "dedupes, expected",
    [(False, OrderStatus.OUTCOME_UNKNOWN), (True, OrderStatus.CONNECTION_ERROR)],
)
def test_a_store_that_times_out_after_the_request(store, merchant, dedupes, expected):
    merchant.endpoint_dedupes = dedupes
    db.session.commit()
    order = make_due_order(merchant, TODAY, now=NOW)
    store.stall_seconds = 3  # past the merchant's 2 s timeout
    place_now(merchant)
    assert status_of(order) == expected
    store.replies(storekit.success())
    place_now(merchant, now=NOW + timedelta(hours=1))
    assert len(store.received) == (2 if dedupes else 1)
    if dedupes:  # sent again with the same public id, for the store to deduplicate
        first, second = (
            etree.fromstring(r.body).findtext("head/orderPublicId") for r in store.received
        )
        assert first == second == order.public_id


def test_the_placement_hour_is_the_merchants_own(store, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    early = datetime(2030, 3, 15, 9, 59, tzinfo=UTC)  # 05:59 in New York
    assert placement.schedule_all(now=early) == []
    assert status_of(order) == OrderStatus.UNSENT
    runs = placement.schedule_all(now=datetime(2030, 3, 15, 10, 0, tzinfo=UTC))  # 06:00
    assert [r.merchant_id for r in runs] == [merchant.id]


def test_placement_hour_never_switches_it_off(store, merchant):
    merchant.placement_hour = None
    db.session.commit()
    assert placement.schedule_all(now=NOW) == []


def test_local_date_decides_what_is_due(store, merchant):
    """At 03:00 UTC on the 16th it is still the 15th in New York (and past 06:00 there? no):
    the merchant's hour and date are read in its own timezone."""
    make_due_order(merchant, date(2030, 3, 16), now=NOW)
    late_evening = datetime(2030, 3, 16, 3, 0, tzinfo=UTC)  # 23:00 on the 15th in New York
    assert placement.local_today(merchant, late_evening) == date(2030, 3, 15)
    report = place_now(merchant, now=late_evening)
    assert report.due == 0


def test_as_of_rehearses_a_future_day(store, merchant):
    make_due_order(merchant, date(2030, 4, 1), now=NOW)
    assert place_now(merchant).due == 0
    assert place_now(merchant, as_of=date(2030, 4, 1)).outcomes == {"success": 1}


def test_a_second_cron_fire_in_the_same_hour_starts_nothing(app, merchant):
    first = placement.schedule_all(now=NOW)
    second = placement.schedule_all(now=NOW + timedelta(minutes=1))
    assert len(first) == 1 and second == []
    assert db.session.scalar(select(func.count(PlacementRun.id))) == 1


def test_eight_threads_placing_one_order_send_it_once(app, store, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    order_id, start = order.id, threading.Barrier(8)  # threads never touch the test's session

    def worker():
        with app.app_context():
            start.wait()
            placement_send.place(order_id, run_id=None, as_of=TODAY, worker="t", now=NOW)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.received) == 1
    assert status_of(order) == OrderStatus.SUCCESS


def test_cancelled_subscription_leaves_the_order_and_nothing_is_sent(store, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    db.session.get(Subscription, order.items[0].subscription_id).live = False
    db.session.commit()
    place_now(merchant)
    assert store.received == [] and status_of(order) == OrderStatus.CANCELLED


def test_out_of_stock_items_are_split_out_and_the_rest_ships(store, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    other = make_due_order(merchant, TODAY, now=NOW)
    moved = other.items[0]
    moved.order = order  # one order, two subscriptions
    db.session.flush()
    db.session.delete(other)
    moved.product.in_stock = False
    db.session.commit()
    place_now(merchant)
    assert status_of(order) == OrderStatus.SUCCESS
    assert len(etree.fromstring(store.received[0].body).findall("items/item")) == 1
    held = db.session.scalar(select(Order).join(OrderItem).where(OrderItem.id == moved.id))
    assert held.status == OrderStatus.UNSENT and held.place_date == TODAY + timedelta(days=1)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000,
        b'{"orders": "x"}',
        b'{"orders": []}',
        b'{"orders": [1, null, {}]}',
        b'{"orders": [{"order_id": "\\ud800", "status": "000"}]}',
        b'{"orders": [{"order_id": "a\\u0000b", "status": "000"}]}',
        b'{"orders": [{"order_id": 99999999999999999999, "status": "000"}]}',
        b"not json",
        b"",
    ],
)
def test_order_verify_refuses_what_is_not_a_verdict(client, merchant, body):
    from tests.factories import make_api_key

    response = client.post(
        "/order/verify",
        data=body,
        content_type="application/json",
        headers={"x-api-key": make_api_key(merchant)},
    )
    assert response.status_code in (200, 400)
    assert response.get_json()["status"] in ("001", "002")


def test_order_verify_needs_credentials(client, merchant):
    assert client.post("/order/verify", json={"orders": []}).status_code == 401
    assert (
        client.post("/order/verify", json={"orders": []}, headers={"x-api-key": "nope"}).status_code
        == 403
    )


@pytest.mark.parametrize(
    "utc, placing",
    [
        (datetime(2030, 3, 9, 10, 30, tzinfo=UTC), False),  # 05:30 EST, the day before DST
        (datetime(2030, 3, 9, 11, 0, tzinfo=UTC), True),  # 06:00 EST
        (datetime(2030, 3, 10, 9, 59, tzinfo=UTC), False),  # 05:59 EDT, clocks went forward
        (datetime(2030, 3, 10, 10, 0, tzinfo=UTC), True),  # 06:00 EDT
        (datetime(2030, 11, 3, 10, 30, tzinfo=UTC), False),  # 05:30 EST, clocks went back
        (datetime(2030, 11, 3, 11, 0, tzinfo=UTC), True),
    ],
)
def test_the_placement_hour_follows_daylight_saving_time(merchant, utc, placing):
    assert placement.placing_now(merchant, utc) is placing
