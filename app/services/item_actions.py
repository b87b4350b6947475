"""What a subscriber (or staff, or the merchant's API) does to one item of an upcoming order:
change its quantity or product, remove it, add a one-time item, turn a one-time item into a
subscription (contracts §4.3). As in ``order_actions``: the scope of ``subscriber_scope``, the
order held first (an order being placed is refused with Conflict and nothing is written), one
event with ``before`` and ``after``, one commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.frequency import Frequency
from app.extensions import db
from app.models import Offer, Order, OrderItem, Product, Subscription
from app.models.types import utcnow
from app.services import events, orders, upcoming_orders
from app.services import subscriber_scope as scope
from app.services.errors import NotFound, ValidationError
from app.services.order_actions import default_offer, named_offer, promised_incentives
from app.services.subscription_actions import record as record_subscription


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
    scope.orderable(found, order)
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
    sub = new_subscription_in(order, found, promise, chosen, item.quantity, now)
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


def new_subscription_in(
    order: Order, product: Product, offer: Offer, chosen: Frequency, quantity: int, now: datetime
) -> Subscription:
    """A live subscription whose first order is ``order`` (its address and card), promised
    what ``offer`` advertises for the product today; flushed, for its id."""
    sub = Subscription(
        merchant_id=order.merchant_id,
        customer_id=order.customer_id,
        product_id=product.id,
        offer_id=offer.public_id,
        quantity=quantity,
        currency=order.currency,
        every=chosen.every,
        every_period=chosen.period,
        shipping_address_id=order.shipping_address_id,
        payment_id=order.payment_id,
        start_date=scope.today(order.merchant_id, now),
        iteration=0,
        extra_data={},
        incentive_ids=promised_incentives(order.merchant_id, offer, product, now),
        plan={},
    )
    db.session.add(sub)
    db.session.flush()
    return sub


def _held(item: OrderItem) -> Order:
    """The item's order, held; NotFound if the item left it meanwhile."""
    order = upcoming_orders.hold(item.order)
    if item not in order.items:
        db.session.rollback()
        raise NotFound()
    return order


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


def change_product(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    product: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> OrderItem:
    """Another product for a one-time item of this order (``PATCH /items/<id>/change_product/``):
    orderable (in stock, not discontinued) and in the order's currency. A subscription's item
    follows its subscription (``subscription_actions.change_product``, within its ``sku_swap``
    group), so it is refused here."""
    item = scope.item(merchant_id, customer_id, public_id)
    found = scope.product(merchant_id, product)
    if not item.one_time:
        message = "Swap the subscription's product instead (its swap group applies)."
        raise ValidationError(message, fields={"product": message})
    order = item.order
    scope.orderable(found, order)
    if found.id == item.product_id:
        return item
    order = _held(item)
    before = {"product": item.product.product_id}
    item.product = found
    orders.reprice(order, now=now or utcnow())
    _record_item(item, order, "item.change_product", actor, before, {"product": found.product_id})
    db.session.commit()
    return item
