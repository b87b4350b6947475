"""What a subscriber (or staff, or the merchant's API) does to an upcoming order and its items.

Move the order's date, skip one subscription's item or the whole order, send it now, and per
item: change its quantity, remove it, add a one-time item, turn a one-time item into a
subscription (contracts §4.3, T10). Each action takes the scope of ``subscriber_scope``,
holds the order first (``upcoming_orders.hold``: an order being placed is refused with
Conflict and nothing is written), records one event with ``before`` and ``after`` and commits
once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.domain.frequency import Frequency
from app.extensions import db
from app.models import Offer, Order, OrderItem, OrderStatus, Product, Subscription
from app.models.offer import DEFAULT_LOCATION
from app.models.types import utcnow
from app.services import events, offer_views, orders, pricing, upcoming_orders
from app.services import subscriber_scope as scope
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.subscription_actions import record as record_subscription


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


def change_item_quantity(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    quantity: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> OrderItem:
    """This order's quantity of the item (1 to ``MAX_QUANTITY``); its subscription keeps its
    own quantity for later orders."""
    item = scope.item(merchant_id, customer_id, public_id)
    new = scope.quantity(quantity)
    order = _held(item)
    before = {"quantity": item.quantity}
    item.quantity = new
    orders.reprice(order, now=now or utcnow())
    _record_item(item, order, "item.change_quantity", actor, before, {"quantity": new})
    db.session.commit()
    return item


def remove_item(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Order:
    """Take the item out of this shipment. A one-time item is gone; a live subscription's
    item leaves for its next order, as a skip. Removing the last item cancels the order, not
    the subscription."""
    item = scope.item(merchant_id, customer_id, public_id)
    order = _held(item)
    now = now or utcnow()
    sub = db.session.get(Subscription, item.subscription_id) if item.subscription_id else None
    before = {"order": order.public_id, "product": item.product.product_id}
    after: dict[str, Any] = {"order": None}
    if item.one_time or sub is None or not sub.live:
        upcoming_orders.take_out(order, [item], now=now)
    else:
        when = Frequency(sub.every, sub.every_period).next_date(order.place_date)
        dest = upcoming_orders.put(
            order, [item], when, sub.shipping_address_id, sub.payment_id, now=now
        )
        after = {"order": dest.public_id, "next": when.isoformat()}
    after["order_status"] = order.status
    _record_item(item, order, "item.remove", actor, before, after)
    db.session.commit()
    return order


def add_one_time_item(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    product: Any,
    quantity: Any = 1,
    *,
    offer: Any = None,
    actor: events.Actor,
    now: datetime | None = None,
) -> OrderItem:
    """Add a one-time item (``one_time``; Instant Upsell) of an orderable product (in stock,
    not discontinued, in the order's currency) to the upcoming order."""
    order = scope.order(merchant_id, customer_id, public_id)
    found = scope.product(merchant_id, product)
    count = scope.quantity(quantity)
    chosen = named_offer(merchant_id, offer)
    problem = None
    if found.discontinued or not found.in_stock:
        problem = "That product cannot be ordered now."
    elif found.currency != order.currency:
        problem = f"That product is sold in {found.currency}, not {order.currency}."
    if problem:
        raise ValidationError(problem, fields={"product": problem})
    upcoming_orders.hold(order)
    item = OrderItem(
        product=found,
        quantity=count,
        one_time=True,
        offer_id=chosen.public_id if chosen else None,
    )
    order.items.append(item)
    orders.reprice(order, now=now or utcnow())
    db.session.flush()
    after = {"product": found.product_id, "quantity": count, "one_time": True}
    _record_item(item, order, "item.create", actor, {}, after)
    db.session.commit()
    return item


def subscribe_item(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    every: Any,
    every_period: Any,
    *,
    offer: Any = None,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """Turn a one-time item into a subscription (``create_from_item``): this order is its first
    (order number 1), with the order's address and payment, the given frequency and the
    incentives the offer (else the merchant's default one) promises, as at checkout."""
    item = scope.item(merchant_id, customer_id, public_id)
    if not item.one_time:
        message = "Only a one-time item can become a subscription."
        raise ValidationError(message, fields={"item": message})
    found = db.session.get(Product, item.product_id)
    if not found.subscription_eligible:
        message = "That product cannot be subscribed to."
        raise ValidationError(message, fields={"item": message})
    chosen = scope.frequency(every, every_period, found)
    promise = named_offer(merchant_id, offer) or default_offer(merchant_id)
    order = _held(item)
    now = now or utcnow()
    sub = Subscription(
        merchant_id=merchant_id,
        customer_id=order.customer_id,
        product_id=found.id,
        offer_id=promise.public_id,
        quantity=item.quantity,
        currency=order.currency,
        every=chosen.every,
        every_period=chosen.period,
        shipping_address_id=order.shipping_address_id,
        payment_id=order.payment_id,
        start_date=scope.today(merchant_id, now),
        iteration=0,
        extra_data={},
        incentive_ids=promised_incentives(merchant_id, promise, found, now),
        plan={},
    )
    db.session.add(sub)
    db.session.flush()
    item.one_time, item.subscription_id, item.cycle = False, sub.id, 1
    item.offer_id = promise.public_id
    orders.reprice(order, now=now)
    after = {
        "product": found.product_id,
        "quantity": sub.quantity,
        **chosen.as_dict(),
        "offer": promise.public_id,
        "from_item": item.public_id,
        "incentives": list(sub.incentive_ids),
    }
    record_subscription(sub, "subscription.create", actor, {}, after, order=order)
    db.session.commit()
    return sub


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


def _held(item: OrderItem) -> Order:
    """The item's order, held; NotFound if the item left it meanwhile."""
    order = upcoming_orders.hold(item.order)
    if item not in order.items:
        db.session.rollback()
        raise NotFound()
    return order


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


def _record_item(
    item: OrderItem,
    order: Order,
    type: str,
    actor: events.Actor,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    events.record(
        order.merchant_id,
        type,
        actor,
        object_type="item",
        object_id=item.public_id,
        customer_id=order.customer_id,
        before=before,
        after={"order": order.public_id, **after},
    )
