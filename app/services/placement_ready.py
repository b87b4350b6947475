"""Getting due orders ready to send: claim a few at once, check what is left, price, build.

``get_ready`` claims a group of due orders with one conditional UPDATE (the claim of
``placement``'s docstring: one token for the group, each order's own lease) and, in the same
transaction, gets each one ready. Getting ready, under the claim, means:

* items of subscriptions cancelled since the order was made leave it (no items left: the order
  is cancelled, nothing is sent);
* items whose product is out of stock or discontinued are split into an order of their own for
  tomorrow, retried daily for ``OUT_OF_STOCK_DAYS`` days, after which that cycle is skipped and
  the subscription's next order is made at the usual date (*decided*; the rest ships now);
* the order is priced again by the one pricing function (``orders.quote``), so what is sent is
  what the subscriber's dashboard shows, and its XML is built from that price.

An order with nothing left to send is released in that transaction with its reason. Nothing of
it is visible before the commit, so a worker that dies before then leaves the orders as they
were; after it, a claimed order with no ledger row is due again once its lease ends
(``placement_recovery.recover``). The ledger row itself is written by ``placement_send.record`` just
before the order goes out.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.integrations import signing
from app.integrations.xml import order as order_xml
from app.models import Merchant, Order, OrderItem, OrderStatus, Subscription
from app.services import claims, events, order_documents, orders, placement, pricing

OUT_OF_STOCK_DAYS = 7


@dataclass(frozen=True)
class Ready:
    """A claimed order, priced and built, not yet in the ledger."""

    order: Order
    merchant: Merchant
    token: str
    document: order_xml.OrderDocument
    body: bytes
    header: str  # the signed Authorization header (API mode)
    attempt: int  # the order's ``tries`` as the claim left it: this send's attempt number


def get_ready(
    order_ids: Sequence[int],
    merchant: Merchant,
    *,
    as_of: date,
    now: datetime,
    lease: timedelta | None = None,
) -> list[Ready]:
    """Claim those of ``order_ids`` still due and get each ready (see the module docstring);
    committed. An order whose XML cannot be built (a bug) is released with status 12 and the
    others are got ready again without it."""
    token = secrets.token_hex(16)
    claimed = set(
        db.session.scalars(
            update(Order)
            .where(Order.id.in_(order_ids), placement.due_condition(merchant.id, as_of, now))
            .values(
                status=OrderStatus.PENDING_PLACEMENT,
                lease_token=token,
                lease_until=now + (lease or placement.lease_for(merchant)),
                tries=Order.tries + 1,
                first_attempt_at=func.coalesce(Order.first_attempt_at, now),
            )
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not claimed:
        db.session.rollback()
        return []
    ready = []
    for order in _read_claimed([i for i in order_ids if i in claimed]):
        priced = _ready(order, merchant, token, now)
        if priced is None:
            continue
        try:
            document = order_documents.build(order, merchant, as_of=as_of, quote=priced)
            body = order_xml.build_order(document)
        except Exception:  # noqa: BLE001 - a bug in building one must not hold the others
            current_app.logger.exception("order %s could not be built", order.public_id)
            db.session.rollback()
            _not_built(order.id, merchant, as_of, now)
            rest = [i for i in order_ids if i != order.id]
            return get_ready(rest, merchant, as_of=as_of, now=now, lease=lease) if rest else []
        header = signing.build_auth_header(
            merchant.public_id, merchant.hash_key, order.customer.merchant_user_id
        )
        ready.append(Ready(order, merchant, token, document, body, header, order.tries))
    db.session.commit()
    return ready


def _read_claimed(order_ids: list[int]) -> list[Order]:
    """The claimed orders as the claim left them, with their items and subscriptions, in the
    order given."""
    found = {
        order.id: order
        for order in db.session.scalars(
            select(Order)
            .where(Order.id.in_(order_ids))
            .options(selectinload(Order.items))
            .execution_options(populate_existing=True)
        )
    }
    subscriptions = {i.subscription_id for o in found.values() for i in o.items}
    subscriptions.discard(None)
    if subscriptions:  # read again: one cancelled a moment ago counts
        db.session.scalars(
            select(Subscription)
            .where(Subscription.id.in_(subscriptions))
            .execution_options(populate_existing=True)
        ).all()
    return [found[i] for i in order_ids]


def _not_built(order_id: int, merchant: Merchant, as_of: date, now: datetime) -> None:
    token = secrets.token_hex(16)
    if not claims.take(
        Order,
        order_id,
        placement.due_condition(merchant.id, as_of, now),
        status=OrderStatus.PENDING_PLACEMENT,
        lease_token=token,
    ):
        db.session.rollback()
        return
    _release(
        db.session.get(Order, order_id, populate_existing=True),
        token,
        OrderStatus.EXCEPTION_DURING_PREPARATION,
        now,
        "The order XML could not be built; the error was logged.",
        counted=False,
    )
    db.session.commit()


def _ready(order: Order, merchant: Merchant, token: str, now: datetime) -> pricing.Quote | None:
    """Drop cancelled items, split unavailable ones, price; None when nothing is left to send
    (the order is then released with its reason)."""
    kept, unavailable = [], []
    for item in list(order.items):
        sub = db.session.get(Subscription, item.subscription_id) if item.subscription_id else None
        if sub is not None and not sub.live:
            order.items.remove(item)  # cancelled since the order was made
        elif item.product.discontinued or not item.product.in_stock:
            unavailable.append(item)
        else:
            kept.append(item)
    if unavailable and kept:
        _split(order, unavailable)
    elif unavailable:
        _hold_out_of_stock(order, token, now)
        return None
    if not order.items:
        _release(
            order,
            token,
            OrderStatus.CANCELLED,
            now,
            "Every subscription in the order was cancelled.",
        )
        return None
    if not merchant.order_endpoint_url and merchant.placement_mode != "batch":
        _release(
            order, token, OrderStatus.CONNECTION_ERROR, now, "No order endpoint is set in Settings."
        )
        return None
    return orders.reprice(order, now=now)  # written with the group's commit


def _split(order: Order, items: list[OrderItem]) -> Order:
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


def _hold_out_of_stock(order: Order, token: str, now: datetime) -> None:
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
    _release(order, token, status, now, "Out of stock", retry_reason="out_of_stock")


def _release(
    order: Order,
    token: str,
    status: int,
    now: datetime,
    why: str,
    *,
    retry_reason: str | None = None,
    counted: bool = True,
) -> None:
    """Give the claim back without sending: the order takes ``status`` (committed by the
    caller). ``counted``: the claim added one to ``tries``, to be taken back (nothing was
    sent: it was not an attempt)."""
    if counted:
        order.tries -= 1
    db.session.flush()
    claims.take(
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
