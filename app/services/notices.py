"""Notices before an order goes out: the order reminder and the expiring card (contracts §6.1).

An hourly sweep (cron at :20, and ``flask placement notices``) looks at each merchant that
places orders, once its local clock has reached ``NOTICE_HOUR`` (nobody is emailed at
midnight), and at its unsent orders whose place date is after today and inside the order's
reminder window:

* **Order reminder** (``order.reminder``) ``reminder_days`` before the place date: the
  merchant's ``reminder_days``, or the smallest ``reminder_days`` a subscription in the order
  sets, never fewer than ``merchants.MIN_REMINDER_DAYS``. It lists each item with its quantity
  and price, and the total, priced now by ``orders.quote`` (the one pricing). Its dedupe key is
  ``order.reminder:<order public id>``: one reminder per order, ever, even if the date moves
  or two sweeps run at once.
* **Card expiring** (``card.expiring``), in the same window, when the order's card expires
  before the order's month (a card valid through 12/2030 works all of December 2030). Its key
  is ``card.expiring:<payment public id>:<order public id>``: a new card that also expires
  gets its own notice.

Days are calendar days in the merchant's timezone, so a window across a DST change still
counts dates, not 24-hour periods. A sweep that missed days (cron down) catches up: each order
inside its window and not yet reminded is reminded late, but never one already due (place date
today or earlier: it is being placed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy import and_, exists, func, literal, select

from app.domain import money
from app.extensions import db
from app.integrations.xml import order as order_xml
from app.models import (
    Merchant,
    Order,
    OrderStatus,
    OutboundEmail,
    PaymentMethod,
    Product,
    Subscription,
)
from app.models.types import utcnow
from app.services import events, merchants, notifications, orders, pricing

NOTICE_HOUR = 9  # merchant-local hour from which a day's notices go out
ACTOR = events.Actor("system", "notices", "notices")


@dataclass(frozen=True)
class Sent:
    """What one sweep queued, for the CLI and the tests."""

    reminders: int = 0
    cards: int = 0


def send_all(now: datetime | None = None) -> Sent:
    """The hourly sweep: each placing merchant whose notice hour has come today."""
    now = now or utcnow()
    total = Sent()
    found = db.session.scalars(
        select(Merchant).where(Merchant.placement_hour.is_not(None)).order_by(Merchant.id)
    )
    for merchant in list(found):
        if now.astimezone(merchant.tz).hour >= NOTICE_HOUR:
            done = send(merchant.id, now=now)
            total = Sent(total.reminders + done.reminders, total.cards + done.cards)
    return total


def send(merchant_id: int, *, now: datetime | None = None) -> Sent:
    """Queue the merchant's due reminders and expiring-card notices (see the module docstring)."""
    now = now or utcnow()
    merchant = db.session.get(Merchant, merchant_id)
    today = now.astimezone(merchant.tz).date()
    horizon = today + timedelta(days=_widest(merchant))
    incentives = pricing.active_incentives(merchant.id, now)
    reminders = cards = 0
    for order in _unreminded(merchant.id, today, horizon):
        if _in_window(order, merchant, today) and _remind(order, merchant, now, incentives):
            reminders += 1
    for order, payment in _expiring(merchant.id, today, horizon):
        if _in_window(order, merchant, today) and _warn(order, payment, merchant):
            cards += 1
    return Sent(reminders, cards)


def reminder_days(order: Order, merchant: Merchant) -> int:
    """The order's reminder window in days: the smallest subscription override, else the
    merchant's setting, never below the minimum."""
    overrides = [
        sub.reminder_days for sub in _subscriptions(order) if sub.reminder_days is not None
    ]
    days = min(overrides) if overrides else merchant.reminder_days
    return max(days, merchants.MIN_REMINDER_DAYS)


def _widest(merchant: Merchant) -> int:
    """The longest window any of the merchant's orders can have, to bound the query."""
    longest = db.session.scalar(
        select(func.max(Subscription.reminder_days)).where(Subscription.merchant_id == merchant.id)
    )
    return max(merchant.reminder_days, longest or 0, merchants.MIN_REMINDER_DAYS)


def _upcoming(merchant_id: int, today: date, horizon: date):
    """Unsent orders not yet due whose place date is no later than ``horizon``."""
    return (
        Order.merchant_id == merchant_id,
        Order.status == OrderStatus.UNSENT,
        Order.place_date > today,
        Order.place_date <= horizon,
    )


def _unreminded(merchant_id: int, today: date, horizon: date) -> list[Order]:
    key = literal("order.reminder:").concat(Order.public_id)
    return list(
        db.session.scalars(
            select(Order)
            .where(*_upcoming(merchant_id, today, horizon), ~_emailed(merchant_id, key))
            .order_by(Order.place_date, Order.id)
        )
    )


