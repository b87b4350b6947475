"""What follows a settled order: each subscription counts it, and gets its next order.

Whatever settles an order (the store's reply, a batch response file, ``/order/verify``, staff)
marks it ``next_order_pending`` in the same UPDATE that settles it. ``follow_up`` then takes the
marked orders (a conditional UPDATE clears the mark: one caller wins) and, for all of them at
once, in a few statements whatever their number:

* each subscription of a placed order (status 5) counts it: its iteration becomes at least the
  item's cycle (read back as the database has it: cancelled while the order was out counts);
* each live subscription gets its next order at place date + frequency (calendar months and
  years, end-of-month safe; from today after "send now"), merged with an unsent order of the
  same customer, date, address and card, placed or rejected alike.

Placement follows up a group of orders once they are sent (``placement_send``), not one at a
time; a worker that dies before leaves the marks, and the next run follows them up
(``follow_up_all``, from recovery). The key on (subscription, cycle) makes a next order happen
once: should another transaction have made one, the group is made again one next order at a
time, a savepoint around each, leaving out those that exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.domain.frequency import Frequency
from app.extensions import db
from app.models import Merchant, Order, OrderItem, OrderStatus, Subscription
from app.models.types import new_public_id
from app.services import events, orders


@dataclass(frozen=True)
class _Next:
    """One next order to make (or join) after ``previous``."""

    previous: Order
    when: date
    shipping_id: int | None
    payment_id: int | None
    pairs: tuple[tuple[Subscription, OrderItem], ...]

    @property
    def key(self) -> tuple:
        p = self.previous
        return (p.merchant_id, p.customer_id, self.when, self.shipping_id, self.payment_id)


def follow_up(order_ids: Iterable[int], now: datetime) -> list[Order]:
    """Count and make the next orders of those of ``order_ids`` still marked; committed.
    Returns the next orders made or joined."""
    ids = list(order_ids)
    if not ids:
        return []
    taken = list(
        db.session.scalars(
            update(Order)
            .where(Order.id.in_(ids), Order.next_order_pending.is_(True))
            .values(next_order_pending=False)
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not taken:
        db.session.rollback()
        return []
    settled = list(
        db.session.scalars(
            select(Order)
            .where(Order.id.in_(taken))
            .options(selectinload(Order.items))
            .order_by(Order.id)
            .execution_options(populate_existing=True)
        )
    )
    made = _advance(settled, now)
    db.session.commit()
    return made


def follow_up_all(merchant_id: int, now: datetime) -> int:
    """Follow up every marked order of the merchant (those a stopped worker left)."""
    ids = list(
        db.session.scalars(
            select(Order.id).where(
                Order.merchant_id == merchant_id, Order.next_order_pending.is_(True)
            )
        )
    )
    for start in range(0, len(ids), 500):
        follow_up(ids[start : start + 500], now)
    return len(ids)


def _advance(settled: Sequence[Order], now: datetime) -> list[Order]:
    _count(settled)
    wanted = _wanted(settled, now)
    made_already = _next_cycles_made(wanted)
    wanted = _leave_out(wanted, made_already)
    try:
        with db.session.begin_nested():
            return _make(wanted, now)
    except IntegrityError:  # another transaction made one of them: one at a time, guarded
        made = []
        for one in _leave_out(wanted, _next_cycles_made(wanted)):
            try:
                with db.session.begin_nested():
                    made.extend(_make([one], now))
            except IntegrityError:
                continue
        return made


def _count(settled: Sequence[Order]) -> None:
    """Each subscription of a placed order: iteration at least the item's cycle, in one
    statement for all of them (a CASE, so two counts never go backwards)."""
    rows = [
        {"b_id": item.subscription_id, "b_cycle": item.cycle}
        for order in settled
        if order.status == OrderStatus.SUCCESS
        for item in order.items
        if _repeats(item)
    ]
    if rows:
        table = Subscription.__table__
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                iteration=case(
                    (table.c.iteration < bindparam("b_cycle"), bindparam("b_cycle")),
                    else_=table.c.iteration,
                )
            ),
            rows,
        )


def _repeats(item: OrderItem) -> bool:
    return not item.one_time and item.subscription_id is not None and item.cycle is not None


def _wanted(settled: Sequence[Order], now: datetime) -> list[_Next]:
    """The next orders the settled orders' live subscriptions need, by date, address, card."""
    ids = {item.subscription_id for order in settled for item in order.items if _repeats(item)}
    if not ids:
        return []
    with db.session.no_autoflush:  # as the database has them, counted just now
        subs = {
            sub.id: sub
            for sub in db.session.scalars(
                select(Subscription)
                .where(Subscription.id.in_(ids))
                .execution_options(populate_existing=True)
            )
        }
    wanted = []
    for order in settled:
        base = order.place_date
        if (order.extra_data or {}).get("send_now"):  # the next one counts from today
            base = now.astimezone(db.session.get(Merchant, order.merchant_id).tz).date()
        grouped: dict[tuple, list[tuple[Subscription, OrderItem]]] = {}
        for item in order.items:
            sub = subs.get(item.subscription_id) if _repeats(item) else None
            if sub is None or not sub.live:
                continue
            when = Frequency(sub.every, sub.every_period).next_date(base)
            grouped.setdefault((when, sub.shipping_address_id, sub.payment_id), []).append(
                (sub, item)
            )
        wanted.extend(_Next(order, *key, tuple(pairs)) for key, pairs in grouped.items())
    return wanted


