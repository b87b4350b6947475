"""Placing orders: get them ready, write the ledger, send each, act on the answer.

The rules that make this exactly once are in ``placement``'s docstring; this module carries
them out. A batch's orders are claimed and got ready a group at a time (``placement_ready``);
then each in turn gets its ledger row (committed, while the claim is still ours) just before
it goes out, so that at any moment at most one order of a worker may have reached the store
without its outcome recorded. Once the group is sent, its settled orders are followed up
together (``next_orders.follow_up``: the subscriptions counted, their next orders made).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import requests
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.integrations import orders_http
from app.integrations.xml import order as order_xml
from app.models import (
    Address,
    Customer,
    Merchant,
    Order,
    OrderItem,
    PaymentMethod,
    PlacementAttempt,
    Product,
    Subscription,
)
from app.models.types import utcnow
from app.services import (
    claims,
    next_orders,
    order_documents,
    placement,
    placement_outcomes,
    pricing,
    transactions,
)
from app.services.placement_ready import Ready, get_ready

CONNECT_TIMEOUT = 5.0  # seconds to open the connection; the read timeout is the merchant's
CLAIM_GROUP = 25  # orders claimed and got ready in one transaction, then sent one by one
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
    # The rows it was made from, held so that the session keeps them for what follows the
    # reply (its identity map holds rows weakly).
    rows: tuple = field(default=(), repr=False, compare=False)


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
    if merchant is None:
        return
    if merchant.placement_mode == "batch":
        from app.services import placement_batch  # it imports this module

        placement_batch.place_file(
            merchant.id, order_ids, run_id=run_id, as_of=as_of, worker=worker, now=now
        )
        return
    with pricing.incentives_read_once(), transactions.keeping_loaded():
        held = _read_ahead(order_ids)  # noqa: F841 - held: the session keeps rows held only
        for group in _groups(order_ids, CLAIM_GROUP):
            sent = [
                ready.order.id
                for ready in get_ready(group, merchant, as_of=as_of, now=now or utcnow())
                if _send(ready, run_id=run_id, worker=worker, now=now, follow_up=False)
            ]
            next_orders.follow_up(sent, now or utcnow())  # the group's next orders at once


def place(
    order_id: int,
    *,
    run_id: int | None,
    as_of: date,
    worker: str,
    now: datetime | None = None,
) -> str | None:
    """Place one order if it is still due; return the attempt's outcome (None: not ours).
    ``now`` fixes the clock for the whole attempt (rehearsals and tests); else it is read.
    In batch mode the order goes out in a file of its own."""
    merchant = _merchant_of([order_id])
    if merchant is None:
        return None
    if merchant.placement_mode == "batch":
        from app.services import placement_batch  # it imports this module

        return placement_batch.place_file(
            merchant.id, [order_id], run_id=run_id, as_of=as_of, worker=worker, now=now
        ).get(order_id)
    with transactions.keeping_loaded():
        for ready in get_ready([order_id], merchant, as_of=as_of, now=now or utcnow()):
            return _send(ready, run_id=run_id, worker=worker, now=now)
    return None


def _send(
    ready: Ready,
    *,
    run_id: int | None,
    worker: str,
    now: datetime | None,
    follow_up: bool = True,
) -> str | None:
    prepared = record(ready, run_id=run_id, worker=worker, now=now)
    if prepared is None:
        return None
    delivery = orders_http.post_order(
        ready.merchant.order_endpoint_url or "",
        ready.body,
        ready.header,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=float(ready.merchant.order_timeout_seconds),
        session=_session(),
    )
    return placement_outcomes.apply(
        prepared.order_id,
        prepared.token,
        prepared.attempt_id,
        delivery,
        now=now,
        follow_up=follow_up,
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
) -> Prepared | None:
    """Claim the order if it is still due, get it ready and write its ledger row (committed:
    the ledger knows about the send before the store does); None when it is not ours or
    nothing is left to send. ``lease`` overrides the merchant's claim length."""
    merchant = _merchant_of([order_id])
    if merchant is None:
        return None
    for ready in get_ready([order_id], merchant, as_of=as_of, now=now or utcnow(), lease=lease):
        return record(
            ready, run_id=run_id, worker=worker, now=now, lease=lease, batch_file_id=batch_file_id
        )
    return None


def record(
    ready: Ready,
    *,
    run_id: int | None,
    worker: str,
    now: datetime | None = None,
    lease: timedelta | None = None,
    batch_file_id: int | None = None,
) -> Prepared | None:
    """Write the order's ledger row and commit it, if the claim is still ours then, its lease
    counted again from that moment; None when it is not (the order goes nowhere).

    The row is written first and the claim checked last, just before the commit: a worker that
    stalls on its way (a lock wait, a paused VM) past its lease holds nothing a recovery needs,
    so the recovery may take the order and send it; this worker then finds the claim gone."""
    order = ready.order
    attempt = PlacementAttempt(
        merchant_id=order.merchant_id,
        order_id=order.id,
        run_id=run_id,
        attempt=ready.attempt,  # not order.tries: a rollback may have read a newer claim's
        worker=worker,
        sent_at=utcnow(),
        request_xml=order_documents.masked(ready.body),
        batch_file_id=batch_file_id,
    )
    db.session.add(attempt)
    try:
        db.session.flush()
    except IntegrityError:  # that attempt number was sent by whoever holds the order now
        db.session.rollback()
        return None
    attempt_id = attempt.id
    if not claims.take(
        Order,
        order.id,
        Order.lease_token == ready.token,
        lease_until=(now or utcnow()) + (lease or placement.lease_for(ready.merchant)),
    ):
        db.session.rollback()
        return None
    db.session.commit()  # the ledger knows about the send before the store does
    return Prepared(
        order.id, ready.token, attempt_id, ready.document, ready.body, rows=(order, attempt)
    )


def _groups(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _merchant_of(order_ids: Sequence[int]) -> Merchant | None:
    order = db.session.get(Order, order_ids[0]) if order_ids else None
    return db.session.get(Merchant, order.merchant_id) if order is not None else None


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
