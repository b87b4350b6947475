"""Pausing, resuming, cancelling and reactivating a subscription (contracts §4.3).

* **Pause until a date**: the next order moves to that date (as ``change_next_order_date``;
  the subscription goes on from there, so it is not marked paused). **Pause indefinitely**:
  its item leaves the upcoming order (cancelled if nothing is left) and it is marked paused.
* **Resume** a paused subscription: a new upcoming order on the chosen date, or on today plus
  its frequency.
* **Cancel** with a reason from the merchant's list (``cancel_reasons``); prepaid
  subscriptions are refused. Its item leaves the upcoming order; an order already being
  placed is left to placement, which drops items of cancelled subscriptions when it claims an
  order and makes no next order for them.
* **Reactivate** a cancelled subscription unless its product is discontinued: frequency,
  ``start_date`` and the first order on ``next_order_date``, else ``start_date`` + frequency.

Each takes the scope of ``subscriber_scope``, records one event and commits once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.frequency import Frequency
from app.extensions import db
from app.models import Subscription
from app.models.types import utcnow
from app.services import cancel_reasons, events, upcoming_orders
from app.services import subscriber_scope as scope
from app.services.errors import Conflict, ValidationError
from app.services.subscription_actions import record


def pause(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    until: Any = None,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """Pause until a date after today, or (``until`` None) until resumed."""
    sub = scope.subscription(merchant_id, customer_id, public_id)
    scope.live(sub)
    if sub.paused:
        raise Conflict("The subscription is paused already.")
    now = now or utcnow()
    when = None if until in (None, "") else scope.future_day(until, "until", merchant_id, now)
    order = upcoming_orders.held_current(sub)
    if when is not None:
        if order is None:
            raise Conflict("The subscription has no upcoming order.")
        before = {"next_order_date": order.place_date.isoformat()}
        dest = order
        if order.place_date != when:
            dest = upcoming_orders.move(order, [sub], place_date=when, now=now)
        after = {"until": when.isoformat(), "next_order_date": when.isoformat()}
        record(sub, "subscription.pause", actor, before, after, order=dest)
    else:
        before = {"paused": False, "next_order_date": None}
        if order is not None:
            before["next_order_date"] = order.place_date.isoformat()
            item = upcoming_orders.item_of(order, sub)
            upcoming_orders.take_out(order, [item] if item else [], now=now)
        sub.paused = True
        record(sub, "subscription.pause", actor, before, {"paused": True}, order=order)
    db.session.commit()
    return sub


def resume(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    order_date: Any = None,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """Resume a paused subscription: its next order on ``order_date`` (after today), or on
    today plus its frequency."""
    sub = scope.subscription(merchant_id, customer_id, public_id)
    scope.live(sub)
    if not sub.paused:
        raise Conflict("The subscription is not paused.")
    now = now or utcnow()
    if order_date in (None, ""):
        start = scope.today(merchant_id, now)
        when = Frequency(sub.every, sub.every_period).next_date(start)
    else:
        when = scope.future_day(order_date, "order_date", merchant_id, now)
    if upcoming_orders.current(sub) is not None:
        raise Conflict("The subscription has an upcoming order already.")
    order = upcoming_orders.add(sub, when, now=now)
    sub.paused = False
    after = {"paused": False, "next_order_date": when.isoformat()}
    record(sub, "subscription.resume", actor, {"paused": True}, after, order=order)
    db.session.commit()
    return sub


def cancel(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    cancel_reason: Any,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """Cancel with ``"<code>|<free text>"`` (see ``cancel_reasons.parse``)."""
    sub = scope.subscription(merchant_id, customer_id, public_id)
    if not sub.live:
        raise Conflict("The subscription is cancelled already.")
    if sub.subscription_type == "prepaid":
        message = "A prepaid subscription cannot be cancelled before its prepaid orders ship."
        raise ValidationError(message, fields={"subscription": message})
    choice = cancel_reasons.parse(merchant_id, cancel_reason)
    now = now or utcnow()
    before = {"live": True, "paused": sub.paused}
    left = upcoming_orders.current(sub)
    try:
        order = upcoming_orders.held_current(sub)
        left = None
    except Conflict:  # being placed: placement drops the item (see the module docstring)
        order = None
    if order is not None:
        item = upcoming_orders.item_of(order, sub)
        upcoming_orders.take_out(order, [item] if item else [], now=now)
    sub.live, sub.paused = False, False
    sub.cancelled_at = now
    sub.cancel_reason, sub.cancel_reason_code = choice.stored, choice.code
    after = {"live": False, "cancel_reason": choice.stored, "cancel_reason_code": choice.code}
    if left is not None:
        after["order_being_placed"] = left.public_id
    record(sub, "subscription.cancel", actor, before, after, order=order)
    db.session.commit()
    return sub


def reactivate(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    *,
    every: Any = None,
    every_period: Any = None,
    start_date: Any = None,
    next_order_date: Any = None,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """Make a cancelled subscription live again with its upcoming order. ``every`` and
    ``every_period`` (both, or neither to keep its own), ``start_date`` (default today) and
    ``next_order_date`` (a date after today; default ``start_date`` + frequency, which must
    then be after today)."""
    sub = scope.subscription(merchant_id, customer_id, public_id)
    if sub.live:
        raise Conflict("The subscription is live already.")
    if sub.product.discontinued:
        message = "Its product is discontinued; it cannot be reactivated."
        raise ValidationError(message, fields={"product": message})
    now = now or utcnow()
    if every in (None, "") and every_period in (None, ""):
        chosen = Frequency(sub.every, sub.every_period)
    else:
        chosen = scope.frequency(every, every_period, sub.product)
    start = scope.today(merchant_id, now)
    if start_date not in (None, ""):
        start = scope.day(start_date, "start_date")
    if next_order_date not in (None, ""):
        when = scope.future_day(next_order_date, "next_order_date", merchant_id, now)
    else:
        when = chosen.next_date(start)
        if when <= scope.today(merchant_id, now):
            message = "start_date + frequency is not after today: give a next_order_date."
            raise ValidationError(message, fields={"start_date": message})
        scope.ahead(when, "start_date", merchant_id, now)
    if upcoming_orders.current(sub) is not None:
        raise Conflict("Its last order is still being placed; try again once it is.")
    before = {"live": False, "cancel_reason": sub.cancel_reason}
    sub.live, sub.paused = True, False
    sub.cancelled_at = sub.cancel_reason = sub.cancel_reason_code = None
    sub.every, sub.every_period, sub.start_date = chosen.every, chosen.period, start
    order = upcoming_orders.add(sub, when, now=now)
    after = {
        "live": True,
        **chosen.as_dict(),
        "start_date": start.isoformat(),
        "next_order_date": when.isoformat(),
    }
    record(sub, "subscription.reactivate", actor, before, after, order=order)
    db.session.commit()
    return sub
