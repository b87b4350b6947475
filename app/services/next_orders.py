"""What follows a settled order: each subscription counts it, and gets its next order.

``advance`` is called once an order is decided (placed, rejected, confirmed by staff or by
the store's ``/order/verify``). The next order is made at place date + frequency (calendar
months and years, end-of-month safe; from today after "send now"), merged with an unsent order
of the same customer, date, address and card. The key on (subscription, cycle) makes it happen
once: around each next order a savepoint catches a second attempt, except where the caller
applies a reply ``unguarded`` (``placement_outcomes.apply``), which asks first which exist
and, should another transaction make one meanwhile, applies everything again guarded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from app.domain.frequency import Frequency
from app.extensions import db
from app.models import Merchant, Order, OrderItem, Subscription
from app.services import orders

_UNGUARDED: ContextVar[bool] = ContextVar("unguarded", default=False)


@contextmanager
def unguarded() -> Iterator[None]:
    """Next orders made inside are made without a savepoint each (see the module docstring):
    the caller applies everything again if the key on (subscription, cycle) refuses one."""
    token = _UNGUARDED.set(True)
    try:
        yield
    finally:
        _UNGUARDED.reset(token)


def advance(
    order: Order, now: datetime, *, placed: bool = True, commit: bool = True
) -> list[Order]:
    """After an order is settled: each subscription counts it if it was ``placed``, and gets
    its next order (merged by date, shipping address and payment), placed or rejected alike.
    The (subscription, cycle) key makes this happen once. ``commit=False``: the caller commits
    it with the decision."""
    merchant = db.session.get(Merchant, order.merchant_id)
    base = order.place_date
    if (order.extra_data or {}).get("send_now"):
        base = now.astimezone(merchant.tz).date()  # "send now": the next one counts from today
    upcoming: dict[tuple, list[tuple[Subscription, OrderItem]]] = defaultdict(list)
    for item in order.items:
        if item.one_time or item.subscription_id is None or item.cycle is None:
            continue
        with db.session.no_autoflush:  # what is pending is written with the next order
            sub = _counted(item) if placed else _fresh(item.subscription_id)
        if not sub.live:
            continue
        when = Frequency(sub.every, sub.every_period).next_date(base)
        upcoming[(when, sub.shipping_address_id, sub.payment_id)].append((sub, item))
    made = []
    if _UNGUARDED.get():  # see apply: the cycles made already are left out beforehand
        made_already = _next_cycles_made(upcoming)
        for (when, shipping, payment), pairs in upcoming.items():
            pairs = [(s, i) for s, i in pairs if (s.id, i.cycle + 1) not in made_already]
            if pairs:
                made.append(orders.create_upcoming(order, when, shipping, payment, pairs, now=now))
    else:
        for (when, shipping, payment), pairs in upcoming.items():
            try:
                with db.session.begin_nested():
                    made.append(
                        orders.create_upcoming(order, when, shipping, payment, pairs, now=now)
                    )
            except IntegrityError:  # that cycle's order exists already: nothing to do twice
                continue
    if commit:
        db.session.commit()
    return made


def _next_cycles_made(upcoming: dict[tuple, list[tuple[Subscription, OrderItem]]]) -> set:
    """Which (subscription, next cycle) of these have an order item already."""
    wanted = {(sub.id, item.cycle + 1) for pairs in upcoming.values() for sub, item in pairs}
    if not wanted:
        return set()
    with db.session.no_autoflush:
        rows = db.session.execute(
            select(OrderItem.subscription_id, OrderItem.cycle).where(
                OrderItem.subscription_id.in_({sub for sub, _ in wanted}),
                OrderItem.cycle.in_({cycle for _, cycle in wanted}),
            )
        )
        return {(sub, cycle) for sub, cycle in rows} & wanted


def _counted(item: OrderItem) -> Subscription:
    """The item's subscription, its iteration now at least the item's cycle, as the database
    has it (read again: cancelled while the order was out counts)."""
    return db.session.scalars(
        update(Subscription)
        .where(Subscription.id == item.subscription_id)
        .values(
            iteration=case(
                (Subscription.iteration < item.cycle, item.cycle), else_=Subscription.iteration
            )
        )
        .returning(Subscription),
        execution_options={"populate_existing": True, "synchronize_session": False},
    ).one()


def _fresh(subscription_id: int) -> Subscription:
    """The subscription as the database has it (the session may hold an older copy)."""
    return db.session.get(Subscription, subscription_id, populate_existing=True)
