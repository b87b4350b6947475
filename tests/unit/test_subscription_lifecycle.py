"""Pause, resume, cancel (with the merchant's reasons) and reactivate (contracts §4.3, T10)."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models import OrderStatus
from app.services import cancel_reasons
from app.services import subscription_lifecycle as lifecycle
from app.services.errors import Conflict, NotFound, ValidationError
from tests.actionkit import (
    NOW,
    STAFF,
    SUBSCRIBER,
    coffee,
    count_events,
    item_of,
    last_event,
    make_shopper,
    snapshot,
    subscribe,
    upcoming,
)

# -- pause and resume -------------------------------------------------------------------------


def test_pause_until_a_date_moves_the_next_order_there(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)

    lifecycle.pause(*shopper.ids, sub.public_id, "2030-04-01", actor=SUBSCRIBER, now=NOW)

    assert upcoming(sub).id == order.id and upcoming(sub).place_date == date(2030, 4, 1)
    assert sub.paused is False  # it goes on from that date
    event = last_event("subscription.pause")
    assert event.before == {"next_order_date": "2030-02-01"}
    assert event.after["until"] == "2030-04-01"


def test_pause_until_needs_a_future_date(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    with pytest.raises(ValidationError) as refused:
        lifecycle.pause(*shopper.ids, sub.public_id, "2030-01-10", actor=SUBSCRIBER, now=NOW)
    assert "until" in refused.value.fields


def test_pause_indefinitely_removes_the_item_and_cancels_an_emptied_order(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)

    lifecycle.pause(*shopper.ids, sub.public_id, actor=SUBSCRIBER, now=NOW)

    db.session.expire_all()
    assert sub.paused is True and sub.live is True
    assert order.status == OrderStatus.CANCELLED and order.items == []
    assert upcoming(sub) is None
    event = last_event("subscription.pause")
    assert event.before == {"paused": False, "next_order_date": "2030-02-01"}
    assert event.after == {"paused": True, "order": order.public_id, "order_status": 4}


def test_pause_indefinitely_leaves_a_shared_order_to_the_others(app):
    shopper = make_shopper()
    sub, neighbour = subscribe(shopper), subscribe(shopper, coffee(shopper.merchant, 1500))
    order = upcoming(sub)

    lifecycle.pause(*shopper.ids, sub.public_id, actor=SUBSCRIBER, now=NOW)

    db.session.expire_all()
    assert order.status == OrderStatus.UNSENT
    assert [i.subscription_id for i in order.items] == [neighbour.id]
    assert order.total_minor == 1500


def test_pause_refuses_while_the_order_is_being_placed(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)
    order.status = OrderStatus.SEND_NOW
    db.session.commit()
    before = snapshot(sub, order)
    with pytest.raises(Conflict, match="being placed"):
        lifecycle.pause(*shopper.ids, sub.public_id, actor=SUBSCRIBER, now=NOW)
    assert snapshot(sub, order) == before


def test_resume_on_a_chosen_date_makes_the_next_order(app):
    shopper = make_shopper()
    sub = subscribe(shopper, quantity=2)
    cycle = item_of(sub).cycle
    lifecycle.pause(*shopper.ids, sub.public_id, actor=SUBSCRIBER, now=NOW)

    lifecycle.resume(*shopper.ids, sub.public_id, "2030-03-03", actor=SUBSCRIBER, now=NOW)

    order = upcoming(sub)
    assert sub.paused is False
    assert order.place_date == date(2030, 3, 3) and order.status == OrderStatus.UNSENT
    assert (order.shipping_address_id, order.payment_id) == (shopper.home.id, shopper.card.id)
    assert item_of(sub).quantity == 2 and item_of(sub).cycle == cycle
    assert order.total_minor == 4000
    event = last_event("subscription.resume")
    assert event.after["next_order_date"] == "2030-03-03"
    assert event.after["order"] == order.public_id


def test_resume_without_a_date_ships_at_today_plus_the_frequency(app):
    shopper = make_shopper()
    sub = subscribe(shopper, every=1, period=3)  # monthly
    lifecycle.pause(*shopper.ids, sub.public_id, actor=SUBSCRIBER, now=NOW)

    lifecycle.resume(*shopper.ids, sub.public_id, actor=SUBSCRIBER, now=NOW)

    assert upcoming(sub).place_date == date(2030, 2, 10)


def test_resume_joins_an_order_already_on_that_date(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    other = subscribe(shopper, on=date(2030, 3, 3))
    lifecycle.pause(*shopper.ids, sub.public_id, actor=SUBSCRIBER, now=NOW)

    lifecycle.resume(*shopper.ids, sub.public_id, "2030-03-03", actor=SUBSCRIBER, now=NOW)

    assert upcoming(sub).id == upcoming(other).id


def test_resume_needs_a_paused_subscription(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    with pytest.raises(Conflict, match="not paused"):
        lifecycle.resume(*shopper.ids, sub.public_id, actor=SUBSCRIBER, now=NOW)
    assert count_events("subscription.resume") == 0


# -- cancel -----------------------------------------------------------------------------------


def test_cancel_with_a_reason_takes_its_item_out_of_the_upcoming_order(app):
    """T10: cancel {"cancel_reason": "1|Too much product"} -> live false, code 1."""
    shopper = make_shopper()
    sub = subscribe(shopper)
    neighbour = subscribe(shopper, coffee(shopper.merchant, 1500))
    order = upcoming(sub)

    lifecycle.cancel(*shopper.ids, sub.public_id, "1|Too much product", actor=SUBSCRIBER, now=NOW)

    db.session.expire_all()
    assert sub.live is False and sub.cancelled_at == NOW
    assert (sub.cancel_reason_code, sub.cancel_reason) == (1, "Too much product")
    assert [i.subscription_id for i in order.items] == [neighbour.id]
    assert order.status == OrderStatus.UNSENT and order.total_minor == 1500
    event = last_event("subscription.cancel")
    assert event.before == {"live": True, "paused": False}
    assert event.after["cancel_reason_code"] == 1 and event.after["live"] is False


def test_cancelling_the_last_item_cancels_the_order(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)
    lifecycle.cancel(*shopper.ids, sub.public_id, "3|", actor=SUBSCRIBER, now=NOW)
    db.session.expire_all()
    assert order.status == OrderStatus.CANCELLED
    assert sub.cancel_reason == "I no longer need it"


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        (None, "choose a reason"),
        ("", "choose a reason"),
        ("Too much", "<code>"),
        ("42|Nope", "listed reasons"),
        ("7|", "tell us more"),
        ("7|   ", "tell us more"),
        ("1|" + "x" * 501, "500 characters"),
    ],
)
def test_cancel_needs_a_listed_reason_and_other_needs_words(app, reason, message):
    shopper = make_shopper()
    sub = subscribe(shopper)
    before = snapshot(sub, upcoming(sub))

    with pytest.raises(ValidationError, match=message) as refused:
        lifecycle.cancel(*shopper.ids, sub.public_id, reason, actor=SUBSCRIBER, now=NOW)

    assert "cancel_reason" in refused.value.fields
    assert snapshot(sub, upcoming(sub)) == before


def test_other_with_words_is_accepted(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    lifecycle.cancel(*shopper.ids, sub.public_id, "7|Moving abroad", actor=SUBSCRIBER, now=NOW)
    assert (sub.cancel_reason_code, sub.cancel_reason) == (7, "Moving abroad")


def test_prepaid_subscriptions_refuse_to_cancel(app):
    shopper = make_shopper()
    sub = subscribe(shopper, subscription_type="prepaid")
    with pytest.raises(ValidationError, match="prepaid") as refused:
        lifecycle.cancel(*shopper.ids, sub.public_id, "1|", actor=SUBSCRIBER, now=NOW)
    assert refused.value.status == 400
    db.session.expire_all()
    assert sub.live is True


def test_cancel_reasons_are_the_merchants_own_list_when_it_has_one(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    assert cancel_reasons.reasons(shopper.merchant.id)[0]["code"] == 1

    cancel_reasons.set_reasons(
        shopper.merchant.id,
        [
            {"code": 10, "reason": "Found it cheaper"},
            {"code": 99, "reason": "Other", "requires_text": True},
        ],
        actor=STAFF,
    )

    with pytest.raises(ValidationError, match="listed"):
        lifecycle.cancel(*shopper.ids, sub.public_id, "1|", actor=SUBSCRIBER, now=NOW)
    with pytest.raises(ValidationError, match="tell us more"):
        lifecycle.cancel(*shopper.ids, sub.public_id, "99|", actor=SUBSCRIBER, now=NOW)
    lifecycle.cancel(*shopper.ids, sub.public_id, "10|", actor=SUBSCRIBER, now=NOW)
    assert (sub.cancel_reason_code, sub.cancel_reason) == (10, "Found it cheaper")
    assert last_event("settings.update").after["cancel_reasons"][0]["code"] == 10


@pytest.mark.parametrize(
    "bad",
    [[], "x", [{"code": 0, "reason": "a"}], [{"code": 1, "reason": " "}],
     [{"code": 1, "reason": "a"}, {"code": 1, "reason": "b"}], [{"code": True, "reason": "a"}]],
)  # fmt: skip
def test_set_reasons_refuses_a_bad_list(app, bad):
    merchant = make_shopper().merchant
    with pytest.raises(ValidationError):
        cancel_reasons.set_reasons(merchant.id, bad, actor=STAFF)
    db.session.expire_all()
    assert merchant.cancel_reasons is None


def test_cancel_while_the_order_is_being_placed_leaves_the_order_to_placement(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)
    order.status = OrderStatus.PENDING_PLACEMENT
    order.lease_token = "b" * 32
    db.session.commit()
    before = snapshot(order)

    lifecycle.cancel(*shopper.ids, sub.public_id, "2|", actor=SUBSCRIBER, now=NOW)

    assert sub.live is False
    assert snapshot(order) == before
    assert last_event("subscription.cancel").after["order_being_placed"] == order.public_id


def test_cancel_of_another_customers_subscription_is_not_found(app):
    shopper = make_shopper()
    stranger = make_shopper(shopper.merchant)  # another customer of the same merchant
    theirs = subscribe(stranger)
    with pytest.raises(NotFound):
        lifecycle.cancel(*shopper.ids, theirs.public_id, "1|", actor=SUBSCRIBER, now=NOW)
    db.session.expire_all()
    assert theirs.live is True


# -- reactivate -------------------------------------------------------------------------------


def _cancelled(shopper, product=None, **kw):
    sub = subscribe(shopper, product, **kw)
    lifecycle.cancel(*shopper.ids, sub.public_id, "1|", actor=SUBSCRIBER, now=NOW)
    return sub


def test_reactivate_makes_the_first_order_at_start_date_plus_frequency(app):
    shopper = make_shopper()
    sub = _cancelled(shopper)

    lifecycle.reactivate(
        *shopper.ids,
        sub.public_id,
        every=2,
        every_period=3,
        start_date="2030-01-20",
        actor=SUBSCRIBER,
        now=NOW,
    )

    assert sub.live is True and sub.cancelled_at is None and sub.cancel_reason_code is None
    assert (sub.every, sub.every_period, sub.start_date) == (2, 3, date(2030, 1, 20))
    order = upcoming(sub)
    assert order.place_date == date(2030, 3, 20) and order.total_minor == 2000
    event = last_event("subscription.reactivate")
    assert event.after["next_order_date"] == "2030-03-20"
    assert event.before["live"] is False


def test_reactivate_on_a_next_order_date(app):
    shopper = make_shopper()
    sub = _cancelled(shopper)
    lifecycle.reactivate(
        *shopper.ids, sub.public_id, next_order_date="2030-01-12", actor=SUBSCRIBER, now=NOW
    )
    assert upcoming(sub).place_date == date(2030, 1, 12)
    assert (sub.every, sub.every_period) == (4, 2)


def test_reactivate_refuses_a_discontinued_product(app):
    shopper = make_shopper()
    product = coffee(shopper.merchant)
    sub = _cancelled(shopper, product)
    product.discontinued = True
    db.session.commit()

    with pytest.raises(ValidationError, match="discontinued") as refused:
        lifecycle.reactivate(*shopper.ids, sub.public_id, actor=SUBSCRIBER, now=NOW)

    assert "product" in refused.value.fields
    db.session.expire_all()
    assert sub.live is False and upcoming(sub) is None


def test_reactivate_refuses_a_first_order_in_the_past_and_a_live_subscription(app):
    shopper = make_shopper()
    sub = _cancelled(shopper)
    with pytest.raises(ValidationError) as refused:
        lifecycle.reactivate(
            *shopper.ids, sub.public_id, start_date="2029-06-01", actor=SUBSCRIBER, now=NOW
        )
    assert "start_date" in refused.value.fields
    with pytest.raises(ValidationError):
        lifecycle.reactivate(
            *shopper.ids, sub.public_id, next_order_date="2030-01-10", actor=SUBSCRIBER, now=NOW
        )
    with pytest.raises(ValidationError) as refused:
        lifecycle.reactivate(*shopper.ids, sub.public_id, every=2, actor=SUBSCRIBER, now=NOW)
    assert "every_period" in refused.value.fields
    live = subscribe(shopper)
    with pytest.raises(Conflict, match="live already"):
        lifecycle.reactivate(*shopper.ids, live.public_id, actor=SUBSCRIBER, now=NOW)
    assert count_events("subscription.reactivate") == 0


def test_reactivate_refuses_while_its_last_order_is_still_being_placed(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)
    order.status = OrderStatus.PENDING_PLACEMENT
    db.session.commit()
    lifecycle.cancel(*shopper.ids, sub.public_id, "1|", actor=SUBSCRIBER, now=NOW)

    with pytest.raises(Conflict, match="being placed"):
        lifecycle.reactivate(*shopper.ids, sub.public_id, actor=SUBSCRIBER, now=NOW)


def test_reactivate_without_dates_ships_at_today_plus_its_frequency(app):
    shopper = make_shopper()
    sub = _cancelled(shopper)
    lifecycle.reactivate(*shopper.ids, sub.public_id, actor=STAFF, now=NOW)
    assert upcoming(sub).place_date == date(2030, 2, 7)  # today + 4 weeks
    assert sub.start_date == date(2030, 1, 10)
    assert last_event("subscription.reactivate").actor_type == "staff"
