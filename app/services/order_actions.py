"""What a subscriber (or staff, or the merchant's API) does to an upcoming order.

Move the order's date, skip one subscription's item or the whole order, send it now
(contracts §4.3, T10); what is done to one item of an order is ``item_actions``. Each action
takes the scope of ``subscriber_scope``, holds the order first (``upcoming_orders.hold``: an
order being placed is refused with Conflict and nothing is written), records one event with
``before`` and ``after`` and commits once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.domain.frequency import Frequency
from app.extensions import db
from app.models import Offer, Order, OrderStatus, Product, Subscription
from app.models.offer import DEFAULT_LOCATION
from app.models.types import utcnow
from app.services import events, offer_views, orders, pricing, upcoming_orders
from app.services import subscriber_scope as scope
from app.services.errors import Conflict, ValidationError


def change_place_date(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    place: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Order:
    """Move the whole order to a date after today. On an order of the same customer, address
    and payment already there, it merges into that one: it becomes MERGED with
    ``extra_data.merged_order_id`` and the other, repriced, holds its items."""
    order = scope.order(merchant_id, customer_id, public_id)
    when = scope.future_day(place, "place", merchant_id, now)
    upcoming_orders.hold(order)
    if order.place_date == when:
        db.session.rollback()
        return order
    before = {"place": order.place_date.isoformat()}
    survivor = upcoming_orders.retarget(order, place_date=when, now=now or utcnow())
    after: dict[str, Any] = {"place": when.isoformat()}
    if survivor is not order:
        after.update(status=order.status, merged_order_id=survivor.public_id)
    _record(order, "order.change_next_order_date", actor, before, after)
    db.session.commit()
    return order


def skip_subscription(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    subscription: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Order:
    """Skip one subscription in this order: its item leaves for its next order, this order's
    date plus its frequency (whatever today is). The order is cancelled if nothing is left."""
    order = scope.order(merchant_id, customer_id, public_id)
    sub = scope.subscription(merchant_id, order.customer_id, subscription)
    upcoming_orders.hold(order)
    item = upcoming_orders.item_of(order, sub)
    if item is None:
        db.session.rollback()
        message = "That subscription is not in this order."
        raise ValidationError(message, fields={"subscription": message})
    when = Frequency(sub.every, sub.every_period).next_date(order.place_date)
    before = {"status": order.status, "items": len(order.items)}
    dest = upcoming_orders.put(
        order, [item], when, sub.shipping_address_id, sub.payment_id, now=now or utcnow()
    )
    after = {
        "status": order.status,
        "items": len(order.items),
        "subscription": sub.public_id,
        "next": when.isoformat(),
        "next_order": dest.public_id,
    }
    _record(order, "order.skip_order", actor, before, after)
    db.session.commit()
    return order


def cancel_order(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Order:
    """Skip the whole order: it is cancelled, its one-time items with it, and each live
    subscription in it gets its next order at this order's date plus its frequency."""
    order = scope.order(merchant_id, customer_id, public_id)
    upcoming_orders.hold(order)
    now = now or utcnow()
    before = {"status": order.status, "items": len(order.items)}
    moved: dict[str, str] = {}
    for item in list(order.items):
        sub = db.session.get(Subscription, item.subscription_id) if item.subscription_id else None
        if item.one_time or sub is None or not sub.live:
            order.items.remove(item)
            continue
        when = Frequency(sub.every, sub.every_period).next_date(order.place_date)
        dest = upcoming_orders.destination(
            order, when, sub.shipping_address_id, sub.payment_id, besides=order.id
        )
        item.order = dest
        orders.reprice(dest, now=now)
        moved[sub.public_id] = when.isoformat()
    upcoming_orders.settle(order, now=now)
    after = {"status": order.status, "items": 0, "next": moved}
    _record(order, "order.cancel", actor, before, after)
    db.session.commit()
    return order


def send_now(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Order:
    """Queue the order for the next placement run (status SEND_NOW; no more edits); its
    subscriptions' following orders count from the day it is placed (``next_orders``).
    Subscribers send only upcoming orders; staff may also send one waiting for a retry
    (``orders.act``)."""
    order = scope.order(merchant_id, customer_id, public_id)
    if customer_id is not None and (order.status != OrderStatus.UNSENT or order.lease_token):
        raise Conflict(upcoming_orders.BEING_PLACED)
    return orders.act(merchant_id, order.public_id, "send_now", actor=actor)


# -- items -----------------------------------------------------------------------------------


def promised_incentives(
    merchant_id: int, offer: Offer, product: Product, now: datetime
) -> list[str]:
    """The ongoing incentives the offer promises for the product (as ``purchases`` decides
    them at checkout)."""
    live = pricing.active_incentives(merchant_id, now)
    return [
        t.public_id
        for t in offer_views.advertised_incentives(live, offer, pricing.line_for(product))
        if t.applies_to != "initial" and (t.max_order_number is None or t.max_order_number >= 2)
    ]


def named_offer(merchant_id: int, public_id: Any) -> Offer | None:
    """The merchant's offer with this public id; None when none is named; ValidationError
    (field ``offer``) when it is no offer of the merchant's."""
    if public_id in (None, ""):
        return None
    found = None
    if isinstance(public_id, str) and len(public_id) <= 32:
        found = db.session.scalar(
            select(Offer).where(Offer.merchant_id == merchant_id, Offer.public_id == public_id)
        )
    if found is None:
        raise ValidationError("There is no such offer.", fields={"offer": "unknown offer"})
    return found


def default_offer(merchant_id: int) -> Offer:
    """The merchant's default offer: what an action that names none promises."""
    return db.session.scalar(
        select(Offer).where(Offer.merchant_id == merchant_id, Offer.location == DEFAULT_LOCATION)
    )


def _record(
    order: Order, type: str, actor: events.Actor, before: dict[str, Any], after: dict[str, Any]
) -> None:
    events.record(
        order.merchant_id,
        type,
        actor,
        object_type="order",
        object_id=order.public_id,
        customer_id=order.customer_id,
        before=before,
        after=after,
    )
