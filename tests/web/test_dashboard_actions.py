"""Each dashboard action through its route: the same service as the REST API, its event
(source subscriber), a confirmation in place (role=status) or the service's refusal
(role=alert), and nothing of another subscriber reachable."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.models import OrderStatus
from app.services import orders
from tests.actionkit import (
    FIRST,
    NOW,
    coffee,
    in_swap_group,
    last_event,
    make_shopper,
    snapshot,
    subscribe,
    upcoming,
)
from tests.dashkit import act, auth, board, shop_merchant


@pytest.fixture
def shopper(app):
    return make_shopper(shop_merchant())


def status_of(response) -> str:
    """The notice the dashboard answered with (its text), checked to be a status."""
    html = response.get_data(as_text=True)
    match = re.search(r'<p class="og-msi-notice[^"]*"[^>]*role="(\w+)">(.*?)</p>', html, re.S)
    assert match, html[:500]
    return f"{match.group(1)}: {' '.join(match.group(2).split())}"


def later(days: int) -> str:
    return (FIRST + timedelta(days=days)).isoformat()


def test_change_quantity(client, shopper):
    sub = subscribe(shopper)
    response = act(client, shopper, "quantity", subscription=sub.public_id, quantity="3")
    assert response.status_code == 200
    assert status_of(response) == "status: Quantity changed to 3."
    assert sub.quantity == 3 and upcoming(sub).items[0].quantity == 3
    event = last_event("subscription.change_quantity")
    assert event.actor_type == "subscriber" and event.after == {"quantity": 3}


def test_change_frequency_keeps_the_date(client, shopper):
    sub = subscribe(shopper)
    response = act(client, shopper, "frequency", subscription=sub.public_id, frequency="2_3")
    assert status_of(response).startswith("status: It now ships every 2 months.")
    assert (sub.every, sub.every_period) == (2, 3) and upcoming(sub).place_date == FIRST


def test_change_next_order_date_future_only_and_merges(client, shopper):
    sub = subscribe(shopper)
    other = subscribe(shopper, on=FIRST + timedelta(days=9))
    response = act(
        client, shopper, "next_date", subscription=sub.public_id, order_date="2020-01-01"
    )
    assert response.status_code == 422
    assert status_of(response).startswith("alert: order_date must be after today")
    assert upcoming(sub).place_date == FIRST
    moved = act(client, shopper, "next_date", subscription=sub.public_id, order_date=later(9))
    assert status_of(moved) == "status: Next order date changed."
    assert upcoming(sub).id == upcoming(other).id  # merged onto the order already there


def test_skip_moves_it_to_this_date_plus_its_frequency(client, shopper):
    sub = subscribe(shopper)
    order = upcoming(sub)
    response = act(client, shopper, "skip", order=order.public_id, subscription=sub.public_id)
    assert status_of(response).startswith("status: Skipped")
    assert upcoming(sub).place_date == FIRST + timedelta(weeks=4)
    assert order.status == OrderStatus.CANCELLED


def test_send_now(client, shopper):
    sub = subscribe(shopper)
    order = upcoming(sub)
    response = act(client, shopper, "send_now", order=order.public_id)
    assert status_of(response).startswith("status: Your order is on its way")
    db.session.refresh(order)
    assert order.status == OrderStatus.SEND_NOW
    html = response.get_data(as_text=True)
    assert "Sending now" in html and f"og-msi-{order.public_id}-send-now" not in html


def test_swap_only_within_the_group(client, shopper):
    merchant = shopper.merchant
    mine, sibling, stranger = (
        coffee(merchant, name=n) for n in ("Dark Roast", "Light Roast", "Green Tea")
    )
    in_swap_group("roasts", mine, sibling)
    sub = subscribe(shopper, mine)
    html = act(client, shopper, "quantity", subscription=sub.public_id, quantity="1").get_data(
        as_text=True
    )
    swap_select = html[html.index(f"og-msi-{sub.public_id}-swap") :]
    swap_select = swap_select[: swap_select.index("</select>")]
    assert "Light Roast" in swap_select and "Green Tea" not in swap_select
    refused = act(client, shopper, "swap", subscription=sub.public_id, product=stranger.product_id)
    assert refused.status_code == 422 and "swap group" in status_of(refused)
    done = act(client, shopper, "swap", subscription=sub.public_id, product=sibling.product_id)
    assert status_of(done) == "status: Swapped to Light Roast."
    assert sub.product_id == sibling.id


def test_add_a_one_time_item_and_remove_it(client, shopper):
    sub = subscribe(shopper)
    extra = coffee(shopper.merchant, 700, name="Biscotti")
    order = upcoming(sub)
    response = act(
        client, shopper, "add_item", order=order.public_id, product=extra.product_id, quantity="2"
    )
    assert status_of(response) == "status: Biscotti added to this order (one time)."
    item = next(i for i in upcoming(sub).items if i.one_time)
    assert (item.product_id, item.quantity) == (extra.id, 2)
    assert "2 × Biscotti" in response.get_data(as_text=True)
    removed = act(client, shopper, "remove_item", order=order.public_id, item=item.public_id)
    assert status_of(removed) == "status: Removed from this order."
    assert [i.one_time for i in upcoming(sub).items] == [False]


def test_out_of_stock_products_are_not_offered_and_refused(client, shopper):
    sub = subscribe(shopper)
    gone = coffee(shopper.merchant, name="Sold Out Beans", in_stock=False)
    order = upcoming(sub)
    response = act(client, shopper, "add_item", order=order.public_id, product=gone.product_id)
    assert response.status_code == 422
    assert status_of(response) == "alert: That product cannot be ordered now."
    assert "Sold Out Beans" not in response.get_data(as_text=True)


def test_pause_until_a_date_moves_the_next_order_there(client, shopper):
    sub = subscribe(shopper)
    paused = act(client, shopper, "pause", subscription=sub.public_id, until=later(30))
    assert status_of(paused) == f"status: Paused until {later(30)}."
    assert upcoming(sub).place_date == FIRST + timedelta(days=30)
    refused = act(client, shopper, "pause", subscription=sub.public_id, until="2020-01-01")
    assert refused.status_code == 422 and status_of(refused).startswith("alert: until must be")


def test_pause_indefinitely_then_resume(client, shopper):
    sub = subscribe(shopper)
    response = act(client, shopper, "pause", subscription=sub.public_id, until="")
    assert status_of(response) == "status: Paused until you resume it."
    assert sub.paused and upcoming(sub) is None
    assert f"og-msi-{sub.public_id}-resume" in response.get_data(as_text=True)
    resumed = act(client, shopper, "resume", subscription=sub.public_id, order_date=later(3))
    assert status_of(resumed) == "status: Resumed."
    assert not sub.paused and upcoming(sub).place_date == FIRST + timedelta(days=3)


def test_cancel_needs_a_reason_and_other_needs_text(client, shopper):
    sub = subscribe(shopper)
    no_reason = act(client, shopper, "cancel", subscription=sub.public_id, reason="")
    assert status_of(no_reason) == "alert: Please choose a reason."
    other = act(client, shopper, "cancel", subscription=sub.public_id, reason="7", reason_text="")
    assert other.status_code == 422 and status_of(other).startswith("alert: ")
    assert sub.live
    done = act(
        client, shopper, "cancel", subscription=sub.public_id, reason="7", reason_text="Moving|away"
    )
    assert status_of(done) == "status: Subscription cancelled."
    assert not sub.live and sub.cancel_reason_code == 7 and sub.cancel_reason == "Moving away"
    html = done.get_data(as_text=True)
    inactive = html[html.index("Cancelled subscriptions") :]
    assert "Subscription cancelled." in inactive  # shown where the subscription now is


def test_reactivate_and_not_when_discontinued(client, shopper):
    sub = subscribe(shopper)
    act(client, shopper, "cancel", subscription=sub.public_id, reason="1")
    response = act(
        client,
        shopper,
        "reactivate",
        subscription=sub.public_id,
        frequency="6_2",
        next_order_date=later(5),
    )
    assert status_of(response) == "status: Subscription reactivated."
    assert sub.live and (sub.every, sub.every_period) == (6, 2)
    assert upcoming(sub).place_date == FIRST + timedelta(days=5)
    act(client, shopper, "cancel", subscription=sub.public_id, reason="1")
    sub.product.discontinued = True
    db.session.commit()
    refused = act(client, shopper, "reactivate", subscription=sub.public_id, frequency="4_2")
    assert refused.status_code == 422 and "discontinued" in status_of(refused)
    assert not sub.live


def test_change_shipping_for_one_or_all(client, shopper):
    first, second = subscribe(shopper), subscribe(shopper, on=date(2030, 3, 1))
    one = act(
        client,
        shopper,
        "shipping",
        subscription=first.public_id,
        shipping_address=shopper.office.public_id,
    )
    assert status_of(one) == "status: Shipping address changed."
    assert first.shipping_address_id == shopper.office.id
    assert second.shipping_address_id == shopper.home.id
    every = act(
        client,
        shopper,
        "shipping",
        subscription=first.public_id,
        shipping_address=shopper.home.public_id,
        all="1",
    )
    assert status_of(every).startswith("status: All your subscriptions")
    assert first.shipping_address_id == second.shipping_address_id == shopper.home.id


def test_change_payment_among_the_customers_own(client, shopper):
    sub = subscribe(shopper)
    stranger = make_shopper(shopper.merchant)
    refused = act(
        client, shopper, "payment", subscription=sub.public_id, payment=stranger.card.public_id
    )
    assert refused.status_code == 404 and status_of(refused).startswith("alert: ")
    done = act(
        client, shopper, "payment", subscription=sub.public_id, payment=shopper.other_card.public_id
    )
    assert status_of(done) == "status: Payment method changed."
    assert sub.payment_id == shopper.other_card.id


def test_reminder_days(client, shopper):
    sub = subscribe(shopper)
    refused = act(client, shopper, "reminder", subscription=sub.public_id, reminder_days="2")
    assert refused.status_code == 422 and "reminder_days" in status_of(refused)
    done = act(client, shopper, "reminder", subscription=sub.public_id, reminder_days="9")
    assert status_of(done) == "status: Reminder set to 9 days before each order."
    assert sub.reminder_days == 9


@pytest.mark.parametrize(
    ("setting", "action"), [("pause", "pause"), ("skip", "skip"), ("swap", "swap")]
)
def test_what_the_merchant_switched_off_is_neither_shown_nor_done(client, shopper, setting, action):
    shopper.merchant.dashboard_settings = {setting: False}
    db.session.commit()
    mine, sibling = coffee(shopper.merchant), coffee(shopper.merchant)
    in_swap_group("g", mine, sibling)
    sub = subscribe(shopper, mine)
    before = snapshot(sub, upcoming(sub))
    response = act(
        client,
        shopper,
        action,
        subscription=sub.public_id,
        order=upcoming(sub).public_id,
        product=sibling.product_id,
    )
    assert response.status_code == 422
    assert status_of(response) == "alert: The store does not offer this."
    assert f'og-hx-post="http://localhost/{shopper.merchant.public_id}/msi/{action}"' not in (
        response.get_data(as_text=True)
    )
    assert snapshot(sub, upcoming(sub)) == before


def test_the_merchants_quantities_and_save_offer(client, shopper):
    shopper.merchant.dashboard_settings = {
        "quantities": [2, 4],
        "save_offer": {"kind": "frequency", "every": 8, "every_period": 2},
    }
    db.session.commit()
    sub = subscribe(shopper)
    html = act(client, shopper, "quantity", subscription=sub.public_id, quantity="2").get_data(
        as_text=True
    )
    quantity = html[html.index(f'id="og-msi-{sub.public_id}-quantity"') :]
    assert re.findall(r"<option[^>]*>(\d+)</option>", quantity[: quantity.index("</select>")]) == [
        "2",
        "4",
    ]
    cancel = html[html.index(f"og-msi-{sub.public_id}-cancel") :]
    assert "Ship every 8 weeks instead" in cancel
    assert cancel.index("Ship every 8 weeks instead") < cancel.index("Why are you cancelling?")
    saved = act(client, shopper, "frequency", subscription=sub.public_id, frequency="8_2")
    assert status_of(saved).startswith("status: It now ships every 8 weeks.")


def test_a_discount_to_stay_prices_the_next_orders_and_is_taken_once(client, shopper):
    shopper.merchant.dashboard_settings = {
        "save_offer": {"kind": "discount", "percent": 25, "orders": 2}
    }
    db.session.commit()
    sub = subscribe(shopper)  # 20.00, its upcoming order is its 2nd
    headers = auth(shopper.merchant, shopper.customer.merchant_user_id)
    html = board(client, shopper.merchant, headers).get_data(as_text=True)
    cancel = html[html.index(f"og-msi-{sub.public_id}-cancel") :]
    assert "would you stay for 25% off your next 2 orders?" in cancel
    assert cancel.index("Stay for 25% off") < cancel.index("Why are you cancelling?")

    response = act(client, shopper, "save_discount", subscription=sub.public_id)
    assert status_of(response) == (
        "status: Thank you for staying: your discount is on your next orders."
    )
    order = upcoming(sub)
    assert (order.items[0].total_price_minor, order.total_minor) == (1500, 1500)
    event = last_event("subscription.save_discount")
    assert event.actor_type == "subscriber" and event.before == {"save_discount": None}
    assert event.after["save_discount"] == {"percent": 25, "from": 2, "to": 3}
    html = response.get_data(as_text=True)
    assert "<dt>Discount to stay</dt><dd>25% off your next 2 orders</dd>" in html
    assert "Stay for 25% off" not in html and sub.live

    again = act(client, shopper, "save_discount", subscription=sub.public_id)
    assert again.status_code == 409
    assert status_of(again) == "alert: This subscription has its discount to stay already."
    order.items[0].cycle = 4  # its 4th order: past the two it was given
    orders.reprice(order, now=NOW)
    assert order.items[0].total_price_minor == 2000


def test_a_discount_to_stay_taken_after_send_now_starts_with_the_order_after(client, shopper):
    shopper.merchant.dashboard_settings = {
        "save_offer": {"kind": "discount", "percent": 25, "orders": 1}
    }
    db.session.commit()
    sub = subscribe(shopper)
    order = upcoming(sub)
    act(client, shopper, "send_now", order=order.public_id)
    response = act(client, shopper, "save_discount", subscription=sub.public_id)
    assert response.status_code == 200
    assert last_event("subscription.save_discount").after["save_discount"] == {
        "percent": 25,
        "from": 3,
        "to": 3,
    }
    assert upcoming(sub).status == OrderStatus.SEND_NOW and upcoming(sub).total_minor == 2000


def test_a_discount_to_stay_is_refused_when_the_store_offers_none(client, shopper):
    sub = subscribe(shopper)
    before = snapshot(sub, upcoming(sub))
    response = act(client, shopper, "save_discount", subscription=sub.public_id)
    assert response.status_code == 409
    assert status_of(response) == "alert: The store has no discount to stay on offer."
    assert snapshot(sub, upcoming(sub)) == before


def test_subscriber_a_cannot_change_subscriber_b(client, shopper):
    theirs = make_shopper(shopper.merchant)
    sub = subscribe(theirs)
    order = upcoming(sub)
    item = order.items[0]
    before = snapshot(sub, order)
    attempts = {
        "quantity": {"subscription": sub.public_id, "quantity": "5"},
        "frequency": {"subscription": sub.public_id, "frequency": "2_3"},
        "next_date": {"subscription": sub.public_id, "order_date": later(3)},
        "pause": {"subscription": sub.public_id},
        "cancel": {"subscription": sub.public_id, "reason": "1"},
        "shipping": {
            "subscription": sub.public_id,
            "shipping_address": theirs.office.public_id,
            "all": "1",
        },
        "payment": {"subscription": sub.public_id, "payment": theirs.other_card.public_id},
        "reminder": {"subscription": sub.public_id, "reminder_days": "9"},
        "skip": {"order": order.public_id, "subscription": sub.public_id},
        "send_now": {"order": order.public_id},
        "add_item": {"order": order.public_id, "product": sub.product.product_id},
        "remove_item": {"order": order.public_id, "item": item.public_id},
    }
    for action, form in attempts.items():
        response = act(client, shopper, action, **form)
        assert response.status_code in (403, 404), (action, response.status_code)
        assert sub.public_id not in response.get_data(as_text=True).split("</p>", 1)[1]
    assert snapshot(sub, order) == before
