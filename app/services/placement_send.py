"""Placing one order: claim it, get it ready, write the ledger, send it, act on the answer.

The rules that make this exactly once are in ``placement``'s docstring; this module carries
them out for one order at a time. Getting ready, under the claim, means:

* items of subscriptions cancelled since the order was made leave it (no items left: the order
  is cancelled, nothing is sent);
* items whose product is out of stock or discontinued are split into an order of their own for
  tomorrow, retried daily for ``OUT_OF_STOCK_DAYS`` days, after which that cycle is skipped and
  the subscription's next order is made at the usual date (*decided*; the rest ships now);
* the order is priced again by the one pricing function (``orders.quote``), so what is sent is
  what the subscriber's dashboard shows.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.integrations import orders_http, signing
from app.integrations.xml import order as order_xml
from app.models import (
    Address,
    Customer,
    Merchant,
    Order,
    OrderItem,
    OrderStatus,
    PaymentMethod,
    PlacementAttempt,
    Product,
    Subscription,
)
from app.models.types import utcnow
from app.services import (
    claims,
    events,
    order_documents,
    orders,
    placement,
    placement_outcomes,
    pricing,
)

OUT_OF_STOCK_DAYS = 7
CONNECT_TIMEOUT = 5.0  # seconds to open the connection; the read timeout is the merchant's
_local = threading.local()


def _session() -> requests.Session:
    """One HTTP session per worker thread: connections to the store are kept alive."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.trust_env = False  # as orders_http's own sessions: no proxy or netrc lookups
    return session


@dataclass(frozen=True)
class Prepared:
    """An order claimed, priced and in the ledger: ready to go out."""

    order_id: int
    token: str
    attempt_id: int
    document: order_xml.OrderDocument
    body: bytes
    url: str  # where it goes (API mode), with this header and read timeout
    header: str
    read_timeout: float
    # The rows it was made from, held so that the session keeps them for what follows the
    # reply (its identity map holds rows weakly).
    rows: tuple = dataclasses.field(default=(), repr=False, compare=False)


def place_all(
    order_ids: Sequence[int],
    *,
    run_id: int | None,
    as_of: date,
    worker: str,
    now: datetime | None = None,
) -> None:
    """Place each order in turn, or, for a merchant in batch mode, all of them in one file
    (``now`` fixes the clock, for rehearsals and tests). The merchant's incentives are read
    once for the lot: one that changes meanwhile applies from the next batch."""
    merchant = _merchant_of(order_ids)
    if merchant is not None and merchant.placement_mode == "batch":
        from app.services import placement_batch  # it imports this module

        placement_batch.place_file(
            merchant.id, order_ids, run_id=run_id, as_of=as_of, worker=worker, now=now
        )
        return
    with pricing.incentives_read_once(), keeping_loaded():
        held = _read_ahead(order_ids)  # noqa: F841 - held: the session keeps rows held only
        for order_id in order_ids:
            place(order_id, run_id=run_id, as_of=as_of, worker=worker, now=now, merchant=merchant)


def place(
    order_id: int,
    *,
    run_id: int | None,
    as_of: date,
    worker: str,
    now: datetime | None = None,
    merchant: Merchant | None = None,
) -> str | None:
    """Place one order if it is still due; return the attempt's outcome (None: not ours).
    ``now`` fixes the clock for the whole attempt (rehearsals and tests); else it is read.
    ``merchant``: the order's, when the caller has it. In batch mode the order goes out in a
    file of its own."""
    merchant = merchant or _merchant_of([order_id])
    if merchant is not None and merchant.placement_mode == "batch":
        from app.services import placement_batch  # it imports this module

        return placement_batch.place_file(
            merchant.id, [order_id], run_id=run_id, as_of=as_of, worker=worker, now=now
        ).get(order_id)
    with keeping_loaded():
        prepared = prepare(
            order_id, run_id=run_id, as_of=as_of, worker=worker, now=now, merchant=merchant
        )
        if prepared is None:
            return None
        delivery = orders_http.post_order(
            prepared.url,
            prepared.body,
            prepared.header,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=prepared.read_timeout,
            session=_session(),
        )
        return placement_outcomes.apply(
            order_id, prepared.token, prepared.attempt_id, delivery, now=now
        )


