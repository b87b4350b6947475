"""Where a subscription ships and what pays for it: one of the customer's own addresses and
payment methods, for one subscription, for all the customer's live ones, or for one order.

A subscription's upcoming order follows it: the whole order when no other subscription
shares it, else its item alone, into an order of its own. An order that becomes identical to
another of the customer's (same date, address and payment) merges into it
(``upcoming_orders``). Each action takes the scope of ``subscriber_scope``; the address or
payment must be the customer's own (NotFound otherwise), records one event per subscription
or order changed and commits once. An upcoming order being placed refuses the change with
Conflict and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Address, Order, OrderStatus, PaymentMethod, Subscription
from app.models.types import utcnow
from app.services import events, upcoming_orders
from app.services import subscriber_scope as scope
from app.services.errors import Conflict
from app.services.subscription_actions import record


@dataclass(frozen=True)
class _Field:
    column: str  # on subscriptions and orders alike
    keyword: str  # of upcoming_orders.move and .retarget
    model: type  # Address or PaymentMethod
    lookup: Any  # subscriber_scope.address or .payment
    name: str  # in events and errors
    event: str  # the event type's suffix


SHIPPING = _Field(
    "shipping_address_id",
    "shipping_id",
    Address,
    scope.address,
    "shipping_address",
    "change_shipping_address",
)
PAYMENT = _Field(
    "payment_id", "payment_id", PaymentMethod, scope.payment, "payment", "change_payment"
)


def change_subscription_shipping(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    address: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """Ship the subscription to another of its customer's addresses."""
    return _subscription(SHIPPING, merchant_id, customer_id, public_id, address, actor, now)


def change_subscription_payment(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    payment: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """Pay for the subscription with another of its customer's payment methods."""
    return _subscription(PAYMENT, merchant_id, customer_id, public_id, payment, actor, now)


def use_address_for_all(
    merchant_id: int,
    customer_id: int | None,
    address: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> list[Subscription]:
    """Ship all the address's customer's live subscriptions there."""
    return _for_all(SHIPPING, merchant_id, customer_id, address, actor, now)


def use_payment_for_all(
    merchant_id: int,
    customer_id: int | None,
    payment: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> list[Subscription]:
    """Pay for all the payment method's customer's live subscriptions with it."""
    return _for_all(PAYMENT, merchant_id, customer_id, payment, actor, now)


def change_order_shipping(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    address: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Order:
    """Ship this one order elsewhere (its subscriptions keep their own address)."""
    return _order(SHIPPING, merchant_id, customer_id, public_id, address, actor, now)


def change_order_payment(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    payment: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Order:
    """Pay for this one order otherwise (its subscriptions keep their own payment)."""
    return _order(PAYMENT, merchant_id, customer_id, public_id, payment, actor, now)


# -- the three shapes ------------------------------------------------------------------------


def _subscription(
    field: _Field,
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    value: Any,
    actor: events.Actor,
    now: datetime | None,
) -> Subscription:
    sub = scope.subscription(merchant_id, customer_id, public_id)
    scope.live(sub)
    target = field.lookup(merchant_id, sub.customer_id, value)
    if getattr(sub, field.column) == target.id:
        return sub
    order = upcoming_orders.held_current(sub)
    _apply(field, [sub], order, target, actor, now or utcnow())
    db.session.commit()
    return sub


def _for_all(
    field: _Field,
    merchant_id: int,
    customer_id: int | None,
    value: Any,
    actor: events.Actor,
    now: datetime | None,
) -> list[Subscription]:
    target = field.lookup(merchant_id, customer_id, value)
    subs = list(
        db.session.scalars(
            select(Subscription)
            .where(
                Subscription.merchant_id == merchant_id,
                Subscription.customer_id == target.customer_id,
                Subscription.live.is_(True),
            )
            .order_by(Subscription.id)
        )
    )
    subs = [s for s in subs if getattr(s, field.column) != target.id]
    upcoming = [(sub, upcoming_orders.current(sub)) for sub in subs]
    if any(order is not None and order.status != OrderStatus.UNSENT for _, order in upcoming):
        raise Conflict(upcoming_orders.BEING_PLACED)
    groups: dict[int | None, tuple[Order | None, list[Subscription]]] = {}
    for sub, order in upcoming:  # each upcoming order once, with its subscriptions
        groups.setdefault(order.id if order else None, (order, []))[1].append(sub)
    now = now or utcnow()
    for order, group in groups.values():
        if order is not None:
            upcoming_orders.hold(order)  # refused: everything so far is rolled back
        _apply(field, group, order, target, actor, now)
    db.session.commit()
    return subs


def _apply(
    field: _Field,
    subs: list[Subscription],
    order: Order | None,
    target: Address | PaymentMethod,
    actor: events.Actor,
    now: datetime,
) -> None:
    """Point the subscriptions at ``target`` and move their items of the held ``order``."""
    befores = {sub.id: getattr(sub, field.column) for sub in subs}
    for sub in subs:
        setattr(sub, field.column, target.id)
    dest = None
    if order is not None and any(upcoming_orders.item_of(order, s) for s in subs):
        dest = upcoming_orders.move(order, subs, **{field.keyword: target.id}, now=now)
    for sub in subs:
        before = {field.name: _public(field, befores[sub.id])}
        after: dict[str, Any] = {field.name: target.public_id}
        if order is not None and order.status == OrderStatus.MERGED:
            after["merged"] = order.public_id
        record(sub, f"subscription.{field.event}", actor, before, after, order=dest)


def _order(
    field: _Field,
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    value: Any,
    actor: events.Actor,
    now: datetime | None,
) -> Order:
    order = scope.order(merchant_id, customer_id, public_id)
    target = field.lookup(merchant_id, order.customer_id, value)
    upcoming_orders.hold(order)
    if getattr(order, field.column) == target.id:
        db.session.rollback()
        return order
    before = {field.name: _public(field, getattr(order, field.column))}
    survivor = upcoming_orders.retarget(order, **{field.keyword: target.id}, now=now or utcnow())
    after: dict[str, Any] = {field.name: target.public_id}
    if survivor is not order:
        after.update(status=order.status, merged_order_id=survivor.public_id)
    events.record(
        order.merchant_id,
        f"order.{field.event}",
        actor,
        object_type="order",
        object_id=order.public_id,
        customer_id=order.customer_id,
        before=before,
        after=after,
    )
    db.session.commit()
    return order


def _public(field: _Field, row_id: int | None) -> str | None:
    """The public id of an address or payment method by row id (for the event)."""
    row = db.session.get(field.model, row_id) if row_id is not None else None
    return row.public_id if row else None
