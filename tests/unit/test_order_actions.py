"""Order and item actions (contracts §4.3, T10): change the place date (and merge), skip a
subscription or the whole order, send now, item quantity, remove, one-time items."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models import Order, OrderStatus
from app.services import item_actions, next_orders
from app.services import order_actions as actions
from app.services.errors import Conflict, NotFound, ValidationError
from tests.actionkit import (
    FIRST,
    NOW,
    STAFF,
    SUBSCRIBER,
    TODAY,
    coffee,
    count_events,
    item_of,
    last_event,
    make_shopper,
    snapshot,
    subscribe,
    upcoming,
)

# -- change the place date --------------------------------------------------------------------


def test_change_place_date_moves_the_whole_order(app):
    shopper = make_shopper()
    sub, neighbour = subscribe(shopper), subscribe(shopper)
    order = upcoming(sub)

    actions.change_place_date(
        *shopper.ids, order.public_id, "2030-01-15 00:00:00", actor=SUBSCRIBER, now=NOW
    )

    db.session.expire_all()
    assert order.place_date == date(2030, 1, 15) and order.status == OrderStatus.UNSENT
    assert upcoming(neighbour).id == order.id
    event = last_event("order.change_next_order_date")
    assert (event.object_type, event.object_id) == ("order", order.public_id)
    assert (event.before, event.after) == ({"place": "2030-02-01"}, {"place": "2030-01-15"})


def test_change_place_date_onto_an_order_with_the_same_address_and_card_merges(app):
    """T10: the moved order becomes MERGED (17) with extra_data.merged_order_id."""
    shopper = make_shopper()
    sub = subscribe(shopper, coffee(shopper.merchant, 1000))
    other = subscribe(shopper, coffee(shopper.merchant, 2500), on=date(2030, 3, 1))
    moved, survivor = upcoming(sub), upcoming(other)

    result = actions.change_place_date(
        *shopper.ids, moved.public_id, "2030-03-01", actor=SUBSCRIBER, now=NOW
    )

    db.session.expire_all()
    assert result.id == moved.id and moved.status == OrderStatus.MERGED == 17
    assert moved.extra_data == {"merged_order_id": survivor.public_id}
    assert moved.items == []
    assert {i.subscription_id for i in survivor.items} == {sub.id, other.id}
    assert survivor.status == OrderStatus.UNSENT and survivor.total_minor == 3500
    assert upcoming(sub).id == survivor.id
    event = last_event("order.change_next_order_date")
    assert event.after == {
        "place": "2030-03-01",
        "status": 17,
        "merged_order_id": survivor.public_id,
    }


@pytest.mark.parametrize("differs", ["address", "card"])
def test_orders_with_another_address_or_card_do_not_merge(app, differs):
    shopper = make_shopper()
    sub = subscribe(shopper)
    kw = {"address": shopper.office} if differs == "address" else {"payment": shopper.other_card}
    other = subscribe(shopper, on=date(2030, 3, 1), **kw)
    moved = upcoming(sub)

    actions.change_place_date(*shopper.ids, moved.public_id, "2030-03-01", actor=STAFF, now=NOW)

    db.session.expire_all()
    assert moved.status == OrderStatus.UNSENT and moved.place_date == date(2030, 3, 1)
    assert upcoming(other).id != moved.id


def test_another_customers_order_on_that_date_is_never_merged_into(app):
    shopper = make_shopper()
    stranger = make_shopper(shopper.merchant)  # another customer of the same merchant
    mine = upcoming(subscribe(shopper))
    theirs = upcoming(subscribe(stranger, on=date(2030, 3, 1)))
    before = snapshot(theirs)

    actions.change_place_date(*shopper.ids, mine.public_id, "2030-03-01", actor=STAFF, now=NOW)

    assert snapshot(theirs) == before
    assert mine.status == OrderStatus.UNSENT


@pytest.mark.parametrize("place", ["2030-01-10", "2030-01-10 23:59:59", "2029-12-01", "nope"])
def test_change_place_date_takes_only_future_dates(app, place):
    shopper = make_shopper()
    order = upcoming(subscribe(shopper))
    before = snapshot(order)
    with pytest.raises(ValidationError) as refused:
        actions.change_place_date(*shopper.ids, order.public_id, place, actor=STAFF, now=NOW)
    assert "place" in refused.value.fields
    assert snapshot(order) == before


def test_change_place_date_of_another_customers_order_is_not_found(app):
    shopper = make_shopper()
    stranger = make_shopper(shopper.merchant)  # another customer of the same merchant
    theirs = upcoming(subscribe(stranger))
    before = snapshot(theirs)
    with pytest.raises(NotFound):
        actions.change_place_date(
            *shopper.ids, theirs.public_id, "2030-03-01", actor=STAFF, now=NOW
        )
    assert snapshot(theirs) == before
    assert count_events("order.change_next_order_date") == 0


@pytest.mark.parametrize(
    "status",
    [OrderStatus.SEND_NOW, OrderStatus.PENDING_PLACEMENT, OrderStatus.CREDIT_CARD_RETRY,
     OrderStatus.SUCCESS, OrderStatus.CANCELLED],
)  # fmt: skip
def test_an_order_past_unsent_cannot_be_moved(app, status):
    shopper = make_shopper()
    order = upcoming(subscribe(shopper))
    order.status = status
    db.session.commit()
    before = snapshot(order)
    with pytest.raises(Conflict):
        actions.change_place_date(*shopper.ids, order.public_id, "2030-03-01", actor=STAFF, now=NOW)
    assert snapshot(order) == before


def test_a_placement_claim_after_the_move_sees_the_new_date(app):
    """The hold and placement's claim are both conditional UPDATEs: once the move committed,
    a claim for the old date finds nothing due."""
    from app.services import placement

    shopper = make_shopper()
    order = upcoming(subscribe(shopper))
    actions.change_place_date(*shopper.ids, order.public_id, "2030-03-01", actor=STAFF, now=NOW)
    assert placement.due_orders(shopper.merchant.id, FIRST, NOW) == []
    assert placement.due_orders(shopper.merchant.id, date(2030, 3, 1), NOW) == [order.id]


# -- skip -------------------------------------------------------------------------------------


def test_skip_subscription_moves_its_item_to_this_date_plus_frequency(app):
    """T10: skip_subscription -> its items leave the order, a new order at place + frequency."""
    shopper = make_shopper()
    sub = subscribe(shopper, every=1, period=3)
    neighbour = subscribe(shopper, coffee(shopper.merchant, 1500))
    order = upcoming(sub)
    cycle = item_of(sub).cycle

    actions.skip_subscription(
        *shopper.ids, order.public_id, sub.public_id, actor=SUBSCRIBER, now=NOW
    )

    db.session.expire_all()
    assert [i.subscription_id for i in order.items] == [neighbour.id]
    assert order.status == OrderStatus.UNSENT and order.total_minor == 1500
    later = upcoming(sub)
    assert later.place_date == date(2030, 3, 1) and later.id != order.id
    assert item_of(sub).cycle == cycle  # the skipped cycle is still to come
    event = last_event("order.skip_order")
    assert event.after["next"] == "2030-03-01" and event.after["subscription"] == sub.public_id


def test_skip_counts_from_the_orders_date_whatever_today_is(app):
    shopper = make_shopper()
    sub = subscribe(shopper, on=date(2030, 6, 30), every=2, period=2)
    order = upcoming(sub)
    actions.skip_subscription(
        *shopper.ids, order.public_id, sub.public_id, actor=SUBSCRIBER, now=NOW
    )
    assert upcoming(sub).place_date == date(2030, 7, 14)


def test_skipping_the_last_item_cancels_the_order_not_the_subscription(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)
    actions.skip_subscription(
        *shopper.ids, order.public_id, sub.public_id, actor=SUBSCRIBER, now=NOW
    )
    db.session.expire_all()
    assert order.status == OrderStatus.CANCELLED
    assert sub.live is True and upcoming(sub).place_date == date(2030, 3, 1)


def test_skip_joins_an_order_already_on_the_next_date(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    there = upcoming(subscribe(shopper, on=date(2030, 3, 1)))
    actions.skip_subscription(
        *shopper.ids, upcoming(sub).public_id, sub.public_id, actor=SUBSCRIBER, now=NOW
    )
    assert upcoming(sub).id == there.id and len(there.items) == 2


def test_skip_of_a_subscription_not_in_the_order_is_refused(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    elsewhere = subscribe(shopper, on=date(2030, 4, 1))
    order = upcoming(sub)
    before = snapshot(order, upcoming(elsewhere))
    with pytest.raises(ValidationError, match="not in this order"):
        actions.skip_subscription(
            *shopper.ids, order.public_id, elsewhere.public_id, actor=STAFF, now=NOW
        )
    assert snapshot(order, upcoming(elsewhere)) == before


def test_cancel_order_skips_every_subscription_and_drops_one_time_items(app):
    shopper = make_shopper()
    monthly = subscribe(shopper, every=1, period=3)
    weekly = subscribe(shopper, every=1, period=2)
    order = upcoming(monthly)
    item_actions.add_one_time_item(
        *shopper.ids, order.public_id, coffee(shopper.merchant).product_id, actor=STAFF, now=NOW
    )

    actions.cancel_order(*shopper.ids, order.public_id, actor=SUBSCRIBER, now=NOW)

    db.session.expire_all()
    assert order.status == OrderStatus.CANCELLED and order.items == []
    assert upcoming(monthly).place_date == date(2030, 3, 1)
    assert upcoming(weekly).place_date == date(2030, 2, 8)
    event = last_event("order.cancel")
    assert event.after["next"] == {monthly.public_id: "2030-03-01", weekly.public_id: "2030-02-08"}


# -- send now ---------------------------------------------------------------------------------


def test_send_now_queues_the_order_and_the_next_one_counts_from_today(app):
    """T10: send_now -> status 6 and placed in the next run; the following order at today +
    frequency."""
    from app.services import placement

    shopper = make_shopper()
    sub = subscribe(shopper)
    order = upcoming(sub)

    actions.send_now(*shopper.ids, order.public_id, actor=SUBSCRIBER)

    db.session.expire_all()
    assert order.status == OrderStatus.SEND_NOW and order.extra_data["send_now"] is True
    assert order.id in placement.due_orders(shopper.merchant.id, TODAY, NOW)
    event = last_event("order.send_now")
    assert (event.before, event.after, event.actor_type) == (
        {"status": 1},
        {"status": 6},
        "subscriber",
    )

    order.status = OrderStatus.SUCCESS  # as placement leaves it, then what follows
    order.next_order_pending = True
    db.session.commit()
    next_orders.follow_up([order.id], NOW)
    assert upcoming(sub).place_date == date(2030, 2, 7)  # today + 4 weeks, not 1 February's


def test_send_now_refuses_an_order_being_placed_and_another_customers(app):
    shopper = make_shopper()
    stranger = make_shopper(shopper.merchant)  # another customer of the same merchant
    order = upcoming(subscribe(shopper))
    order.status = OrderStatus.CREDIT_CARD_RETRY
    db.session.commit()
    with pytest.raises(Conflict, match="being placed"):
        actions.send_now(*shopper.ids, order.public_id, actor=SUBSCRIBER)
    theirs = upcoming(subscribe(stranger))
    with pytest.raises(NotFound):
        actions.send_now(*shopper.ids, theirs.public_id, actor=SUBSCRIBER)
    db.session.expire_all()
    assert theirs.status == OrderStatus.UNSENT
    # staff may send one waiting for a retry (orders.act)
    actions.send_now(shopper.merchant.id, None, order.public_id, actor=STAFF)
    assert order.status == OrderStatus.SEND_NOW


def test_an_action_waiting_on_a_placement_claim_is_refused_once_the_claim_commits(app):
    """Placement claims in its own transaction; an action that comes meanwhile waits on the
    row and then finds it claimed: Conflict, nothing written."""
    import threading

    from sqlalchemy import update

    from app.services import placement

    shopper = make_shopper()
    order = upcoming(subscribe(shopper))
    claimed, release = threading.Event(), threading.Event()

    def claim():
        with app.app_context(), db.engine.connect() as conn:
            conn.execute(
                update(Order)
                .where(
                    Order.id == order.id, placement.due_condition(shopper.merchant.id, FIRST, NOW)
                )
                .values(status=OrderStatus.PENDING_PLACEMENT, lease_token="c" * 32)
            )
            claimed.set()
            release.wait(0.5)  # the action below is waiting on the row meanwhile
            conn.commit()

    worker = threading.Thread(target=claim)
    worker.start()
    assert claimed.wait(10)
    try:
        with pytest.raises(Conflict, match="being placed"):
            actions.change_place_date(
                *shopper.ids, order.public_id, "2030-03-01", actor=STAFF, now=NOW
            )
    finally:
        release.set()
        worker.join(10)
    db.session.expire_all()
    assert (order.status, order.place_date) == (OrderStatus.PENDING_PLACEMENT, FIRST)
    assert count_events("order.change_next_order_date") == 0