def prepare(
    order_id: int,
    *,
    run_id: int | None,
    as_of: date,
    worker: str,
    now: datetime | None = None,
    lease: timedelta | None = None,
    batch_file_id: int | None = None,
    merchant: Merchant | None = None,
) -> Prepared | None:
    """Claim the order if it is still due, get it ready and write its ledger row, all in one
    transaction (committed: the ledger knows about the send before the store does); None when
    it is not ours or nothing is left to send. ``lease`` overrides the merchant's claim length;
    ``merchant``, the order's, when the caller has it."""
    now = now or utcnow()
    if merchant is None:
        order = db.session.get(Order, order_id)
        if order is None:
            return None
        merchant = db.session.get(Merchant, order.merchant_id)
    token = secrets.token_hex(16)
    # The claim holds the row until the commit below: a second worker (or run, or cron fire)
    # waits for it and then finds the order no longer due. Until that commit nothing is
    # visible, so a worker that dies or stalls before it leaves the order as it was.
    if not _claim(order_id, merchant, as_of, now, token, lease):
        db.session.rollback()
        return None
    order = db.session.get(Order, order_id, populate_existing=True)  # as the claim left it
    priced = _ready(order, merchant, token, now)
    if priced is None:
        return None
    try:
        document = order_documents.build(order, merchant, as_of=as_of, quote=priced)
        body = order_xml.build_order(document)
    except Exception:  # noqa: BLE001 - a bug in building it must not leave the order claimed
        current_app.logger.exception("order %s could not be built", order.public_id)
        db.session.rollback()  # the claim and what got it ready too: claim it again to say so
        if _claim(order_id, merchant, as_of, now, token, lease):
            _release(
                db.session.get(Order, order_id),
                token,
                OrderStatus.EXCEPTION_DURING_PREPARATION,
                now,
                "The order XML could not be built; the error was logged.",
            )
        else:
            db.session.rollback()
        return None
    attempt = PlacementAttempt(
        merchant_id=merchant.id,
        order_id=order.id,
        run_id=run_id,
        attempt=order.tries,
        worker=worker,
        sent_at=utcnow(),
        request_xml=order_documents.masked(body),
        batch_file_id=batch_file_id,
    )
    db.session.add(attempt)
    prepared = Prepared(
        order_id=order.id,
        token=token,
        document=document,
        body=body,
        url=merchant.order_endpoint_url or "",
        header=signing.build_auth_header(
            merchant.public_id, merchant.hash_key, order.customer.merchant_user_id
        ),
        read_timeout=float(merchant.order_timeout_seconds),
        attempt_id=0,
    )
    db.session.flush()
    db.session.commit()  # the ledger knows about the send before the store does
    return dataclasses.replace(prepared, attempt_id=attempt.id, rows=(order, attempt, merchant))


def _read_ahead(order_ids: Sequence[int]) -> list:
    """The customers, addresses, cards, subscriptions and products of these orders, read in a
    few queries rather than a few per order (each order and its subscriptions are read again
    once claimed)."""
    orders_ = select(Order).where(Order.id.in_(order_ids))
    items = select(OrderItem).where(OrderItem.order_id.in_(order_ids))
    queries = [
        select(Customer).where(Customer.id.in_(orders_.with_only_columns(Order.customer_id))),
        select(Address).where(Address.id.in_(orders_.with_only_columns(Order.shipping_address_id))),
        select(PaymentMethod).where(
            PaymentMethod.id.in_(orders_.with_only_columns(Order.payment_id))
        ),
        select(Subscription).where(
            Subscription.id.in_(items.with_only_columns(OrderItem.subscription_id))
        ),
        select(Product)
        .options(selectinload(Product.groups))
        .where(Product.id.in_(items.with_only_columns(OrderItem.product_id))),
    ]
    return [row for query in queries for row in db.session.scalars(query)]


@contextmanager
def keeping_loaded() -> Iterator[None]:
    """Commits inside keep what the session holds loaded instead of reading it all again.

    For placing orders one after another: each order is read again once claimed, and its
    subscriptions before anything is decided for them (they may be cancelled meanwhile); the
    merchant's settings and the catalog are then as they were when the batch began reading
    them (a change applies from the next batch, seconds later). Every decision is still a
    conditional UPDATE on the order's row, whatever the session holds.
    """
    session = db.session()
    before = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = before


def _claim(
    order_id: int,
    merchant: Merchant,
    as_of: date,
    now: datetime,
    token: str,
    lease: timedelta | None,
) -> bool:
    """The conditional UPDATE that makes the order ours if it is still due (not committed)."""
    return claims.take(
        Order,
        order_id,
        placement.due_condition(merchant.id, as_of, now),
        status=OrderStatus.PENDING_PLACEMENT,
        lease_token=token,
        lease_until=now + (lease or placement.lease_for(merchant)),
        tries=Order.tries + 1,
        first_attempt_at=func.coalesce(Order.first_attempt_at, now),
    )


