"""Upcoming and placed orders: their price, the next cycle's order, and what staff can do.

``quote`` is the one pricing of an order (``pricing.price_order``) that placement sends and the
subscriber's dashboard shows: each subscription line is priced at its locked price or the
product's current one (the best-deal guarantee keeps the lower), with the item-level incentives
its subscription was promised at checkout and the discount to stay it took (``save_offers``), at
its own order number for tier windows; order-level, shipping and gift incentives are the
merchant's live ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.domain import money
from app.domain.frequency import Frequency
from app.extensions import db
from app.models import Merchant, Order, OrderStatus, Product, Subscription
from app.models.types import utcnow
from app.services import claims, events, pricing
from app.services.errors import Conflict, NotFound

ACTIONABLE = {
    "retry": (
        OrderStatus.CONNECTION_ERROR,
        OrderStatus.GENERIC_ERROR,
        OrderStatus.CREDIT_CARD_RETRY,
        OrderStatus.RESPONSE_PROCESSING_ERROR,
    ),
    # An order in a batch file whose response never came: staff know what the store did.
    "send_again": (OrderStatus.OUTCOME_UNKNOWN, OrderStatus.PENDING_BATCH_RESPONSE),
    "confirm": (
        OrderStatus.OUTCOME_UNKNOWN,
        OrderStatus.PENDING_VERIFICATION,
        OrderStatus.PENDING_BATCH_RESPONSE,
    ),
    "reject": (
        OrderStatus.UNSENT,
        OrderStatus.CONNECTION_ERROR,
        OrderStatus.GENERIC_ERROR,
        OrderStatus.CREDIT_CARD_RETRY,
        OrderStatus.RESPONSE_PROCESSING_ERROR,
        OrderStatus.OUTCOME_UNKNOWN,
        OrderStatus.SEND_NOW,
        OrderStatus.PENDING_BATCH_RESPONSE,
    ),
    "rescue": (OrderStatus.REJECTED,),
    "send_now": (
        OrderStatus.UNSENT,
        OrderStatus.CONNECTION_ERROR,
        OrderStatus.GENERIC_ERROR,
        OrderStatus.CREDIT_CARD_RETRY,
    ),
}


def get(merchant_id: int, public_id: str) -> Order:
    order = db.session.scalar(
        select(Order).where(Order.merchant_id == merchant_id, Order.public_id == public_id)
    )
    if order is None:
        raise NotFound()
    return order


# -- price -----------------------------------------------------------------------------------


def quote(
    order: Order, *, now: datetime, incentives: Sequence[pricing.Terms] | None = None
) -> pricing.Quote:
    """What the order costs now (see the module docstring)."""
    from app.services import save_offers  # it imports this module

    if incentives is None:
        incentives = pricing.active_incentives(order.merchant_id, now)
    lines, numbers, kept = [], [], []  # kept: discounts to stay of these subscriptions
    for item in order.items:
        product = item.product or db.session.get(Product, item.product_id)
        sub = db.session.get(Subscription, item.subscription_id) if item.subscription_id else None
        locked = sub.price_minor if sub is not None else None
        number = item.cycle if sub is not None and item.cycle else None
        if number:
            numbers.append(number)
        promised = None
        if sub is not None and sub.incentive_ids is not None:
            promised = frozenset(sub.incentive_ids)
        elif item.one_time:
            promised = frozenset()  # a one-time add-on gets no subscription discount
        line = pricing.line_for(
            product,
            quantity=item.quantity,
            price_minor=locked,
            order_number=number,
            best_price_minor=product.price_minor if locked is not None else None,
            promised=promised,
        )
        stay = save_offers.terms_for(sub) if sub is not None else None
        if stay is not None:  # in a group of its own, so it reaches this line only
            kept.append(stay)
            line = replace(
                line,
                groups=line.groups | {stay.target_group},
                promised=None if promised is None else promised | {stay.public_id},
            )
        lines.append(line)
    return pricing.price_order(
        lines,
        incentives=[*incentives, *kept] if kept else incentives,
        order_number=max(numbers or [2]),
        is_initial=False,
        currency=order.currency,
        now=now,
    )


def reprice(
    order: Order, *, now: datetime, incentives: Sequence[pricing.Terms] | None = None
) -> pricing.Quote:
    """Write ``quote``'s prices and totals onto the order and its items."""
    priced = quote(order, now=now, incentives=incentives)
    for item, line in zip(order.items, priced.lines, strict=True):
        item.price_minor = line.unit_price_minor
        item.total_price_minor = line.total_minor
    order.sub_total_minor = priced.subtotal_minor
    order.discount_total_minor = priced.discount_total_minor
    order.shipping_total_minor = priced.shipping_total_minor
    order.total_minor = priced.total_minor
    return priced


