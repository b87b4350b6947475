"""Changing where subscriptions ship and how they are paid (contracts §4.3): one subscription,
all of a customer's, one order; only the customer's own addresses and cards; merging."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models import OrderStatus
from app.services import shipping_payment as sp
from app.services.errors import Conflict, NotFound
from tests.actionkit import (
    NOW,
    STAFF,
    SUBSCRIBER,
    count_events,
    last_event,
    make_shopper,
    snapshot,
    subscribe,
    upcoming,
)


def test_change_shipping_of_a_subscription_alone_in_its_order_moves_the_order(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)

    sp.change_subscription_shipping(
        *shopper.ids, sub.public_id, shopper.office.public_id, actor=SUBSCRIBER, now=NOW
    )

    db.session.expire_all()
    assert sub.shipping_address_id == shopper.office.id
    assert upcoming(sub).id == order.id and order.shipping_address_id == shopper.office.id
    event = last_event("subscription.change_shipping_address")
    assert event.before == {"shipping_address": shopper.home.public_id}
    assert event.after["shipping_address"] == shopper.office.public_id


def test_change_shipping_of_a_shared_order_splits_the_item_off(app):
    shopper = make_shopper()
    sub, neighbour = subscribe(shopper), subscribe(shopper)
    shared = upcoming(sub)

    sp.change_subscription_shipping(
        *shopper.ids, sub.public_id, shopper.office.public_id, actor=SUBSCRIBER, now=NOW
    )

    mine = upcoming(sub)
    assert mine.id != shared.id
    assert (mine.shipping_address_id, mine.place_date) == (shopper.office.id, shared.place_date)
    assert upcoming(neighbour).id == shared.id
    assert shared.shipping_address_id == shopper.home.id and len(shared.items) == 1


def test_orders_that_become_identical_merge(app):
    shopper = make_shopper()
    home = subscribe(shopper)
    office = subscribe(shopper, address=shopper.office)
    moved, survivor = upcoming(office), upcoming(home)
    assert moved.id != survivor.id

    sp.change_subscription_shipping(
        *shopper.ids, office.public_id, shopper.home.public_id, actor=SUBSCRIBER, now=NOW
    )

    db.session.expire_all()
    assert moved.status == OrderStatus.MERGED
    assert moved.extra_data["merged_order_id"] == survivor.public_id
    assert upcoming(office).id == survivor.id and survivor.total_minor == 4000


def test_another_customers_address_or_card_is_not_found(app):
    shopper = make_shopper()
    stranger = make_shopper(shopper.merchant)  # another customer of the same merchant
    sub = subscribe(shopper)
    before = snapshot(sub, upcoming(sub))

    with pytest.raises(NotFound):
        sp.change_subscription_shipping(
            *shopper.ids, sub.public_id, stranger.home.public_id, actor=SUBSCRIBER, now=NOW
        )
    with pytest.raises(NotFound):  # not even for the whole merchant
        sp.change_subscription_payment(
            shopper.merchant.id, None, sub.public_id, stranger.card.public_id, actor=STAFF
        )
    with pytest.raises(NotFound):
        sp.use_address_for_all(*shopper.ids, stranger.home.public_id, actor=SUBSCRIBER)

    assert snapshot(sub, upcoming(sub)) == before


def test_an_address_no_longer_live_is_not_found(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    shopper.office.live = False
    db.session.commit()
    with pytest.raises(NotFound):
        sp.change_subscription_shipping(
            *shopper.ids, sub.public_id, shopper.office.public_id, actor=SUBSCRIBER
        )


def test_change_payment_of_a_subscription(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)

    sp.change_subscription_payment(
        *shopper.ids, sub.public_id, shopper.other_card.public_id, actor=SUBSCRIBER, now=NOW
    )

    db.session.expire_all()
    assert sub.payment_id == shopper.other_card.id and order.payment_id == shopper.other_card.id
    event = last_event("subscription.change_payment")
    assert event.before == {"payment": shopper.card.public_id}


def test_change_refused_while_the_order_is_being_placed(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)
    order.status = OrderStatus.SEND_NOW
    db.session.commit()
    before = snapshot(sub, order)
    with pytest.raises(Conflict, match="being placed"):
        sp.change_subscription_payment(
            *shopper.ids, sub.public_id, shopper.other_card.public_id, actor=SUBSCRIBER, now=NOW
        )
    assert snapshot(sub, order) == before


def test_use_address_for_all_moves_every_live_subscription_and_merges(app):
    shopper = make_shopper()
    a = subscribe(shopper)
    b = subscribe(shopper, payment=shopper.other_card)  # same day, other card: its own order
    c = subscribe(shopper, on=date(2030, 3, 1))
    paused = subscribe(shopper, on=date(2030, 4, 1))
    paused.paused = True
    db.session.commit()

    changed = sp.use_address_for_all(
        *shopper.ids, shopper.office.public_id, actor=SUBSCRIBER, now=NOW
    )

    db.session.expire_all()
    assert {s.id for s in changed} == {a.id, b.id, c.id, paused.id}
    for sub in (a, b, c, paused):
        assert sub.shipping_address_id == shopper.office.id
    for sub in (a, b, c):
        assert upcoming(sub).shipping_address_id == shopper.office.id
    assert upcoming(a).id != upcoming(b).id  # their cards still differ
    assert count_events("subscription.change_shipping_address") == 4


def test_use_payment_for_all_merges_orders_that_become_identical(app):
    shopper = make_shopper()
    a = subscribe(shopper)
    b = subscribe(shopper, payment=shopper.other_card)
    assert upcoming(a).id != upcoming(b).id

    sp.use_payment_for_all(*shopper.ids, shopper.card.public_id, actor=SUBSCRIBER, now=NOW)

    assert upcoming(a).id == upcoming(b).id
    assert upcoming(a).total_minor == 4000


def test_use_for_all_is_all_or_nothing_when_one_order_is_being_placed(app):
    shopper = make_shopper()
    a = subscribe(shopper)
    b = subscribe(shopper, on=date(2030, 3, 1))
    upcoming(b).status = OrderStatus.PENDING_PLACEMENT
    db.session.commit()
    before = snapshot(a, b, upcoming(a), upcoming(b))

    with pytest.raises(Conflict):
        sp.use_address_for_all(*shopper.ids, shopper.office.public_id, actor=SUBSCRIBER, now=NOW)

    assert snapshot(a, b, upcoming(a), upcoming(b)) == before
    assert count_events("subscription.change_shipping_address") == 0


def test_change_order_shipping_and_payment_leave_the_subscriptions_alone(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)

    sp.change_order_shipping(
        *shopper.ids, order.public_id, shopper.office.public_id, actor=STAFF, now=NOW
    )
    sp.change_order_payment(
        *shopper.ids, order.public_id, shopper.other_card.public_id, actor=STAFF, now=NOW
    )

    db.session.expire_all()
    assert (order.shipping_address_id, order.payment_id) == (
        shopper.office.id,
        shopper.other_card.id,
    )
    assert (sub.shipping_address_id, sub.payment_id) == (shopper.home.id, shopper.card.id)
    assert last_event("order.change_shipping_address").object_id == order.public_id
    assert last_event("order.change_payment").after == {"payment": shopper.other_card.public_id}


def test_change_order_shipping_onto_a_twin_merges(app):
    shopper = make_shopper()
    home = subscribe(shopper)
    office = subscribe(shopper, address=shopper.office)
    moved, survivor = upcoming(home), upcoming(office)

    sp.change_order_shipping(
        *shopper.ids, moved.public_id, shopper.office.public_id, actor=STAFF, now=NOW
    )

    db.session.expire_all()
    assert moved.status == OrderStatus.MERGED and upcoming(home).id == survivor.id
    assert (
        last_event("order.change_shipping_address").after["merged_order_id"] == survivor.public_id
    )
