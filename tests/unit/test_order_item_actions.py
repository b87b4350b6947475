"""Item actions (contracts §4.3, T10): an item's quantity, removing it, adding a one-time item
(Instant Upsell) and turning one into a subscription."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Offer, Order, OrderStatus, Subscription
from app.services import item_actions as actions
from app.services.errors import NotFound, ValidationError
from tests.actionkit import (
    NOW,
    STAFF,
    SUBSCRIBER,
    coffee,
    item_of,
    last_event,
    make_shopper,
    snapshot,
    subscribe,
    upcoming,
)


def test_change_item_quantity_changes_this_order_only(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    item = item_of(sub)

    actions.change_item_quantity(*shopper.ids, item.public_id, 3, actor=SUBSCRIBER, now=NOW)

    db.session.expire_all()
    assert item.quantity == 3 and sub.quantity == 1
    assert upcoming(sub).total_minor == 6000
    event = last_event("item.change_quantity")
    assert (event.object_type, event.object_id) == ("item", item.public_id)
    assert event.before == {"quantity": 1}
    assert event.after == {"order": upcoming(sub).public_id, "quantity": 3}


def test_change_item_quantity_refuses_bad_quantities_and_strangers(app):
    shopper = make_shopper()
    stranger = make_shopper(shopper.merchant)  # another customer of the same merchant
    item = item_of(subscribe(shopper))
    theirs = item_of(subscribe(stranger))
    with pytest.raises(ValidationError):
        actions.change_item_quantity(*shopper.ids, item.public_id, 0, actor=SUBSCRIBER, now=NOW)
    with pytest.raises(NotFound):
        actions.change_item_quantity(*shopper.ids, theirs.public_id, 2, actor=SUBSCRIBER, now=NOW)
    db.session.expire_all()
    assert (item.quantity, theirs.quantity) == (1, 1)


def test_add_one_time_item_to_the_next_order(app):
    """T10: POST /items/iu/ -> an item with one_time true."""
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)
    filters = coffee(shopper.merchant, 450)
    offer = db.session.scalar(select(Offer).where(Offer.merchant_id == shopper.merchant.id))

    item = actions.add_one_time_item(
        *shopper.ids, order.public_id, filters.product_id, 2, offer=offer.public_id,
        actor=SUBSCRIBER, now=NOW,
    )  # fmt: skip

    db.session.expire_all()
    assert item.one_time is True and item.subscription_id is None and item.quantity == 2
    assert item.order_id == order.id and order.total_minor == 2000 + 900
    event = last_event("item.create")
    assert event.after == {
        "order": order.public_id,
        "product": filters.product_id,
        "quantity": 2,
        "one_time": True,
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"discontinued": True}, "cannot be ordered"), ({"in_stock": False}, "cannot be ordered"),
     ({"currency": "EUR"}, "EUR")],
)  # fmt: skip
def test_add_one_time_item_needs_an_orderable_product(app, overrides, message):
    shopper = make_shopper()
    order = upcoming(subscribe(shopper))
    product = coffee(shopper.merchant, **overrides)
    before = snapshot(order)
    with pytest.raises(ValidationError, match=message):
        actions.add_one_time_item(
            *shopper.ids, order.public_id, product.product_id, actor=STAFF, now=NOW
        )
    with pytest.raises(ValidationError, match="no such product"):
        actions.add_one_time_item(*shopper.ids, order.public_id, "NOPE", actor=STAFF, now=NOW)
    with pytest.raises(ValidationError, match="no such offer"):
        actions.add_one_time_item(
            *shopper.ids,
            order.public_id,
            coffee(shopper.merchant).product_id,
            offer="x",
            actor=STAFF,
        )
    assert snapshot(order) == before


def test_remove_a_one_time_item_and_a_subscriptions_item(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)
    extra = actions.add_one_time_item(
        *shopper.ids,
        order.public_id,
        coffee(shopper.merchant, 300).product_id,
        actor=STAFF,
        now=NOW,
    )

    actions.remove_item(*shopper.ids, extra.public_id, actor=SUBSCRIBER, now=NOW)
    db.session.expire_all()
    assert [i.subscription_id for i in order.items] == [sub.id] and order.total_minor == 2000
    assert last_event("item.remove").after["order_status"] == OrderStatus.UNSENT

    actions.remove_item(*shopper.ids, item_of(sub).public_id, actor=SUBSCRIBER, now=NOW)
    db.session.expire_all()
    assert order.status == OrderStatus.CANCELLED  # the last item: the order, not the subscription
    assert sub.live is True and upcoming(sub).place_date == date(2030, 3, 1)


def test_subscribe_item_turns_a_one_time_item_into_a_subscription(app):
    shopper = make_shopper()
    order = upcoming(subscribe(shopper))
    filters = coffee(shopper.merchant, 450)
    item = actions.add_one_time_item(
        *shopper.ids, order.public_id, filters.product_id, actor=STAFF, now=NOW
    )

    sub = actions.subscribe_item(*shopper.ids, item.public_id, 2, 3, actor=SUBSCRIBER, now=NOW)

    db.session.expire_all()
    assert sub.live and (sub.every, sub.every_period, sub.quantity) == (2, 3, 1)
    assert (sub.shipping_address_id, sub.payment_id) == (shopper.home.id, shopper.card.id)
    assert item.one_time is False and item.subscription_id == sub.id and item.cycle == 1
    assert upcoming(sub).id == order.id
    event = last_event("subscription.create")
    assert event.object_id == sub.public_id and event.after["from_item"] == item.public_id


def test_subscribe_item_refuses_a_subscription_item_and_an_ineligible_product(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)
    with pytest.raises(ValidationError, match="one-time"):
        actions.subscribe_item(*shopper.ids, item_of(sub).public_id, 2, 3, actor=STAFF, now=NOW)
    plain = coffee(shopper.merchant, autoship_eligible=False)
    item = actions.add_one_time_item(
        *shopper.ids, order.public_id, plain.product_id, actor=STAFF, now=NOW
    )
    with pytest.raises(ValidationError, match="cannot be subscribed"):
        actions.subscribe_item(*shopper.ids, item.public_id, 2, 3, actor=STAFF, now=NOW)
    assert db.session.scalar(select(db.func.count()).select_from(Subscription)) == 1
    assert db.session.get(Order, order.id).status == OrderStatus.UNSENT


def test_change_product_of_a_one_time_item(app):
    """PATCH /items/<id>/change_product/: another orderable product, this order only."""
    shopper = make_shopper()
    order = upcoming(subscribe(shopper))  # 20.00
    item = actions.add_one_time_item(
        *shopper.ids, order.public_id, coffee(shopper.merchant, 450).product_id, 1,
        actor=SUBSCRIBER, now=NOW,
    )  # fmt: skip
    other = coffee(shopper.merchant, 700)

    actions.change_product(*shopper.ids, item.public_id, other.product_id, actor=SUBSCRIBER)

    db.session.expire_all()
    assert item.product_id == other.id and order.total_minor == 2000 + 700
    event = last_event("item.change_product")
    assert event.after == {"order": order.public_id, "product": other.product_id}


def test_change_product_refuses_a_subscriptions_item_an_unorderable_product_and_strangers(app):
    shopper = make_shopper()
    stranger = make_shopper(shopper.merchant)
    sub = subscribe(shopper)
    order = upcoming(sub)
    extra = actions.add_one_time_item(
        *shopper.ids, order.public_id, coffee(shopper.merchant, 450).product_id, 1,
        actor=SUBSCRIBER, now=NOW,
    )  # fmt: skip
    gone = coffee(shopper.merchant, 900, in_stock=False)
    fine = coffee(shopper.merchant, 700)
    before = snapshot(order, *order.items)
    with pytest.raises(ValidationError):  # a subscription's item follows its subscription
        actions.change_product(*shopper.ids, item_of(sub).public_id, fine.product_id, actor=STAFF)
    with pytest.raises(ValidationError):
        actions.change_product(*shopper.ids, extra.public_id, gone.product_id, actor=STAFF)
    with pytest.raises(NotFound):
        actions.change_product(*stranger.ids, extra.public_id, fine.product_id, actor=STAFF)
    db.session.expire_all()
    assert snapshot(order, *order.items) == before