def _expiring(
    merchant_id: int, today: date, horizon: date
) -> Iterable[tuple[Order, PaymentMethod]]:
    """Upcoming orders whose card expires before the order's month, not yet warned."""
    key = (
        literal("card.expiring:")
        .concat(PaymentMethod.public_id)
        .concat(":")
        .concat(Order.public_id)
    )
    rows = db.session.execute(
        select(Order, PaymentMethod)
        .join(PaymentMethod, PaymentMethod.id == Order.payment_id)
        .where(
            *_upcoming(merchant_id, today, horizon),
            PaymentMethod.expiry_year <= horizon.year,
            PaymentMethod.expiry_month.is_not(None),
            ~_emailed(merchant_id, key),
        )
        .order_by(Order.place_date, Order.id)
    )
    for order, payment in rows.all():
        place = order.place_date
        if (payment.expiry_year, payment.expiry_month) < (place.year, place.month):
            yield order, payment


def _emailed(merchant_id: int, key):
    return exists().where(
        and_(OutboundEmail.merchant_id == merchant_id, OutboundEmail.dedupe_key == key)
    )


def _in_window(order: Order, merchant: Merchant, today: date) -> bool:
    if not any(sub.live for sub in _subscriptions(order)):
        return False  # every subscription in it ended: placement will cancel it
    return (order.place_date - today).days <= reminder_days(order, merchant)


def _subscriptions(order: Order) -> list[Subscription]:
    ids = [item.subscription_id for item in order.items if item.subscription_id]
    return [db.session.get(Subscription, sub_id) for sub_id in ids]


def _remind(
    order: Order, merchant: Merchant, now: datetime, incentives: list[pricing.Terms]
) -> bool:
    quote = orders.quote(order, now=now, incentives=incentives)
    lines = [
        _line(item.quantity, item.product.name, line, order.currency)
        for item, line in zip(order.items, quote.lines, strict=True)
    ]
    lines += [f"- {gift.quantity} × {_gift_name(gift)}: free" for gift in quote.gifts]
    shown = partial(money.display, currency=order.currency)
    if quote.order_discount_minor:
        lines.append(f"Order discount: -{shown(quote.order_discount_minor)}")
    if quote.shipping_total_minor:
        lines.append(f"Shipping: {shown(quote.shipping_total_minor)}")
    email = notifications.queue_email(
        merchant.id,
        order.customer,
        "order.reminder",
        dedupe_key=f"order.reminder:{order.public_id}",
        store=merchant.name,
        order=order.public_id,
        date=order.place_date.isoformat(),
        day=orders.long_date(order.place_date),
        lines="\n".join(lines),
        total=shown(quote.total_minor),
    )
    return _commit_new(
        email,
        merchant,
        "order.reminder",
        order,
        {"place": order.place_date.isoformat(), "total": quote.total_minor},
    )


def _warn(order: Order, payment: PaymentMethod, merchant: Merchant) -> bool:
    names = {
        **order_xml.CARD_TYPES,
        **{int(k): v for k, v in (merchant.card_type_names or {}).items()},
    }
    card = order_xml.card_type_name(payment.cc_type, names)
    email = notifications.queue_email(
        merchant.id,
        order.customer,
        "card.expiring",
        dedupe_key=f"card.expiring:{payment.public_id}:{order.public_id}",
        store=merchant.name,
        order=order.public_id,
        date=order.place_date.isoformat(),
        day=orders.long_date(order.place_date),
        card=f"{card} card" if card else "card",
        expiry=f"{payment.expiry_month:02d}/{payment.expiry_year}",
    )
    return _commit_new(
        email,
        merchant,
        "card.expiring",
        order,
        {"payment": payment.public_id, "place": order.place_date.isoformat()},
    )


def _commit_new(
    email: OutboundEmail, merchant: Merchant, event: str, order: Order, after: dict
) -> bool:
    """Record the event with the email and commit. The sweep found no email with this key, so
    this is the first; two sweeps racing on one order may both record the event, but the
    dedupe key keeps the email single."""
    events.record(
        merchant.id,
        event,
        ACTOR,
        object_type="order",
        object_id=order.public_id,
        customer_id=order.customer_id,
        after={**after, "email": email.public_id},
    )
    db.session.commit()
    return True


def _line(quantity: int, name: str, line: pricing.QuoteLine, currency: str) -> str:
    each = money.display(line.unit_price_minor, currency)
    text = f"- {quantity} × {name}, {each} each"
    if line.discount_minor:
        text += f", {money.display(line.discount_minor, currency)} off"
    return f"{text}: {money.display(line.total_minor, currency)}"


def _gift_name(gift: pricing.QuoteLine) -> str:
    product = db.session.get(Product, gift.product_pk) if gift.product_pk else None
    return product.name if product else gift.product_id