# -- the next cycle --------------------------------------------------------------------------


def skip_cycle(order: Order, *, reason: str, now: datetime) -> None:
    """Give up this cycle of the order's subscriptions; each waits for its next date."""
    for item in list(order.items):
        sub = db.session.get(Subscription, item.subscription_id) if item.subscription_id else None
        order.items.remove(item)
        if sub is None or not sub.live:
            continue
        when = Frequency(sub.every, sub.every_period).next_date(order.place_date)
        later = Order(
            merchant_id=order.merchant_id,
            customer_id=order.customer_id,
            shipping_address_id=order.shipping_address_id,
            payment_id=order.payment_id,
            place_date=when,
            currency=order.currency,
            status=OrderStatus.UNSENT,
        )
        later.items.append(item)
        db.session.add(later)
        events.record(
            order.merchant_id,
            "order.skip_order",
            events.SYSTEM,
            object_type="order",
            object_id=order.public_id,
            customer_id=order.customer_id,
            after={"reason": reason, "next": when.isoformat()},
        )
    db.session.flush()


# -- what staff (and, later, subscribers) can do ----------------------------------------------


def act(
    merchant_id: int,
    public_id: str,
    action: str,
    *,
    actor: events.Actor,
    store_order_id: str | None = None,
) -> Order:
    """Retry now, send again, confirm placed, reject, rescue or send now, if the order's status
    allows it (Conflict otherwise: someone else just moved it on)."""
    order = get(merchant_id, public_id)
    allowed = ACTIONABLE[action]
    before = order.status
    values: dict[str, Any] = {"retry_reason": None, "next_attempt_at": None}
    if action in ("retry", "send_again", "rescue", "send_now"):
        values["status"] = OrderStatus.SEND_NOW
        if action == "send_now":
            values["extra_data"] = {**(order.extra_data or {}), "send_now": True}
        if action == "rescue":
            values["rejected_message"] = None
    elif action == "reject":
        values.update(
            status=OrderStatus.REJECTED,
            rejected_message=f"Rejected by {actor.type}",
            next_order_pending=True,  # the subscriptions get their next order
        )
    else:  # confirm
        values.update(
            status=OrderStatus.SUCCESS,
            order_merchant_id=store_order_id or order.order_merchant_id,
            placed_at=utcnow(),
            next_order_pending=True,
        )
    if not claims.take(Order, order.id, Order.status.in_(allowed), **values):
        db.session.rollback()
        raise Conflict(
            f"The order is {OrderStatus(before).name.lower().replace('_', ' ')} "
            "now; reload the page."
        )
    events.record(
        merchant_id,
        f"order.{action}",
        actor,
        object_type="order",
        object_id=order.public_id,
        customer_id=order.customer_id,
        before={"status": before},
        after={"status": values["status"]},
    )
    db.session.commit()
    if values.get("next_order_pending"):  # settled: the subscriptions get their next order
        from app.services import next_orders  # it imports this module

        next_orders.follow_up([order.id], utcnow())
    db.session.refresh(order)
    return order


def email_context(order: Order) -> dict[str, Any]:
    """What every order email can say: the store, the order's date, items and total."""
    items = ", ".join(f"{item.quantity} × {item.product.name}" for item in order.items)
    store = db.session.get(Merchant, order.merchant_id).name
    return {
        "order": order.public_id,
        "date": order.place_date.isoformat(),
        "day": long_date(order.place_date),
        "items": items,
        "store": store,
        "total": money.display(order.total_minor, order.currency),
    }


def long_date(value: date) -> str:
    """A date for an email, the same whatever the server's locale: "Thursday, January 31,
    2030"."""
    return f"{DAYS[value.weekday()]}, {MONTHS[value.month - 1]} {value.day}, {value.year}"


DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
