"""Instant upsell services (contracts §2.1, §4.3): which order an upsell adds to, a new
subscription joining an upcoming order, and what the next order XML then carries."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree

from app.extensions import db
from app.integrations.xml import order as order_xml
from app.models import Order, OrderStatus, Subscription
from app.services import instant_upsell, item_actions, order_documents
from app.services.errors import Conflict, NotFound, ValidationError
from tests.actionkit import (
    FIRST,
    NOW,
    STAFF,
    SUBSCRIBER,
    coffee,
    last_event,
    make_shopper,
    subscribe,
    upcoming,
)


def test_next_order_is_the_earliest_that_may_still_change_in_that_currency(app):
    shopper = make_shopper()
    later = upcoming(subscribe(shopper, on=date(2030, 3, 1)))
    sooner = upcoming(subscribe(shopper, on=FIRST, address=shopper.office))
    merchant_id, customer_id = shopper.ids
    assert instant_upsell.next_order(merchant_id, customer_id, "USD").id == sooner.id
    assert instant_upsell.next_order(merchant_id, customer_id, "EUR") is None
    sooner.status = OrderStatus.SEND_NOW  # queued for placement: no more edits
    db.session.commit()
    assert instant_upsell.next_order(merchant_id, customer_id, "USD").id == later.id
    stranger = make_shopper(shopper.merchant)
    assert instant_upsell.next_order(merchant_id, stranger.customer.id, "USD") is None


def test_subscribe_in_order_joins_the_upcoming_order(app):
    shopper = make_shopper()
    order = upcoming(subscribe(shopper))
    treats = coffee(shopper.merchant, 650)

    sub = instant_upsell.subscribe_in_order(
        *shopper.ids, order.public_id, treats.product_id, 2, 3, 2, actor=SUBSCRIBER, now=NOW
    )

    db.session.expire_all()
    assert sub.live and (sub.every, sub.every_period, sub.quantity) == (2, 3, 2)
    assert (sub.shipping_address_id, sub.payment_id) == (shopper.home.id, shopper.card.id)
    assert upcoming(sub).id == order.id  # this order is its first
    [item] = [i for i in db.session.get(Order, order.id).items if i.subscription_id == sub.id]
    assert (item.one_time, item.cycle, item.quantity) == (False, 1, 2)
    assert db.session.get(Order, order.id).total_minor == 2000 + 2 * 650
    event = last_event("subscription.create")
    assert event.object_id == sub.public_id and event.after["instant_upsell"] is True
    assert event.after["order"] == order.public_id


def test_subscribe_in_order_refuses_strangers_bad_input_and_orders_being_placed(app):
    shopper = make_shopper()
    stranger = make_shopper(shopper.merchant)
    order = upcoming(subscribe(shopper))
    theirs = upcoming(subscribe(stranger))
    treats = coffee(shopper.merchant, 650)
    args = (treats.product_id, 2, 3)
    with pytest.raises(NotFound):
        instant_upsell.subscribe_in_order(*shopper.ids, theirs.public_id, *args, actor=SUBSCRIBER)
    with pytest.raises(ValidationError) as missing:
        instant_upsell.subscribe_in_order(
            *shopper.ids, order.public_id, treats.product_id, None, 3, actor=SUBSCRIBER
        )
    assert missing.value.fields == {"every": "required"}
    plain = coffee(shopper.merchant, autoship_eligible=False)
    with pytest.raises(ValidationError, match="cannot be subscribed"):
        instant_upsell.subscribe_in_order(
            *shopper.ids, order.public_id, plain.product_id, 2, 3, actor=SUBSCRIBER
        )
    gone = coffee(shopper.merchant, in_stock=False)
    with pytest.raises(ValidationError, match="cannot be ordered"):
        instant_upsell.subscribe_in_order(
            *shopper.ids, order.public_id, gone.product_id, 2, 3, actor=SUBSCRIBER
        )
    order.status = OrderStatus.SEND_NOW
    db.session.commit()
    with pytest.raises(Conflict):
        instant_upsell.subscribe_in_order(*shopper.ids, order.public_id, *args, actor=SUBSCRIBER)
    assert db.session.query(Subscription).count() == 2  # only the two made by checkout


def test_add_is_once_or_as_a_subscription(app):
    shopper = make_shopper()
    order = upcoming(subscribe(shopper))
    treats = coffee(shopper.merchant, 650)
    item = instant_upsell.add(
        *shopper.ids, order.public_id, treats.product_id, "once", offer=None, actor=SUBSCRIBER
    )
    assert item.one_time and item.order_id == order.id
    assert instant_upsell.added(item) == {"date": "February 1", "name": treats.name, "every": None}
    sub = instant_upsell.add(
        *shopper.ids,
        order.public_id,
        treats.product_id,
        "subscribe",
        "4_2",
        offer=None,
        actor=SUBSCRIBER,
    )
    assert instant_upsell.added(sub)["every"] == "4 weeks"
    for kind, frequency in (("twice", "4_2"), ("subscribe", "weekly"), ("subscribe", None)):
        with pytest.raises(ValidationError):
            instant_upsell.add(
                *shopper.ids,
                order.public_id,
                treats.product_id,
                kind,
                frequency,
                offer=None,
                actor=SUBSCRIBER,
            )


def test_the_next_order_xml_carries_both_upsells(app):
    """The one-time item is <type>one-time</type>; the new subscription's item is not."""
    shopper = make_shopper()
    order = upcoming(subscribe(shopper))
    once, monthly = coffee(shopper.merchant, 650), coffee(shopper.merchant, 900)
    item_actions.add_one_time_item(
        *shopper.ids, order.public_id, once.product_id, actor=STAFF, now=NOW
    )
    instant_upsell.subscribe_in_order(
        *shopper.ids, order.public_id, monthly.product_id, 1, 3, actor=STAFF, now=NOW
    )
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    doc = order_documents.build(order, shopper.merchant, as_of=FIRST, now=NOW)
    root = etree.fromstring(order_xml.build_order(doc))
    items = {i.findtext("product_id"): i for i in root.iter("item")}
    assert items[once.product_id].findtext("type") == "one-time"
    assert items[monthly.product_id].find("type") is None
    assert items[monthly.product_id].findtext("subscription/every") == "1"
