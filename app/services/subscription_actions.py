"""What a subscriber (or staff, or the merchant's API) changes on one subscription.

Quantity, frequency, next order date, product (SKU swap) and email reminder (contracts §4.3);
pausing, resuming, cancelling and reactivating are in ``subscription_lifecycle``, the address
and card in ``shipping_payment``. Each action takes the merchant, the scope's customer (see
``subscriber_scope``), the subscription's public id, its arguments and who acts; it records one
event with ``before`` and ``after`` and commits once. What changes the upcoming order holds it
first (``upcoming_orders.hold``): an order being placed is refused with Conflict and nothing is
written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.extensions import db
from app.models import Order, OrderStatus, Product, Subscription
from app.models.types import utcnow
from app.services import events, orders, upcoming_orders
from app.services import subscriber_scope as scope
from app.services.errors import Conflict, ValidationError


def change_quantity(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    quantity: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """The subscription's quantity (1 to ``MAX_QUANTITY``); its upcoming item follows."""
    sub = scope.subscription(merchant_id, customer_id, public_id)
    scope.live(sub)
    new = scope.quantity(quantity)
    if new == sub.quantity:
        return sub
    order = upcoming_orders.held_current(sub)
    before = sub.quantity
    sub.quantity = new
    if order is not None and (item := upcoming_orders.item_of(order, sub)) is not None:
        item.quantity = new
        orders.reprice(order, now=now or utcnow())
    record(sub, "subscription.change_quantity", actor, {"quantity": before}, {"quantity": new})
    db.session.commit()
    return sub


def change_frequency(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    every: Any,
    every_period: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """How often it ships (both required). The next order keeps its date; the order after it
    counts from that date with the new frequency. The upcoming order's price does not depend
    on the frequency, so it is left as it is (and may be being placed)."""
    sub = scope.subscription(merchant_id, customer_id, public_id)
    scope.live(sub)
    chosen = scope.frequency(every, every_period, sub.product)
    before = {"every": sub.every, "every_period": sub.every_period}
    if chosen.as_dict() == before:
        return sub
    sub.every, sub.every_period = chosen.every, chosen.period
    record(sub, "subscription.change_frequency", actor, before, chosen.as_dict())
    db.session.commit()
    return sub


def change_next_order_date(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    order_date: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """Move the subscription's next order to a date after today (merchant's calendar): the
    whole order when no other subscription shares it, else its item alone; merged with an
    order of the same customer, address and payment already on that date."""
    sub = scope.subscription(merchant_id, customer_id, public_id)
    scope.live(sub)
    if sub.paused:
        raise Conflict("The subscription is paused; resume it to choose a date.")
    when = scope.future_day(order_date, "order_date", merchant_id, now)
    order = upcoming_orders.held_current(sub)
    if order is None:
        raise Conflict("The subscription has no upcoming order.")
    if order.place_date == when:
        db.session.rollback()  # let go of the order: nothing to change
        return sub
    before = {"next_order_date": order.place_date.isoformat(), "order": order.public_id}
    dest = upcoming_orders.move(order, [sub], place_date=when, now=now or utcnow())
    after = {"next_order_date": when.isoformat(), "order": dest.public_id}
    if order.status == OrderStatus.MERGED:
        after["merged"] = order.public_id
    record(sub, "subscription.change_next_order_date", actor, before, after)
    db.session.commit()
    return sub


def change_product(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    product: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """Swap to another product of the same ``sku_swap`` group (it must exist and not be
    discontinued; the subscription must be live). The upcoming item follows, repriced; a price
    locked for the old product does not carry over."""
    sub = scope.subscription(merchant_id, customer_id, public_id)
    scope.live(sub)
    target = scope.product(merchant_id, product)
    _check_swap(sub, target)
    order = upcoming_orders.held_current(sub)
    before = {"product": sub.product.product_id, "price": sub.price_minor}
    sub.product = target
    sub.price_minor = None
    if order is not None and (item := upcoming_orders.item_of(order, sub)) is not None:
        item.product = target
        orders.reprice(order, now=now or utcnow())
    record(sub, "subscription.sku_swap", actor, before, {"product": target.product_id})
    db.session.commit()
    return sub


def _check_swap(sub: Subscription, target: Product) -> None:
    def problem(message: str) -> ValidationError:
        return ValidationError(message, fields={"product": message})

    if target.id == sub.product_id:
        raise problem("The subscription is already for this product.")
    if target.discontinued:
        raise problem("That product is discontinued.")
    if target.currency != sub.currency:
        raise problem(f"That product is sold in {target.currency}, not {sub.currency}.")
    own = {g.name for g in sub.product.groups if g.group_type == "sku_swap"}
    theirs = {g.name for g in target.groups if g.group_type == "sku_swap"}
    if not own & theirs:
        raise problem("The subscription can only swap to a product of its own swap group.")


def change_reminder_days(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    reminder_days: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """Days before an order its reminder email goes (at least 5; None: the merchant's)."""
    sub = scope.subscription(merchant_id, customer_id, public_id)
    scope.live(sub)
    days = scope.reminder_days(reminder_days)
    if days == sub.reminder_days:
        return sub
    before = {"reminder_days": sub.reminder_days}
    sub.reminder_days = days
    record(sub, "subscription.change_email_reminder", actor, before, {"reminder_days": days})
    db.session.commit()
    return sub


def record(
    sub: Subscription,
    type: str,
    actor: events.Actor,
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    order: Order | None = None,
) -> None:
    """The action's event on the subscription (``order``: the order it changed, in ``after``)."""
    if order is not None:
        after = {**after, "order": order.public_id, "order_status": order.status}
    events.record(
        sub.merchant_id,
        type,
        actor,
        object_type="subscription",
        object_id=sub.public_id,
        customer_id=sub.customer_id,
        before=before,
        after=after,
    )
