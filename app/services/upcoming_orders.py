"""Changing upcoming orders without racing their placement: hold, move, merge, take out.

An order may be changed only while it is UNSENT and unclaimed: placement claims a due order
with a conditional UPDATE (``placement_ready.get_ready``) that makes it PENDING_PLACEMENT with
a lease token, and SEND_NOW means it is queued for the next run. So an action first **holds**
the order with a conditional UPDATE of its own (``claims.take``): UNSENT, no lease token, not
locked. Exactly one of the two wins; the row stays locked until the action commits, and a
claim that waited on it sees the order as the action left it (a new date, say, no longer due).
An order that is no longer UNSENT is refused with Conflict ("the order is being placed").

Orders of one customer due the same day with the same shipping address and payment are one
order (as ``next_orders`` and checkout make them): an order moved onto another's
date, address or card **merges** into it (its items move there; it becomes MERGED with
``extra_data.merged_order_id``). An order left without items is CANCELLED.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select

from app.extensions import db
from app.models import Order, OrderItem, OrderStatus, Subscription
from app.models.types import new_public_id, utcnow
from app.services import claims, orders
from app.services.errors import Conflict

# Settled orders: they hold no upcoming item of anyone.
SETTLED = (OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.SUCCESS, OrderStatus.MERGED)
BEING_PLACED = "The order is being placed; it can no longer be changed."


def editable() -> tuple[ColumnElement[bool], ...]:
    """SQL for "an action may change this order"."""
    return (
        Order.status == OrderStatus.UNSENT,
        Order.lease_token.is_(None),
        Order.locked.is_(False),
    )


def hold(order: Order) -> Order:
    """Lock the order for this transaction if it may still be changed, and read it again as
    the lock found it; Conflict (rolled back) otherwise."""
    if not claims.take(Order, order.id, *editable(), updated_at=utcnow()):
        db.session.rollback()
        db.session.refresh(order)
        if order.status in SETTLED:
            name = OrderStatus(order.status).name.lower()
            raise Conflict(f"The order is {name}; it can no longer be changed.")
        raise Conflict(BEING_PLACED)
    return _reread(order)


def _reread(order: Order) -> Order:
    """The held order and its items as the lock found them, not as this session last saw
    them."""
    db.session.expire(order)
    db.session.scalars(
        select(OrderItem)
        .where(OrderItem.order_id == order.id)
        .execution_options(populate_existing=True)
    ).all()
    return order


def current(sub: Subscription) -> Order | None:
    """The subscription's order not yet settled (its upcoming one, or one being placed)."""
    return db.session.scalar(
        select(Order)
        .join(OrderItem)
        .where(OrderItem.subscription_id == sub.id, Order.status.not_in(SETTLED))
        .order_by(Order.place_date, Order.id)
        .limit(1)
    )


def held_current(sub: Subscription) -> Order | None:
    """``current``, held; Conflict if it is being placed. None: the subscription has no
    upcoming order (paused, or cancelled). One query finds both: any unsettled order of the
    subscription past UNSENT means it is being placed."""
    unsettled = db.session.scalars(
        select(Order)
        .join(OrderItem)
        .where(OrderItem.subscription_id == sub.id, Order.status.not_in(SETTLED))
        .order_by(Order.place_date, Order.id)
    ).all()
    if any(order.status != OrderStatus.UNSENT for order in unsettled):
        raise Conflict(BEING_PLACED)
    return hold(unsettled[0]) if unsettled else None


def item_of(order: Order, sub: Subscription) -> OrderItem | None:
    return next((i for i in order.items if i.subscription_id == sub.id), None)


def next_cycle(sub: Subscription) -> int:
    """The order number a new item of the subscription takes (after every one it has had)."""
    highest = db.session.scalar(
        select(func.max(OrderItem.cycle)).where(OrderItem.subscription_id == sub.id)
    )
    return max(sub.iteration or 0, highest or 0) + 1


# -- moving ----------------------------------------------------------------------------------


def twin(
    merchant_id: int,
    customer_id: int,
    place_date: date,
    shipping_id: int | None,
    payment_id: int | None,
    *,
    besides: int | None = None,
) -> Order | None:
    """A changeable order of the customer on that date, address and payment (other than
    ``besides``), held; None when there is none (or the one there is being placed now)."""
    query = select(Order.id).where(
        Order.merchant_id == merchant_id,
        Order.customer_id == customer_id,
        Order.place_date == place_date,
        Order.shipping_address_id == shipping_id,
        Order.payment_id == payment_id,
        *editable(),
    )
    if besides is not None:
        query = query.where(Order.id != besides)
    for order_id in db.session.scalars(query.order_by(Order.id)).all():
        if claims.take(Order, order_id, *editable(), updated_at=utcnow()):
            return _reread(db.session.get(Order, order_id))
    return None


