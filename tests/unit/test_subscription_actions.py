"""Subscription actions (contracts §4.3, T10): quantity, frequency, next order date, SKU swap,
email reminder; the scope they run in and the placement they must not race."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models import OrderStatus
from app.services import subscription_actions as actions
from app.services.errors import Conflict, NotFound, ValidationError
from tests.actionkit import (
    FIRST,
    NOW,
    STAFF,
    SUBSCRIBER,
    coffee,
    count_events,
    in_swap_group,
    item_of,
    last_event,
    make_shopper,
    snapshot,
    subscribe,
    upcoming,
)

# -- quantity ---------------------------------------------------------------------------------


def test_change_quantity_changes_the_upcoming_item_and_its_price(app):
    shopper = make_shopper()
    sub = subscribe(shopper, coffee(shopper.merchant, 1250))

    actions.change_quantity(*shopper.ids, sub.public_id, 3, actor=SUBSCRIBER, now=NOW)

    order = upcoming(sub)
    assert sub.quantity == 3
    assert item_of(sub).quantity == 3
    assert order.sub_total_minor == 3750 and order.total_minor == 3750
    event = last_event("subscription.change_quantity")
    assert (event.before, event.after) == ({"quantity": 1}, {"quantity": 3})
    assert (event.actor_type, event.object_id) == ("subscriber", sub.public_id)
    assert event.customer_id == shopper.customer.id


@pytest.mark.parametrize("bad", [0, 100, -1, "x", "2.5", True, None, 2.0])
def test_change_quantity_refuses_what_is_not_1_to_99_and_changes_nothing(app, bad):
    shopper = make_shopper()
    sub = subscribe(shopper)
    before = snapshot(sub, upcoming(sub))

    with pytest.raises(ValidationError) as refused:
        actions.change_quantity(*shopper.ids, sub.public_id, bad, actor=SUBSCRIBER, now=NOW)

    assert "quantity" in refused.value.fields
    assert snapshot(sub, upcoming(sub)) == before
    assert count_events("subscription.change_quantity") == 0


def test_quantity_as_digits_from_a_form_is_accepted(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    actions.change_quantity(*shopper.ids, sub.public_id, "99", actor=SUBSCRIBER, now=NOW)
    assert item_of(sub).quantity == 99


def test_another_customers_subscription_is_not_found_and_left_alone(app):
    shopper = make_shopper()
    stranger = make_shopper(shopper.merchant)
    theirs = subscribe(stranger)
    before = snapshot(theirs, upcoming(theirs))

    for call in (
        lambda: actions.change_quantity(*shopper.ids, theirs.public_id, 5, actor=SUBSCRIBER),
        lambda: actions.change_frequency(*shopper.ids, theirs.public_id, 2, 3, actor=SUBSCRIBER),
        lambda: actions.change_next_order_date(
            *shopper.ids, theirs.public_id, "2030-03-01", actor=SUBSCRIBER, now=NOW
        ),
        lambda: actions.change_reminder_days(*shopper.ids, theirs.public_id, 9, actor=SUBSCRIBER),
    ):
        with pytest.raises(NotFound):
            call()

    assert snapshot(theirs, upcoming(theirs)) == before
    assert count_events("subscription.change_quantity") == 0


def test_another_merchants_subscription_is_not_found_even_for_the_whole_merchant(app):
    shopper = make_shopper()
    elsewhere = subscribe(make_shopper())

    with pytest.raises(NotFound):
        actions.change_quantity(shopper.merchant.id, None, elsewhere.public_id, 5, actor=STAFF)
    with pytest.raises(NotFound):
        actions.change_quantity(shopper.merchant.id, None, None, 5, actor=STAFF)


def test_the_application_scope_reaches_every_customer_of_the_merchant(app):
    shopper = make_shopper()
    sub = subscribe(shopper)

    actions.change_quantity(shopper.merchant.id, None, sub.public_id, 2, actor=STAFF, now=NOW)

    assert item_of(sub).quantity == 2
    assert last_event("subscription.change_quantity").actor_type == "staff"


@pytest.mark.parametrize("placing", ["send_now", "claimed", "pending"])
def test_an_upcoming_order_being_placed_refuses_the_change_and_nothing_is_written(app, placing):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)
    if placing == "send_now":
        order.status = OrderStatus.SEND_NOW
    elif placing == "claimed":
        order.lease_token = "a" * 32
    else:
        order.status = OrderStatus.PENDING_PLACEMENT
    db.session.commit()
    before = snapshot(sub, order)

    with pytest.raises(Conflict, match="being placed"):
        actions.change_quantity(*shopper.ids, sub.public_id, 4, actor=SUBSCRIBER, now=NOW)

    assert snapshot(sub, order) == before
    assert count_events("subscription.change_quantity") == 0


def test_a_cancelled_subscription_refuses_changes(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    sub.live = False
    db.session.commit()
    with pytest.raises(Conflict, match="cancelled"):
        actions.change_quantity(*shopper.ids, sub.public_id, 4, actor=SUBSCRIBER)


# -- frequency --------------------------------------------------------------------------------


def test_change_frequency_keeps_the_next_order_date(app):
    """T10: change_frequency {"every": 2, "every_period": 3}; next order date unchanged."""
    shopper = make_shopper()
    sub = subscribe(shopper)

    actions.change_frequency(*shopper.ids, sub.public_id, 2, 3, actor=SUBSCRIBER, now=NOW)

    assert (sub.every, sub.every_period) == (2, 3)
    assert upcoming(sub).place_date == FIRST
    event = last_event("subscription.change_frequency")
    assert event.before == {"every": 4, "every_period": 2}
    assert event.after == {"every": 2, "every_period": 3}


@pytest.mark.parametrize(
    ("every", "period", "field"),
    [(None, 3, "every"), (2, None, "every_period"), (0, 2, "every"), (1000, 1, "every"),
     (2, 5, "every_period"), ("x", 2, "every")],
)  # fmt: skip
def test_change_frequency_needs_both_within_bounds(app, every, period, field):
    shopper = make_shopper()
    sub = subscribe(shopper)

    with pytest.raises(ValidationError) as refused:
        actions.change_frequency(*shopper.ids, sub.public_id, every, period, actor=SUBSCRIBER)

    assert field in refused.value.fields
    db.session.expire_all()
    assert (sub.every, sub.every_period) == (4, 2)


def test_change_frequency_keeps_to_the_products_allowed_frequencies(app):
    shopper = make_shopper()
    product = coffee(shopper.merchant, allowed_frequencies=[{"every": 4, "every_period": 2}])
    sub = subscribe(shopper, product, every=4, period=2)

    with pytest.raises(ValidationError, match="every 4 weeks"):
        actions.change_frequency(*shopper.ids, sub.public_id, 2, 3, actor=SUBSCRIBER)


# -- next order date --------------------------------------------------------------------------


def test_change_next_order_date_moves_its_own_order(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)

    actions.change_next_order_date(
        *shopper.ids, sub.public_id, "2030-02-20", actor=SUBSCRIBER, now=NOW
    )

    moved = upcoming(sub)
    assert moved.public_id == order.public_id
    assert moved.place_date == date(2030, 2, 20)
    event = last_event("subscription.change_next_order_date")
    assert event.before == {"next_order_date": "2030-02-01", "order": order.public_id}
    assert event.after == {"next_order_date": "2030-02-20", "order": order.public_id}


@pytest.mark.parametrize("when", ["2030-01-10", "2030-01-09", "1999-12-31", "2045-01-01"])
def test_change_next_order_date_takes_only_dates_after_today(app, when):
    shopper = make_shopper()
    sub = subscribe(shopper)
    before = snapshot(upcoming(sub))

    with pytest.raises(ValidationError) as refused:
        actions.change_next_order_date(*shopper.ids, sub.public_id, when, actor=SUBSCRIBER, now=NOW)

    assert "order_date" in refused.value.fields
    assert snapshot(upcoming(sub)) == before


@pytest.mark.parametrize("when", ["01/02/2030", "2030-02-30", "", 20300201, None])
def test_change_next_order_date_refuses_what_is_not_a_date(app, when):
    shopper = make_shopper()
    sub = subscribe(shopper)
    with pytest.raises(ValidationError) as refused:
        actions.change_next_order_date(*shopper.ids, sub.public_id, when, actor=SUBSCRIBER, now=NOW)
    assert refused.value.fields == {"order_date": "YYYY-MM-DD"}


def test_today_is_the_merchants_today(app):
    """At 03:00 UTC on 11 January it is still 10 January in New York: the 11th is a future
    date there, and not for a merchant on UTC."""
    from datetime import UTC, datetime

    late = datetime(2030, 1, 11, 3, 0, tzinfo=UTC)
    new_york = make_shopper()
    sub = subscribe(new_york)
    actions.change_next_order_date(
        *new_york.ids, sub.public_id, "2030-01-11", actor=STAFF, now=late
    )
    assert upcoming(sub).place_date == date(2030, 1, 11)

    from tests.factories import make_merchant

    utc = make_shopper(make_merchant(timezone="UTC"))
    other = subscribe(utc)
    with pytest.raises(ValidationError):
        actions.change_next_order_date(
            *utc.ids, other.public_id, "2030-01-11", actor=STAFF, now=late
        )


def test_change_next_order_date_of_a_shared_order_moves_only_that_item(app):
    shopper = make_shopper()
    sub, neighbour = subscribe(shopper), subscribe(shopper)
    shared = upcoming(sub)
    assert upcoming(neighbour).id == shared.id

    actions.change_next_order_date(
        *shopper.ids, sub.public_id, "2030-02-20", actor=SUBSCRIBER, now=NOW
    )

    mine, theirs = upcoming(sub), upcoming(neighbour)
    assert mine.id != shared.id and mine.place_date == date(2030, 2, 20)
    assert (theirs.id, theirs.place_date, len(theirs.items)) == (shared.id, FIRST, 1)
    assert theirs.total_minor == 2000 and mine.total_minor == 2000
    assert (mine.shipping_address_id, mine.payment_id) == (shopper.home.id, shopper.card.id)


def test_change_next_order_date_onto_another_order_merges_them(app):
    shopper = make_shopper()
    sub = subscribe(shopper, on=FIRST)
    later = subscribe(shopper, on=date(2030, 2, 15))
    mine, target = upcoming(sub), upcoming(later)

    actions.change_next_order_date(
        *shopper.ids, sub.public_id, "2030-02-15", actor=SUBSCRIBER, now=NOW
    )

    db.session.expire_all()
    assert mine.status == OrderStatus.MERGED
    assert mine.extra_data["merged_order_id"] == target.public_id
    assert upcoming(sub).id == target.id
    assert len(target.items) == 2 and target.total_minor == 4000
    assert last_event("subscription.change_next_order_date").after["merged"] == mine.public_id


def test_a_paused_subscription_has_no_next_order_date_to_change(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    sub.paused = True
    db.session.commit()
    with pytest.raises(Conflict, match="paused"):
        actions.change_next_order_date(
            *shopper.ids, sub.public_id, "2030-03-01", actor=STAFF, now=NOW
        )


# -- product (SKU swap) ----------------------------------------------------------------------


def test_change_product_swaps_within_the_swap_group_and_reprices(app):
    shopper = make_shopper()
    light, dark = coffee(shopper.merchant, 2000), coffee(shopper.merchant, 2600)
    in_swap_group("roasts", light, dark)
    sub = subscribe(shopper, light, quantity=2)
    sub.price_minor = 1800  # locked for the light roast
    db.session.commit()

    actions.change_product(*shopper.ids, sub.public_id, dark.product_id, actor=SUBSCRIBER, now=NOW)

    assert sub.product_id == dark.id and sub.price_minor is None
    assert item_of(sub).product_id == dark.id
    assert upcoming(sub).total_minor == 5200
    event = last_event("subscription.sku_swap")
    assert event.before == {"product": light.product_id, "price": 1800}
    assert event.after == {"product": dark.product_id}


def test_change_product_refuses_a_product_outside_the_group(app):
    shopper = make_shopper()
    light, dark, tea = (coffee(shopper.merchant) for _ in range(3))
    in_swap_group("roasts", light, dark)
    in_swap_group("teas", tea)
    sub = subscribe(shopper, light)
    before = snapshot(sub, upcoming(sub))

    with pytest.raises(ValidationError, match="swap group") as refused:
        actions.change_product(*shopper.ids, sub.public_id, tea.product_id, actor=SUBSCRIBER)

    assert "product" in refused.value.fields
    assert snapshot(sub, upcoming(sub)) == before


def test_change_product_refuses_unknown_discontinued_and_same(app):
    shopper = make_shopper()
    light, gone = coffee(shopper.merchant), coffee(shopper.merchant, discontinued=True)
    in_swap_group("roasts", light, gone)
    sub = subscribe(shopper, light)

    for target, message in (
        ("NOPE", "no such product"),
        (gone.product_id, "discontinued"),
        (light.product_id, "already"),
    ):
        with pytest.raises(ValidationError, match=message):
            actions.change_product(*shopper.ids, sub.public_id, target, actor=SUBSCRIBER)
    assert count_events("subscription.sku_swap") == 0


def test_change_product_needs_a_live_subscription(app):
    shopper = make_shopper()
    light, dark = coffee(shopper.merchant), coffee(shopper.merchant)
    in_swap_group("roasts", light, dark)
    sub = subscribe(shopper, light)
    sub.live = False
    db.session.commit()
    with pytest.raises(Conflict):
        actions.change_product(*shopper.ids, sub.public_id, dark.product_id, actor=SUBSCRIBER)


# -- reminder days ----------------------------------------------------------------------------


def test_change_reminder_days_from_5_or_back_to_the_merchants(app):
    shopper = make_shopper()
    sub = subscribe(shopper)

    actions.change_reminder_days(*shopper.ids, sub.public_id, 5, actor=SUBSCRIBER)
    assert sub.reminder_days == 5
    assert last_event("subscription.change_email_reminder").after == {"reminder_days": 5}

    actions.change_reminder_days(*shopper.ids, sub.public_id, None, actor=SUBSCRIBER)
    assert sub.reminder_days is None
    assert last_event("subscription.change_email_reminder").before == {"reminder_days": 5}


@pytest.mark.parametrize("bad", [4, 0, 61, "soon"])
def test_change_reminder_days_refuses_fewer_than_5(app, bad):
    shopper = make_shopper()
    sub = subscribe(shopper)
    with pytest.raises(ValidationError) as refused:
        actions.change_reminder_days(*shopper.ids, sub.public_id, bad, actor=SUBSCRIBER)
    assert "reminder_days" in refused.value.fields
    db.session.expire_all()
    assert sub.reminder_days is None