def _merchant_of(order_ids: Sequence[int]) -> Merchant | None:
    order = db.session.get(Order, order_ids[0]) if order_ids else None
    return db.session.get(Merchant, order.merchant_id) if order is not None else None


def _ready(order: Order, merchant: Merchant, token: str, now: datetime) -> pricing.Quote | None:
    """Drop cancelled items, split unavailable ones, price; None when nothing is left to send
    (the order then says why, committed)."""
    kept, unavailable = [], []
    for item in list(order.items):
        sub = (  # read again: cancelled a moment ago counts
            db.session.get(Subscription, item.subscription_id, populate_existing=True)
            if item.subscription_id
            else None
        )
        if sub is not None and not sub.live:
            order.items.remove(item)  # cancelled since the order was made
        elif item.product.discontinued or not item.product.in_stock:
            unavailable.append(item)
        else:
            kept.append(item)
    if unavailable and kept:
        _split(order, unavailable, now)
    elif unavailable:
        _hold_out_of_stock(order, merchant, token, now)
        return None
    if not order.items:
        _cancel_empty(order, token, now)
        return None
    if not merchant.order_endpoint_url and merchant.placement_mode != "batch":
        _release(
            order, token, OrderStatus.CONNECTION_ERROR, now, "No order endpoint is set in Settings."
        )
        return None
    priced = orders.reprice(order, now=now)
    db.session.flush()  # committed with the claim and the ledger row
    return priced


def _split(order: Order, items: list[OrderItem], now: datetime) -> Order:
    """Move unavailable items into an order of their own, tried again tomorrow."""
    rest = Order(
        merchant_id=order.merchant_id,
        customer_id=order.customer_id,
        shipping_address_id=order.shipping_address_id,
        payment_id=order.payment_id,
        place_date=order.place_date + timedelta(days=1),
        currency=order.currency,
        status=OrderStatus.UNSENT,
        retry_reason="out_of_stock",
        extra_data={"out_of_stock_since": order.place_date.isoformat()},
    )
    db.session.add(rest)
    for item in items:
        order.items.remove(item)
        rest.items.append(item)
    db.session.flush()
    events.record(
        order.merchant_id,
        "order.split_out_of_stock",
        placement.SYSTEM,
        object_type="order",
        object_id=rest.public_id,
        customer_id=order.customer_id,
        after={"from": order.public_id, "items": len(items)},
    )
    return rest


def _hold_out_of_stock(order: Order, merchant: Merchant, token: str, now: datetime) -> bool:
    """Every item is unavailable: try again tomorrow, or skip this cycle after the last day."""
    since = date.fromisoformat(
        (order.extra_data or {}).get("out_of_stock_since") or order.place_date.isoformat()
    )
    if (order.place_date - since).days + 1 >= OUT_OF_STOCK_DAYS:
        orders.skip_cycle(order, reason="out_of_stock", now=now)
        status = OrderStatus.CANCELLED
    else:
        order.extra_data = {**(order.extra_data or {}), "out_of_stock_since": since.isoformat()}
        order.place_date = order.place_date + timedelta(days=1)
        status = OrderStatus.UNSENT
    return _release(order, token, status, now, "Out of stock", retry_reason="out_of_stock")


def _cancel_empty(order: Order, token: str, now: datetime) -> bool:
    return _release(
        order, token, OrderStatus.CANCELLED, now, "Every subscription in the order was cancelled."
    )


def _release(
    order: Order,
    token: str,
    status: int,
    now: datetime,
    why: str,
    *,
    retry_reason: str | None = None,
) -> bool:
    """Give the claim back without sending: the order takes ``status``."""
    order.tries -= 1  # nothing was sent: this was not an attempt
    db.session.flush()
    claims.claim(
        Order,
        order.id,
        Order.lease_token == token,
        status=status,
        lease_token=None,
        lease_until=None,
        retry_reason=retry_reason,
        next_attempt_at=now if status == OrderStatus.CONNECTION_ERROR else None,
    )
    events.record(
        order.merchant_id,
        "order.not_sent",
        placement.SYSTEM,
        object_type="order",
        object_id=order.public_id,
        customer_id=order.customer_id,
        after={"status": status, "reason": why},
    )
    db.session.commit()
    return False