def destination(
    like: Order | Subscription,
    place_date: date,
    shipping_id: int | None,
    payment_id: int | None,
    *,
    besides: int | None = None,
) -> Order:
    """The held twin there, or a new order (for ``like``'s customer, in its currency)."""
    found = twin(
        like.merchant_id, like.customer_id, place_date, shipping_id, payment_id, besides=besides
    )
    if found is not None:
        return found
    made = Order(
        public_id=new_public_id(),  # now, for the caller's event
        merchant_id=like.merchant_id,
        customer_id=like.customer_id,
        shipping_address_id=shipping_id,
        payment_id=payment_id,
        place_date=place_date,
        status=OrderStatus.UNSENT,
        currency=like.currency,
        extra_data={},
    )
    db.session.add(made)
    return made


def retarget(
    order: Order,
    *,
    place_date: date | None = None,
    shipping_id: int | None = None,
    payment_id: int | None = None,
    now: datetime,
) -> Order:
    """Give the held order a new date, address or payment (each None: kept), merging it into
    a twin there; the order the items are in afterwards, repriced."""
    if place_date is not None:
        order.place_date = place_date
    if shipping_id is not None:
        order.shipping_address_id = shipping_id
    if payment_id is not None:
        order.payment_id = payment_id
    db.session.flush()
    survivor = twin(
        order.merchant_id,
        order.customer_id,
        order.place_date,
        order.shipping_address_id,
        order.payment_id,
        besides=order.id,
    )
    if survivor is None:
        orders.reprice(order, now=now)
        return order
    for moved in list(order.items):
        moved.order = survivor
    order.status = OrderStatus.MERGED
    order.extra_data = {**(order.extra_data or {}), "merged_order_id": survivor.public_id}
    orders.reprice(survivor, now=now)
    return survivor


def move(
    order: Order,
    subs: Sequence[Subscription],
    *,
    place_date: date | None = None,
    shipping_id: int | None = None,
    payment_id: int | None = None,
    now: datetime,
) -> Order:
    """Move the subscriptions' items of the held order to that date, address or payment.
    When no other subscription's item stays behind, the whole order moves (its one-time
    items go with it); otherwise their items leave for an order of their own there. The order
    they end up in, repriced."""
    ids = {sub.id for sub in subs}
    staying = [i for i in order.items if i.subscription_id and i.subscription_id not in ids]
    if not staying:
        return retarget(
            order, place_date=place_date, shipping_id=shipping_id, payment_id=payment_id, now=now
        )
    leaving = [i for i in order.items if i.subscription_id in ids]
    return put(
        order,
        leaving,
        place_date if place_date is not None else order.place_date,
        shipping_id if shipping_id is not None else order.shipping_address_id,
        payment_id if payment_id is not None else order.payment_id,
        now=now,
    )


def put(
    order: Order,
    items: Iterable[OrderItem],
    place_date: date,
    shipping_id: int | None,
    payment_id: int | None,
    *,
    now: datetime,
) -> Order:
    """Take the items out of the held order into a twin on that date, address and payment, or
    a new order there; both repriced (the first cancelled if left empty)."""
    items = list(items)
    dest = destination(order, place_date, shipping_id, payment_id, besides=order.id)
    for moved in items:
        moved.order = dest
    orders.reprice(dest, now=now)
    settle(order, now=now)
    return dest


def add(sub: Subscription, when: date, *, now: datetime) -> Order:
    """A new item of the subscription (its next cycle) in its order on ``when``: a twin of its
    address and payment there, or a new order. Repriced; the caller commits."""
    dest = destination(sub, when, sub.shipping_address_id, sub.payment_id)
    dest.items.append(
        OrderItem(
            subscription_id=sub.id,
            product_id=sub.product_id,
            offer_id=sub.offer_id,
            quantity=sub.quantity,
            cycle=next_cycle(sub),
        )
    )
    orders.reprice(dest, now=now)
    return dest


def take_out(order: Order, items: Iterable[OrderItem], *, now: datetime) -> None:
    """Delete the items from the held order (cancelled when none is left, else repriced)."""
    for gone in list(items):
        order.items.remove(gone)
    settle(order, now=now)


def settle(order: Order, *, now: datetime) -> None:
    """After items left the held order: CANCELLED when empty, else repriced."""
    db.session.flush()
    db.session.expire(order, ["items"])
    if not order.items:
        order.status = OrderStatus.CANCELLED
    else:
        orders.reprice(order, now=now)


def summary(order: Order) -> dict:
    """What an event keeps of an order an action changed."""
    return {
        "order": order.public_id,
        "place": order.place_date.isoformat(),
        "status": order.status,
        "total": order.total_minor,
    }
