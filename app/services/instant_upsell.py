"""Instant upsell (contracts §2.1 and §4.3, product §2): a signed-in subscriber adds a product
to their next upcoming order from its page, once or as a new subscription.

* ``next_order``: the order an upsell offers to add to: the customer's earliest upcoming order
  that may still be changed, in the product's currency.
* ``subscribe_in_order``: a new subscription whose first order is that upcoming order
  (``POST /subscriptions/iu/``). A one-time addition is ``item_actions.add_one_time_item``
  (``POST /items/iu/``); ``add`` is either, as the offer's buttons ask.
* ``views``: what the storefront shows instead of the standard offer, per ``<og-offer>``: at a
  location the merchant switched upsell on (``Merchant.upsell_locations``), for a product
  marked upsell-eligible that has a standard offer there, when such an order exists. Never
  cached: it names the customer's order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.domain.frequency import Frequency
from app.extensions import db
from app.models import Order, OrderItem, Subscription
from app.models.types import utcnow
from app.services import (
    events,
    item_actions,
    offer_views,
    order_actions,
    orders,
    shops,
    upcoming_orders,
)
from app.services import subscriber_scope as scope
from app.services.errors import ValidationError
from app.services.subscription_actions import record as record_subscription

KINDS = ("once", "subscribe")


@dataclass(frozen=True)
class UpsellView:
    """The upsell of one ``<og-offer>``: the standard offer's figures and the order."""

    offer: offer_views.OfferView  # product, prices, frequencies, copy
    order_id: str
    place_date: date

    @property
    def slot(self) -> offer_views.Slot:
        return self.offer.slot

    @property
    def date_label(self) -> str:
        return day_label(self.place_date)


def day_label(day: date) -> str:
    """ "February 1": how an order's date reads in the offer."""
    return f"{day:%B} {day.day}"


def next_order(merchant_id: int, customer_id: int, currency: str) -> Order | None:
    """The customer's earliest upcoming order an item may still be added to, in ``currency``."""
    return db.session.scalar(
        select(Order)
        .where(
            Order.merchant_id == merchant_id,
            Order.customer_id == customer_id,
            Order.currency == currency,
            *upcoming_orders.editable(),
        )
        .order_by(Order.place_date, Order.id)
        .limit(1)
    )


def views(
    context: offer_views.Context, customer_id: int, slots: Sequence[offer_views.Slot]
) -> dict[str, UpsellView]:
    """The upsell of each slot that gets one (see the module docstring), by slot key."""
    shop = context.shop
    wanted = [slot for slot in slots if slot.location in shop.upsell_locations]
    if not wanted or customer_id <= 0:
        return {}
    found = shops.catalog_products(shop, {slot.product_id for slot in wanted})
    by_currency: dict[str, Order | None] = {}
    shown = {}
    for slot in wanted:
        product = found.get(slot.product_id)
        if product is None or not product.upsell:
            continue
        offer = offer_views.view(context, product, slot)
        if offer is None:
            continue
        if product.currency not in by_currency:
            by_currency[product.currency] = next_order(shop.id, customer_id, product.currency)
        order = by_currency[product.currency]
        if order is not None:
            shown[slot.key] = UpsellView(
                offer=replace(offer, subscribed=False),
                order_id=order.public_id,
                place_date=order.place_date,
            )
    return shown


def add(
    merchant_id: int,
    customer_id: int,
    order: Any,
    product: Any,
    kind: Any,
    frequency: Any = None,
    *,
    offer: str | None,
    actor: events.Actor,
) -> OrderItem | Subscription:
    """What an upsell button does: ``kind`` "once" adds a one-time item, "subscribe" a new
    subscription every ``frequency`` (a code such as ``"4_2"``), to the order."""
    if kind == "once":
        return item_actions.add_one_time_item(
            merchant_id, customer_id, order, product, 1, offer=offer, actor=actor
        )
    if kind != "subscribe":
        raise ValidationError(
            "Add it once or as a subscription.", fields={"kind": "once or subscribe"}
        )
    try:
        chosen = Frequency.parse(frequency)
    except (TypeError, ValueError):
        raise ValidationError(
            "Please choose how often it ships.", fields={"frequency": "such as 4_2"}
        ) from None
    return subscribe_in_order(
        merchant_id,
        customer_id,
        order,
        product,
        chosen.every,
        chosen.period,
        offer=offer,
        actor=actor,
    )


def subscribe_in_order(
    merchant_id: int,
    customer_id: int | None,
    order_public_id: Any,
    product: Any,
    every: Any,
    every_period: Any,
    quantity: Any = 1,
    *,
    offer: Any = None,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """A new subscription to an orderable, subscription-eligible product whose first order
    (order number 1) is this upcoming order: the order's address and payment, the given
    frequency, the incentives the offer (else the merchant's default one) promises; its next
    order follows when this one places, as for ``item_actions.subscribe_item``."""
    order = scope.order(merchant_id, customer_id, order_public_id)
    found = scope.product(merchant_id, product)
    count = scope.quantity(quantity)
    chosen = scope.frequency(every, every_period, found)
    promise = order_actions.named_offer(merchant_id, offer) or order_actions.default_offer(
        merchant_id
    )
    scope.orderable(found, order, subscribing=True)
    now = now or utcnow()
    order = upcoming_orders.hold(order)
    sub = item_actions.new_subscription_in(order, found, promise, chosen, count, now)
    order.items.append(
        OrderItem(
            subscription_id=sub.id,
            product=found,
            quantity=count,
            offer_id=promise.public_id,
            cycle=1,
        )
    )
    orders.reprice(order, now=now)
    after = {
        "product": found.product_id,
        "quantity": count,
        **chosen.as_dict(),
        "offer": promise.public_id,
        "instant_upsell": True,
        "incentives": list(sub.incentive_ids),
    }
    record_subscription(sub, "subscription.create", actor, {}, after, order=order)
    db.session.commit()
    return sub


def added(result: OrderItem | Subscription) -> Mapping[str, Any]:
    """What the confirmation says of an upsell just added: the date, product and frequency."""
    if isinstance(result, Subscription):
        order = upcoming_orders.current(result)
        frequency = Frequency(result.every, result.every_period).span
        return {
            "date": day_label(order.place_date),
            "name": result.product.name,
            "every": frequency,
        }
    return {"date": day_label(result.order.place_date), "name": result.product.name, "every": None}
