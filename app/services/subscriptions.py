"""Subscriptions and their upcoming orders: creation at checkout, dates, the API shapes.

Dates are the merchant's calendar dates, moved on by ``app.domain.frequency.Frequency``.

Each subscription has exactly one upcoming order. Subscriptions created together with the same
date, shipping address and payment share one order, as Ordergroove merges them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.domain import money
from app.domain.frequency import Frequency
from app.extensions import db
from app.models import (
    Address,
    Customer,
    Merchant,
    Order,
    OrderItem,
    PaymentMethod,
    Product,
    Subscription,
)
from app.models.order import OrderStatus
from app.services import events, orders, pagination, pricing
from app.services.errors import NotFound


@dataclass(frozen=True)
class NewSubscription:
    product: Product
    quantity: int
    every: int
    every_period: int
    offer_id: str | None
    first_date: date
    extra_data: dict[str, Any]
    incentive_ids: tuple[str, ...] = ()
    subscription_type: str = "standard"
    plan: dict[str, Any] = field(default_factory=dict)
    unknown_offer: str | None = None  # an offer id the checkout named that is not the merchant's


def create_many(
    customer: Customer,
    items: Sequence[NewSubscription],
    *,
    start: date,
    shipping: Address | None,
    payment: PaymentMethod | None,
    merchant_order_id: str,
    session_id: str | None,
    currency: str,
    now: datetime,
    actor: events.Actor,
    incentives: Sequence[pricing.Terms],
) -> list[Subscription]:
    """Create the subscriptions and their first upcoming orders (merged by date), priced
    with ``incentives`` (the merchant's active ones)."""
    created = []
    for item in items:
        sub = Subscription(
            merchant_id=customer.merchant_id,
            customer_id=customer.id,
            product_id=item.product.id,
            offer_id=item.offer_id,
            quantity=item.quantity,
            currency=currency,
            every=item.every,
            every_period=item.every_period,
            shipping_address_id=shipping.id if shipping else None,
            payment_id=payment.id if payment else None,
            start_date=start,
            iteration=1,
            merchant_order_id=merchant_order_id,
            session_id=session_id,
            extra_data=item.extra_data,
            incentive_ids=list(item.incentive_ids),
            subscription_type=item.subscription_type,
            plan=item.plan,
        )
        sub.product = item.product
        db.session.add(sub)
        created.append(sub)
    db.session.flush()
    orders: dict[date, Order] = {}
    joined: list[Order] = []  # earlier checkouts' upcoming orders these subscriptions join
    for sub, item in zip(created, items, strict=True):
        order = orders.get(item.first_date) or _unsent_order(sub, item.first_date)
        if order is not None and order.id is not None and order not in joined:
            joined.append(order)
        if order is None:
            order = Order(
                merchant_id=customer.merchant_id,
                customer_id=customer.id,
                shipping_address_id=sub.shipping_address_id,
                payment_id=sub.payment_id,
                place_date=item.first_date,
                status=OrderStatus.UNSENT,
                currency=currency,
            )
            db.session.add(order)
        orders[item.first_date] = order
        order.items.append(
            OrderItem(
                subscription_id=sub.id,
                product=item.product,
                offer_id=sub.offer_id,
                quantity=sub.quantity,
                cycle=sub.iteration + 1,
            )
        )
    for order in orders.values():
        reprice(order, incentives, now=now)
    db.session.flush()
    for sub, item in zip(created, items, strict=True):
        after = _created(sub)
        if item.unknown_offer:
            after["unknown_offer"] = item.unknown_offer
        events.record(
            customer.merchant_id,
            "subscription.create",
            actor,
            object_type="subscription",
            object_id=sub.public_id,
            customer_id=customer.id,
            after=after,
        )
    for order in orders.values():
        if order in joined:
            events.record(
                customer.merchant_id,
                "item.create",
                actor,
                object_type="order",
                object_id=order.public_id,
                customer_id=customer.id,
                after={
                    "place": order.place_date.isoformat(),
                    "items": len(order.items),
                    "total": order.total_minor,
                },
            )
            continue
        events.record(
            customer.merchant_id,
            "order.create",
            actor,
            object_type="order",
            object_id=order.public_id,
            customer_id=customer.id,
            after={
                "place": order.place_date.isoformat(),
                "status": order.status,
                "total": order.total_minor,
                "items": len(order.items),
            },
        )
    return created


def _unsent_order(sub: Subscription, when: date) -> Order | None:
    """An upcoming order of the same customer, date, address and payment (an earlier
    checkout's): items due together ship together."""
    return db.session.scalar(
        select(Order)
        .where(
            Order.merchant_id == sub.merchant_id,
            Order.customer_id == sub.customer_id,
            Order.place_date == when,
            Order.status == OrderStatus.UNSENT,
            Order.shipping_address_id == sub.shipping_address_id,
            Order.payment_id == sub.payment_id,
        )
        .limit(1)
    )


def _created(sub: Subscription) -> dict[str, Any]:
    """What the event log keeps of a new subscription."""
    return {
        "product": sub.product.product_id,
        "quantity": sub.quantity,
        "every": sub.every,
        "every_period": sub.every_period,
        "offer": sub.offer_id,
        "start_date": sub.start_date.isoformat(),
        "merchant_order_id": sub.merchant_order_id,
        "incentives": list(sub.incentive_ids or []),
    }


def reprice(order: Order, incentives: Sequence[pricing.Terms], *, now: datetime) -> None:
    """Price the order's items with the one pricing function (see ``orders.quote``)."""
    orders.reprice(order, now=now, incentives=incentives)


# -- reading ------------------------------------------------------------------------------


def get(merchant_id: int, public_id: str) -> Subscription:
    sub = db.session.scalar(
        select(Subscription).where(
            Subscription.merchant_id == merchant_id, Subscription.public_id == public_id
        )
    )
    if sub is None:
        raise NotFound()
    return sub


LIST_STATUSES = {"active": (True, False), "paused": (True, True), "cancelled": (False, None)}


def page(
    merchant_id: int,
    *,
    customer_id: int | None,
    request: pagination.PageRequest,
    status: str | None = None,
    updated_start: datetime | None = None,
    updated_end: datetime | None = None,
) -> pagination.Page[Subscription]:
    """The merchant's subscriptions (of one customer when given), oldest first, a page;
    ``status`` one of ``LIST_STATUSES``, ``updated_*`` bounds on when each last changed."""
    query = select(Subscription).where(Subscription.merchant_id == merchant_id)
    if customer_id is not None:
        query = query.where(Subscription.customer_id == customer_id)
    if status is not None:
        live, paused = LIST_STATUSES[status]
        query = query.where(Subscription.live.is_(live))
        if paused is not None:
            query = query.where(Subscription.paused.is_(paused))
    if updated_start is not None:
        query = query.where(Subscription.updated_at >= updated_start)
    if updated_end is not None:
        query = query.where(Subscription.updated_at <= updated_end)
    return pagination.paginate(
        query, Subscription.id, scope=f"subscriptions:{merchant_id}", request=request
    )


def for_customer(merchant_id: int, customer_id: int) -> list[Subscription]:
    query = (
        select(Subscription)
        .where(Subscription.merchant_id == merchant_id, Subscription.customer_id == customer_id)
        .order_by(Subscription.id)
    )
    return list(db.session.scalars(query))


# The statuses of a subscription's next order: not yet out, or out again at the next run.
UPCOMING = (
    OrderStatus.UNSENT,
    OrderStatus.SEND_NOW,
    OrderStatus.CREDIT_CARD_RETRY,
    OrderStatus.GENERIC_ERROR,
)


def upcoming_order(sub: Subscription) -> Order | None:
    """The subscription's one unsent order."""
    query = (
        select(Order)
        .join(OrderItem)
        .where(OrderItem.subscription_id == sub.id, Order.status.in_(UPCOMING))
        .order_by(Order.place_date)
        .limit(1)
    )
    return db.session.scalar(query)


def get_order(merchant_id: int, public_id: str) -> Order:
    order = db.session.scalar(
        select(Order).where(Order.merchant_id == merchant_id, Order.public_id == public_id)
    )
    if order is None:
        raise NotFound()
    return order


def _money(minor: int | None, currency: str) -> str | None:
    return None if minor is None else money.decimal_string(minor, currency)


def subscription_dict(sub: Subscription) -> dict[str, Any]:
    """The subscription object of contracts §4.3 (money as decimal strings)."""
    return {
        "public_id": sub.public_id,
        "merchant": db.session.get(Merchant, sub.merchant_id).public_id,
        "customer": sub.customer.merchant_user_id,
        "product": sub.product.product_id,
        "payment": sub.payment.public_id if sub.payment else None,
        "shipping_address": sub.shipping_address.public_id if sub.shipping_address else None,
        "offer": sub.offer_id,
        "subscription_type": sub.subscription_type,
        "components": (sub.plan or {}).get("components", []),
        "multi_item_bundle_components": (sub.plan or {}).get("bundle", []),
        "extra_data": sub.extra_data or {},
        "quantity": sub.quantity,
        "price": _money(sub.price_minor, sub.currency),
        "frequency_days": Frequency(sub.every, sub.every_period).days,
        "reminder_days": sub.reminder_days,
        "every": sub.every,
        "every_period": sub.every_period,
        "start_date": sub.start_date.isoformat(),
        "cancelled": sub.cancelled_at.isoformat() if sub.cancelled_at else None,
        "cancel_reason": sub.cancel_reason,
        "cancel_reason_code": sub.cancel_reason_code,
        "iteration": sub.iteration,
        "session_id": sub.session_id,
        "merchant_order_id": sub.merchant_order_id,
        "incentives": {"ongoing": list(sub.incentive_ids or [])},
        # Perennial's addition: the date of the one upcoming order, the merchant's calendar.
        "next_order_date": _next_order_date(sub),
        "created": sub.created_at.isoformat() if sub.created_at else None,
        "updated": sub.updated_at.isoformat() if sub.updated_at else None,
        "live": sub.live,
        "prepaid_subscription_context": {
            "orders_per_billing": sub.plan.get("orders_per_billing"),
            "renewal_behavior": sub.plan.get("renewal_behavior"),
        }
        if sub.subscription_type == "prepaid" and sub.plan
        else None,
        "currency_code": sub.currency,
    }


def _next_order_date(sub: Subscription) -> str | None:
    order = upcoming_order(sub) if sub.id is not None else None
    return order.place_date.isoformat() if order else None


def order_dict(order: Order) -> dict[str, Any]:
    """The order object of contracts §4.3, with its items."""
    currency = order.currency
    return {
        "public_id": order.public_id,
        "customer": order.customer.merchant_user_id,
        "payment": order.payment.public_id if order.payment else None,
        "shipping_address": order.shipping_address.public_id if order.shipping_address else None,
        "sub_total": _money(order.sub_total_minor, currency),
        "tax_total": _money(order.tax_total_minor, currency),
        "shipping_total": _money(order.shipping_total_minor, currency),
        "discount_total": _money(order.discount_total_minor, currency),
        "total": _money(order.total_minor, currency),
        "currency_code": currency,
        "place": f"{order.place_date.isoformat()} 00:00:00",
        "status": order.status,
        "tries": order.tries,
        "order_merchant_id": order.order_merchant_id,
        "rejected_message": order.rejected_message,
        "extra_data": order.extra_data or {},
        "locked": order.locked,
        "created": order.created_at.isoformat() if order.created_at else None,
        "updated": order.updated_at.isoformat() if order.updated_at else None,
        "items": [
            {
                "public_id": item.public_id,
                "subscription": _sub_public_id(item.subscription_id),
                "product": item.product.product_id,
                "offer": item.offer_id,
                "quantity": item.quantity,
                "price": _money(item.price_minor, currency),
                "extra_cost": _money(item.extra_cost_minor, currency),
                "total_price": _money(item.total_price_minor, currency),
                "one_time": item.one_time,
            }
            for item in order.items
        ],
    }


def _sub_public_id(subscription_id: int | None) -> str | None:
    if subscription_id is None:
        return None
    sub = db.session.get(Subscription, subscription_id)
    return sub.public_id if sub else None
