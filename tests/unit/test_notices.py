"""Notices before an order goes out: the order reminder (once per order, on the right local day
across DST and month ends, caught up when a sweep was missed) and the expiring-card notice, sent
through the real mail path."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, Order, OrderItem, OutboundEmail, PaymentMethod, Subscription
from app.services import mail, notices
from tests.placementkit import make_due_order, make_placing_merchant
from tests.unit.test_mail import Inbox, serving


@pytest.fixture
def merchant(app):
    """Places at 06:00 New York time, reminds 5 days ahead (the default)."""
    return make_placing_merchant("http://127.0.0.1:9/og/orders", name="Bundy Pet Supplies")


@pytest.fixture
def inbox(app, monkeypatch):
    handler = Inbox()
    with serving(handler) as url:
        monkeypatch.setitem(app.config, "SMTP_URL", url)
        yield handler


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def reminders() -> list[OutboundEmail]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboundEmail)
            .where(OutboundEmail.template == "order.reminder")
            .order_by(OutboundEmail.id)
        )
    )


def reminded(order) -> bool:
    return any(e.dedupe_key == f"order.reminder:{order.public_id}" for e in reminders())


def test_a_reminder_lists_items_prices_and_total_and_reaches_the_subscriber(merchant, inbox):
    order = make_due_order(merchant, date(2030, 1, 31), now=at(2030, 1, 20, 12))
    sent = notices.send_all(now=at(2030, 1, 26, 14))  # 09:00 in New York
    assert sent == notices.Sent(reminders=1, cards=0)
    assert mail.deliver_pending() == 1
    [message] = inbox.messages
    assert message["To"] == order.customer.email
    assert message["Subject"] == "Your next order from Bundy Pet Supplies is coming up"
    body = message.get_content()
    assert "will be placed on Thursday, January 31, 2030" in body
    assert "- 2 × Dog Food, $12.99 each, $2.60 off: $23.38" in body
    assert "Total: $23.38" in body
    [email] = reminders()
    assert email.dedupe_key == f"order.reminder:{order.public_id}" and email.status == "sent"
    event = db.session.scalar(select(Event).where(Event.type == "order.reminder"))
    assert event.object_id == order.public_id and event.after["total"] == 2338


def test_an_order_on_31_january_is_reminded_on_26_january(merchant):
    order = make_due_order(merchant, date(2030, 1, 31), now=at(2030, 1, 20, 12))
    notices.send_all(now=at(2030, 1, 25, 23))  # 18:00 on the 25th: six days ahead
    assert not reminded(order)
    notices.send_all(now=at(2030, 1, 26, 4, 30))  # 23:30 on the 25th in New York, 26th in UTC
    assert not reminded(order)
    notices.send_all(now=at(2030, 1, 26, 13, 59))  # 08:59 on the 26th: before the notice hour
    assert not reminded(order)
    notices.send_all(now=at(2030, 1, 26, 14))
    assert reminded(order)


def test_never_two_reminders_for_one_order(merchant):
    order = make_due_order(merchant, date(2030, 1, 31), now=at(2030, 1, 20, 12))
    notices.send_all(now=at(2030, 1, 26, 14))
    notices.send_all(now=at(2030, 1, 26, 15))  # the hourly sweep again
    order.place_date = date(2030, 2, 2)  # the date moves, and comes into the window again
    db.session.commit()
    notices.send_all(now=at(2030, 1, 28, 14))
    assert len(reminders()) == 1
    assert (
        db.session.scalar(select(func.count(Event.id)).where(Event.type == "order.reminder")) == 1
    )


def test_a_missed_day_is_caught_up_but_due_orders_are_not_reminded(merchant):
    later = make_due_order(merchant, date(2030, 2, 10), now=at(2030, 2, 1, 12))
    today = make_due_order(merchant, date(2030, 2, 8), now=at(2030, 2, 1, 12))
    overdue = make_due_order(merchant, date(2030, 2, 7), now=at(2030, 2, 1, 12))
    assert notices.send_all(now=at(2030, 2, 8, 15)).reminders == 1  # cron was down 5-7 Feb
    assert reminded(later)
    assert not reminded(today) and not reminded(overdue)  # they are being placed


@pytest.mark.parametrize("overrides, days", [((10,), 10), ((10, 7), 7), ((3,), 5), ((), 5)])
def test_the_window_is_the_smallest_subscription_override_never_below_five(
    merchant, overrides, days
):
    place = date(2030, 3, 20)
    order = make_due_order(merchant, place, now=at(2030, 3, 1, 12))
    for n, value in enumerate(overrides):
        if n:  # a second subscription in the same order
            other = make_due_order(merchant, place, now=at(2030, 3, 1, 12))
            item = other.items[0]
            item.order = order
            db.session.flush()
            db.session.delete(other)
        sub = db.session.get(Subscription, order.items[n].subscription_id)
        sub.reminder_days = value
    db.session.commit()
    assert notices.reminder_days(order, merchant) == days
    day_before = place - timedelta(days=days + 1)
    notices.send_all(now=at(day_before.year, day_before.month, day_before.day, 15))
    assert not reminded(order)
    first_day = place - timedelta(days=days)
    notices.send_all(now=at(first_day.year, first_day.month, first_day.day, 15))
    assert reminded(order)


def test_the_merchants_own_reminder_days(merchant):
    merchant.reminder_days = 8
    db.session.commit()
    order = make_due_order(merchant, date(2030, 6, 20), now=at(2030, 6, 1, 12))
    notices.send_all(now=at(2030, 6, 11, 15))
    assert not reminded(order)
    notices.send_all(now=at(2030, 6, 12, 15))
    assert reminded(order)


def test_dst_in_march_the_reminder_comes_on_the_local_day(merchant):
    """Clocks go forward on Sunday 10 March 2030 in New York, between the reminder (7 March)
    and the order (12 March)."""
    order = make_due_order(merchant, date(2030, 3, 12), now=at(2030, 3, 1, 12))
    notices.send_all(now=at(2030, 3, 7, 4, 30))  # 23:30 EST on the 6th; the 7th in UTC
    assert not reminded(order)
    notices.send_all(now=at(2030, 3, 7, 13, 59))  # 08:59 EST on the 7th
    assert not reminded(order)
    notices.send_all(now=at(2030, 3, 7, 14))  # 09:00 EST on the 7th
    assert reminded(order)


def test_dst_in_november_the_reminder_comes_on_the_local_day(merchant):
    """Clocks go back on Sunday 3 November 2030, between the reminder (31 October) and the
    order (5 November)."""
    order = make_due_order(merchant, date(2030, 11, 5), now=at(2030, 10, 20, 12))
    notices.send_all(now=at(2030, 10, 31, 3, 30))  # 23:30 EDT on the 30th; the 31st in UTC
    assert not reminded(order)
    notices.send_all(now=at(2030, 11, 1, 3, 30))  # 23:30 EDT on the 31st (a late catch-up)
    assert reminded(order)


def test_a_merchant_that_does_not_place_sends_no_reminders(merchant):
    merchant.placement_hour = None
    db.session.commit()
    make_due_order(merchant, date(2030, 1, 31), now=at(2030, 1, 20, 12))
    assert notices.send_all(now=at(2030, 1, 26, 14)) == notices.Sent()


def card(order, month: int, year: int) -> PaymentMethod:
    payment = db.session.get(PaymentMethod, order.payment_id)
    payment.expiry_month, payment.expiry_year = month, year
    db.session.commit()
    return payment


def test_a_card_that_expires_before_the_order_gets_one_notice(merchant, inbox):
    order = make_due_order(merchant, date(2030, 12, 2), now=at(2030, 11, 20, 12))
    payment = card(order, 11, 2030)
    assert notices.send_all(now=at(2030, 11, 27, 15)).cards == 1
    assert notices.send_all(now=at(2030, 11, 28, 15)).cards == 0
    mail.deliver_pending()
    cards = [
        m for m in inbox.messages if m["Subject"] == "Your card expires before your next order"
    ]
    [message] = cards
    body = message.get_content()
    assert (
        "The Visa card that pays for your next order from Bundy Pet Supplies, on Monday, "
        "December 2, 2030, expires at the end of 11/2030." in body
    )
    email = db.session.scalar(
        select(OutboundEmail).where(OutboundEmail.template == "card.expiring")
    )
    assert email.dedupe_key == f"card.expiring:{payment.public_id}:{order.public_id}"


@pytest.mark.parametrize("month, year", [(12, 2030), (1, 2031), (None, None)])
def test_a_card_valid_through_the_orders_month_gets_no_notice(merchant, month, year):
    order = make_due_order(merchant, date(2030, 12, 31), now=at(2030, 12, 1, 12))
    card(order, month, year)
    assert notices.send_all(now=at(2030, 12, 26, 15)).cards == 0


def test_a_new_card_that_also_expires_gets_its_own_notice(merchant):
    order = make_due_order(merchant, date(2030, 12, 2), now=at(2030, 11, 20, 12))
    old = card(order, 10, 2030)
    notices.send_all(now=at(2030, 11, 27, 15))
    new = PaymentMethod(
        merchant_id=merchant.id,
        customer_id=order.customer_id,
        token_id="t2",
        cc_type=2,
        expiry_month=11,
        expiry_year=2030,
    )
    db.session.add(new)
    db.session.flush()
    db.session.get(Order, order.id).payment_id = new.id
    db.session.commit()
    notices.send_all(now=at(2030, 11, 28, 15))
    keys = set(
        db.session.scalars(
            select(OutboundEmail.dedupe_key).where(OutboundEmail.template == "card.expiring")
        )
    )
    assert keys == {
        f"card.expiring:{old.public_id}:{order.public_id}",
        f"card.expiring:{new.public_id}:{order.public_id}",
    }


def test_an_order_whose_subscriptions_all_ended_is_not_reminded(merchant):
    order = make_due_order(merchant, date(2030, 1, 31), now=at(2030, 1, 20, 12))
    item = db.session.scalar(select(OrderItem).where(OrderItem.order_id == order.id))
    db.session.get(Subscription, item.subscription_id).live = False
    db.session.commit()
    notices.send_all(now=at(2030, 1, 26, 14))
    assert reminders() == []


def test_flask_placement_notices(merchant, runner):
    make_due_order(merchant, date.today() + timedelta(days=3))
    result = runner.invoke(args=["placement", "notices", "--merchant", merchant.public_id])
    assert result.exit_code == 0, result.output
    assert "Queued 1 order reminders and 0 expiring-card notices." in result.output