def _next_cycles_made(wanted: Sequence[_Next]) -> set[tuple[int, int]]:
    """Which (subscription, next cycle) of these have an order item already."""
    pairs = {(sub.id, item.cycle + 1) for one in wanted for sub, item in one.pairs}
    if not pairs:
        return set()
    with db.session.no_autoflush:
        rows = db.session.execute(
            select(OrderItem.subscription_id, OrderItem.cycle).where(
                OrderItem.subscription_id.in_({sub for sub, _ in pairs}),
                OrderItem.cycle.in_({cycle for _, cycle in pairs}),
            )
        )
        return {(sub, cycle) for sub, cycle in rows} & pairs


def _leave_out(wanted: Sequence[_Next], made: set[tuple[int, int]]) -> list[_Next]:
    kept = []
    for one in wanted:
        pairs = tuple((s, i) for s, i in one.pairs if (s.id, i.cycle + 1) not in made)
        if pairs:
            kept.append(_Next(one.previous, one.when, one.shipping_id, one.payment_id, pairs))
    return kept


def _make(wanted: Sequence[_Next], now: datetime) -> list[Order]:
    """Make (or join) each next order, priced, with its event; one flush for all of them."""
    if not wanted:
        return []
    joined = _unsent(wanted)
    made: dict[int, Order] = {}  # by id(): an order joined twice is priced once
    for one in wanted:
        order = joined.get(one.key)
        if order is None:
            p = one.previous
            order = joined[one.key] = Order(
                public_id=new_public_id(),  # now, for its event: written in the same flush
                merchant_id=p.merchant_id,
                customer_id=p.customer_id,
                shipping_address_id=one.shipping_id,
                payment_id=one.payment_id,
                place_date=one.when,
                status=OrderStatus.UNSENT,
                currency=p.currency,
            )
            db.session.add(order)
        for sub, item in one.pairs:
            order.items.append(
                OrderItem(
                    subscription_id=sub.id,
                    product_id=sub.product_id,
                    offer_id=sub.offer_id,
                    quantity=sub.quantity,
                    cycle=item.cycle + 1,
                )
            )
        made[id(order)] = order
    with db.session.no_autoflush:  # priced before they are written: one INSERT each, no UPDATE
        for order in made.values():
            orders.reprice(order, now=now)
        for one in wanted:
            order = joined[one.key]
            events.record(
                order.merchant_id,
                "order.create",
                events.SYSTEM,
                object_type="order",
                object_id=order.public_id,
                customer_id=order.customer_id,
                after={
                    "place": one.when.isoformat(),
                    "items": len(order.items),
                    "after": one.previous.public_id,
                },
            )
    db.session.flush()  # the (subscription, cycle) key decides here
    return list(made.values())


def _unsent(wanted: Sequence[_Next]) -> dict[tuple, Order]:
    """The unsent orders the next ones join (same customer, date, address and card)."""
    customers = {one.previous.customer_id for one in wanted}
    dates = {one.when for one in wanted}
    with db.session.no_autoflush:
        found = db.session.scalars(
            select(Order)
            .where(
                Order.customer_id.in_(customers),
                Order.place_date.in_(dates),
                Order.status == OrderStatus.UNSENT,
            )
            .order_by(Order.id)
        )
        joined: dict[tuple, Order] = {}
        for order in found:
            key = (
                order.merchant_id,
                order.customer_id,
                order.place_date,
                order.shipping_address_id,
                order.payment_id,
            )
            joined.setdefault(key, order)
        return joined
