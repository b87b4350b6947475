"""Console: staff do every subscriber action from the subscriber's page, each an htmx round
trip answered with the page body, confirmed (or refused, next to the control) in place."""

from __future__ import annotations

from datetime import date, timedelta
from html import unescape

import pytest

from app.extensions import db
from app.models import Merchant, Order, OrderStatus, Subscription
from app.services import cancel_reasons
from tests.actionkit import (
    STAFF,
    coffee,
    in_swap_group,
    item_of,
    last_event,
    make_shopper,
    snapshot,
    subscribe,
    upcoming,
)
from tests.factories import HX, csrf_token, login, make_staff


@pytest.fixture
def shopper(owner):
    return make_shopper(db.session.get(Merchant, owner.merchant_id))


@pytest.fixture
def sub(shopper):
    return subscribe(shopper, quantity=2)


def act(client, sub, action, headers=HX, **data):
    token = csrf_token(client, f"/console/subscribers/{sub.customer.merchant_user_id}")
    return client.post(
        f"/console/subscribers/subscriptions/{sub.public_id}/{action}",
        data={**data, "csrf_token": token},
        headers=headers,
    )


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def fresh(sub) -> Subscription:
    db.session.expire_all()
    return db.session.get(Subscription, sub.id)


def staff_event(type_, owner):
    event = last_event(type_)
    assert event.actor_type == "staff" and event.actor_id == str(owner.id)
    return event


def assert_fragment(response, status=200):
    assert response.status_code == status, text(response)[:2000]
    body = text(response)
    assert body.lstrip().startswith('<div id="subscriber">') and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]
    return body


def test_detail_page_shows_a_card_with_the_actions(client, sub):
    page = text(client.get(f"/console/subscribers/{sub.customer.merchant_user_id}"))
    assert f'id="sub-{sub.public_id}"' in page and "Manage this subscription" in page
    for action in ("quantity", "frequency", "next_date", "skip", "send_now", "add_item"):
        assert f'data-action="{action}"' in page
    for action in ("pause", "shipping", "payment", "reminder", "cancel"):
        assert f'data-action="{action}"' in page
    assert 'data-action="swap"' not in page  # not in a swap group
    assert 'data-action="resume"' not in page and 'data-action="reactivate"' not in page


def test_change_quantity_is_confirmed_in_place(client, owner, sub):
    body = assert_fragment(act(client, sub, "quantity", quantity="5"))
    assert "✓ Quantity is now 5." in body
    assert fresh(sub).quantity == 5 and item_of(sub).quantity == 5
    event = staff_event("subscription.change_quantity", owner)
    assert event.before == {"quantity": 2} and event.after == {"quantity": 5}


@pytest.mark.parametrize("value", ["0", "100", "two", "", "\u00b2", "\u0663"])
def test_bad_quantity_is_refused_next_to_its_field(client, sub, value):
    body = assert_fragment(act(client, sub, "quantity", quantity=value), 400)
    assert f'id="e-{sub.public_id}-quantity"' in body and "whole number from 1 to 99" in body
    assert 'aria-invalid="true"' in body
    assert fresh(sub).quantity == 2


def test_without_htmx_the_answer_is_the_whole_page(client, sub):
    response = act(client, sub, "quantity", headers=None, quantity="3")
    assert response.status_code == 200 and "<html" in text(response)
    assert "✓ Quantity is now 3." in text(response)


def test_change_frequency(client, owner, sub):
    before = upcoming(sub).place_date
    body = assert_fragment(act(client, sub, "frequency", every="2", every_period="3"))
    assert "Ships every 2 months now" in body
    assert (fresh(sub).every, fresh(sub).every_period) == (2, 3)
    assert upcoming(sub).place_date == before
    staff_event("subscription.change_frequency", owner)


def test_bad_frequency_is_refused(client, sub):
    body = assert_fragment(act(client, sub, "frequency", every="0", every_period="2"), 400)
    assert f'id="e-{sub.public_id}-every"' in body
    assert fresh(sub).every == 4


def test_change_next_order_date(client, owner, sub):
    body = assert_fragment(act(client, sub, "next_date", order_date="2030-03-03"))
    assert "Next order moved to 2030-03-03." in body
    assert upcoming(sub).place_date == date(2030, 3, 3)
    staff_event("subscription.change_next_order_date", owner)


@pytest.mark.parametrize("value", ["2001-01-01", "not a date", ""])
def test_next_order_date_must_be_a_future_date(client, sub, value):
    body = assert_fragment(act(client, sub, "next_date", order_date=value), 400)
    assert f'id="e-{sub.public_id}-order_date"' in body
    assert upcoming(sub).place_date == date(2030, 2, 1)


def test_skip_moves_the_item_to_the_order_after(client, owner, sub):
    order = upcoming(sub)
    body = assert_fragment(act(client, sub, "skip"))
    assert "Skipped" in body
    assert upcoming(sub).place_date == date(2030, 3, 1)  # 1 February + 4 weeks
    assert db.session.get(Order, order.id).status == OrderStatus.CANCELLED
    staff_event("order.skip_order", owner)


def test_send_now_queues_the_order(client, owner, sub):
    order = upcoming(sub)
    body = assert_fragment(act(client, sub, "send_now"))
    assert "queued to send now" in body
    assert db.session.get(Order, order.id).status == OrderStatus.SEND_NOW
    staff_event("order.send_now", owner)


def test_send_now_twice_is_refused_in_place(client, sub):
    act(client, sub, "send_now")
    body = assert_fragment(act(client, sub, "send_now"), 409)
    assert f'id="s-{sub.public_id}-send_now"' in body and 'role="alert"' in body


def test_swap_within_the_group_only(client, owner, shopper, sub):
    other, stranger = coffee(shopper.merchant), coffee(shopper.merchant)
    in_swap_group("beans", sub.product, other)
    page = text(client.get(f"/console/subscribers/{shopper.customer.merchant_user_id}"))
    assert 'data-action="swap"' in page and other.product_id in page
    refused = assert_fragment(act(client, sub, "swap", product=stranger.product_id), 400)
    assert "its own swap group" in refused and f'id="e-{sub.public_id}-product"' in refused
    body = assert_fragment(act(client, sub, "swap", product=other.product_id))
    assert f"Swapped to {other.name}." in body
    assert fresh(sub).product_id == other.id
    staff_event("subscription.sku_swap", owner)


def test_add_a_one_time_item(client, owner, shopper, sub):
    extra = coffee(shopper.merchant, name="Mug")
    body = assert_fragment(act(client, sub, "add_item", product=extra.product_id, quantity="2"))
    assert "Added 2 × Mug to the next order, once." in body
    once = [i for i in upcoming(sub).items if i.one_time]
    assert [(i.product_id, i.quantity) for i in once] == [(extra.id, 2)]
    staff_event("item.create", owner)


def test_add_an_unknown_product_is_refused(client, sub):
    body = assert_fragment(act(client, sub, "add_item", product="NOPE", quantity="1"), 400)
    assert f'id="e-{sub.public_id}-product">unknown product<' in body
    assert len(upcoming(sub).items) == 1


def test_pause_indefinitely_then_resume(client, owner, sub):
    body = assert_fragment(act(client, sub, "pause", until=""))
    assert "Paused until resumed." in body and 'data-action="resume"' in body
    assert fresh(sub).paused is True and upcoming(sub) is None
    staff_event("subscription.pause", owner)
    body = assert_fragment(act(client, sub, "resume", order_date="2030-05-05"))
    assert "Resumed." in body
    assert fresh(sub).paused is False and upcoming(sub).place_date == date(2030, 5, 5)
    staff_event("subscription.resume", owner)


def test_pause_until_a_date(client, sub):
    body = assert_fragment(act(client, sub, "pause", until="2030-06-01"))
    assert "Paused until 2030-06-01." in body
    assert upcoming(sub).place_date == date(2030, 6, 1)


def test_pause_until_a_past_date_is_refused(client, sub):
    body = assert_fragment(act(client, sub, "pause", until="2020-01-01"), 400)
    assert f'id="e-{sub.public_id}-until"' in body
    assert fresh(sub).paused is False


def test_resume_a_live_subscription_is_a_conflict(client, sub):
    body = assert_fragment(act(client, sub, "resume"), 409)
    assert "not paused" in body


def test_cancel_with_a_reason_then_reactivate(client, owner, sub):
    body = assert_fragment(act(client, sub, "cancel", cancel_code="2", cancel_text=""))
    assert "Cancelled." in body and 'data-action="reactivate"' in body
    assert 'data-fact="cancel-reason">It is too expensive<' in body
    assert fresh(sub).live is False and fresh(sub).cancel_reason_code == 2
    event = staff_event("subscription.cancel", owner)
    assert event.after["cancel_reason_code"] == 2
    day = (date.today() + timedelta(days=20)).isoformat()
    body = assert_fragment(act(client, sub, "reactivate", next_order_date=day))
    assert "Reactivated." in body
    assert fresh(sub).live is True and upcoming(sub).place_date.isoformat() == day
    staff_event("subscription.reactivate", owner)


@pytest.mark.parametrize(
    "code, words, message",
    [
        ("", "", "Please choose a reason for cancelling."),
        ("7", "", 'Please tell us more for "Other".'),
        ("99", "", "Please choose one of the listed reasons."),
    ],
)
def test_cancel_needs_a_listed_reason_and_other_needs_text(client, sub, code, words, message):
    body = assert_fragment(act(client, sub, "cancel", cancel_code=code, cancel_text=words), 400)
    assert message in body and f'id="e-{sub.public_id}-cancel_reason"' in body
    assert fresh(sub).live is True


def test_cancel_with_other_keeps_their_words(client, sub):
    assert_fragment(act(client, sub, "cancel", cancel_code="7", cancel_text="Moving abroad"))
    assert fresh(sub).cancel_reason == "Moving abroad"


def test_cancel_offers_the_merchants_own_reasons(client, shopper, sub):
    reasons = [{"code": 40, "reason": "Found a cheaper shop", "requires_text": False}]
    cancel_reasons.set_reasons(shopper.merchant.id, reasons, actor=STAFF)
    page = text(client.get(f"/console/subscribers/{shopper.customer.merchant_user_id}"))
    assert "Found a cheaper shop" in page and "I have too much product" not in page
    assert_fragment(act(client, sub, "cancel", cancel_code="40"))
    assert fresh(sub).cancel_reason_code == 40


def test_reactivate_a_discontinued_product_is_refused(client, sub):
    act(client, sub, "cancel", cancel_code="1")
    sub.product.discontinued = True
    db.session.commit()
    body = assert_fragment(act(client, sub, "reactivate"), 400)
    assert "discontinued" in body and fresh(sub).live is False


def test_change_shipping_for_one_then_for_all(client, owner, shopper, sub):
    second = subscribe(shopper)
    body = assert_fragment(act(client, sub, "shipping", address=shopper.office.public_id))
    assert "Ships to this address now." in body
    assert fresh(sub).shipping_address_id == shopper.office.id
    assert fresh(second).shipping_address_id == shopper.home.id
    assert upcoming(sub).shipping_address_id == shopper.office.id
    staff_event("subscription.change_shipping_address", owner)
    assert_fragment(act(client, sub, "shipping", address=shopper.home.public_id, for_all="on"))
    assert {fresh(s).shipping_address_id for s in (sub, second)} == {shopper.home.id}


def test_an_address_of_another_customer_is_refused_next_to_the_field(client, shopper, sub):
    stranger = make_shopper(shopper.merchant)
    before = snapshot(fresh(sub))
    body = assert_fragment(act(client, sub, "shipping", address=stranger.home.public_id), 400)
    assert f'id="e-{sub.public_id}-address"' in body
    assert snapshot(fresh(sub)) == before


def test_change_payment_for_one_and_for_all(client, owner, shopper, sub):
    second = subscribe(shopper)
    body = assert_fragment(act(client, sub, "payment", payment=shopper.other_card.public_id))
    assert "Paid with this method now." in body
    assert fresh(sub).payment_id == shopper.other_card.id
    staff_event("subscription.change_payment", owner)
    assert_fragment(
        act(client, second, "payment", payment=shopper.other_card.public_id, for_all="on")
    )
    assert fresh(second).payment_id == shopper.other_card.id
    refused = assert_fragment(act(client, sub, "payment", payment="nope"), 400)
    assert f'id="e-{sub.public_id}-payment"' in refused


def test_reminder_days(client, owner, sub):
    body = assert_fragment(act(client, sub, "reminder", reminder_days="7"))
    assert "Reminder 7 days before." in body and fresh(sub).reminder_days == 7
    staff_event("subscription.change_email_reminder", owner)
    refused = assert_fragment(act(client, sub, "reminder", reminder_days="2"), 400)
    assert f'id="e-{sub.public_id}-reminder_days"' in refused
    assert fresh(sub).reminder_days == 7
    assert "store's setting" in text(act(client, sub, "reminder", reminder_days=""))


def test_staff_who_are_not_owners_can_act(app, shopper, sub):
    client = app.test_client()
    clerk = make_staff(shopper.merchant, role="staff")
    login(client, clerk)
    assert_fragment(act(client, sub, "quantity", quantity="4"))
    staff_event("subscription.change_quantity", clerk)
    assert fresh(sub).quantity == 4


def test_another_merchants_subscription_is_not_found(client, sub):
    other = subscribe(make_shopper())
    assert act(client, other, "quantity", quantity="4").status_code == 404
    assert fresh(other).quantity == 1


def test_unknown_action_is_not_found(client, sub):
    assert act(client, sub, "explode").status_code == 404


def test_actions_need_login_and_csrf(app, client, sub):
    path = f"/console/subscribers/subscriptions/{sub.public_id}/quantity"
    assert client.post(path, data={"quantity": "3"}).status_code == 400  # no CSRF token
    anonymous = app.test_client()
    token = csrf_token(anonymous)
    response = anonymous.post(path, data={"quantity": "3", "csrf_token": token})
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
    assert fresh(sub).quantity == 2


def test_a_refused_form_keeps_what_was_typed_and_says_it_once(client, sub):
    body = assert_fragment(act(client, sub, "quantity", quantity="120"), 400)
    assert (
        f'id="q-{sub.public_id}" name="quantity" type="number" min="1" max="99" value="120"' in body
    )
    assert body.count("a whole number from 1 to 99") == 1  # at the field, not again below
    body = assert_fragment(act(client, sub, "resume"), 409)  # no field: said at the form
    assert f'id="s-{sub.public_id}-resume"' in body


def test_swap_choices_are_each_product_once_in_its_groups(client, shopper, sub):
    both, discontinued = coffee(shopper.merchant), coffee(shopper.merchant, discontinued=True)
    in_swap_group("beans", sub.product, both, discontinued)
    in_swap_group("roasts", sub.product, both)
    page = text(client.get(f"/console/subscribers/{shopper.customer.merchant_user_id}"))
    start = page.index(f'<select id="sw-{sub.public_id}"')
    swap = page[start : page.index("</select>", start)]
    assert swap.count(f'<option value="{both.product_id}">') == 1
    assert discontinued.product_id not in swap


def test_staff_give_the_discount_to_stay_once(client, owner, shopper, sub):
    page = text(client.get(f"/console/subscribers/{sub.customer.merchant_user_id}"))
    assert 'data-action="save_discount"' not in page  # the store offers none
    shopper.merchant.dashboard_settings = {
        "save_offer": {"kind": "discount", "percent": 10, "orders": 1}
    }
    db.session.commit()
    page = text(client.get(f"/console/subscribers/{sub.customer.merchant_user_id}"))
    assert "Give 10% off your next order" in page
    body = assert_fragment(act(client, sub, "save_discount"))
    assert "Discount to stay given." in body and 'data-action="save_discount"' not in body
    assert 'data-fact="save-discount">10% off, orders 2 to 2<' in body
    event = staff_event("subscription.save_discount", owner)
    assert event.after["save_discount"] == {"percent": 10, "from": 2, "to": 2}
    assert item_of(sub).total_price_minor == 2 * 1800  # 2 × 20.00, 10 % off


def item_act(client, item, action, headers=HX, **data):
    token = csrf_token(client, f"/console/subscribers/{item.order.customer.merchant_user_id}")
    return client.post(
        f"/console/subscribers/items/{item.public_id}/{action}",
        data={**data, "csrf_token": token},
        headers=headers,
    )


def one_time_item(client, shopper, sub):
    extra = coffee(shopper.merchant, name="Mug")
    assert_fragment(act(client, sub, "add_item", product=extra.product_id, quantity="1"))
    return next(i for i in upcoming(sub).items if i.one_time)


def test_staff_change_an_items_quantity_this_time_only(client, owner, sub):
    item = item_of(sub)
    page = text(client.get(f"/console/subscribers/{sub.customer.merchant_user_id}"))
    assert f'data-item="{item.public_id}"' in page and "Upcoming orders" in page
    body = assert_fragment(item_act(client, item, "item_quantity", quantity="5"))
    assert f'id="s-{item.public_id}">✓ 5 in this order.' in body
    assert item_of(sub).quantity == 5 and fresh(sub).quantity == 2
    assert staff_event("item.change_quantity", owner).after["quantity"] == 5


@pytest.mark.parametrize("value", ["0", "", "abc", "101"])
def test_a_bad_item_quantity_is_refused_at_its_item(client, sub, value):
    item = item_of(sub)
    before = snapshot(item)
    body = assert_fragment(item_act(client, item, "item_quantity", quantity=value), 400)
    assert f'role="alert" id="s-{item.public_id}"' in body
    assert snapshot(item_of(sub)) == before


def test_staff_take_a_one_time_item_out_and_move_a_subscription_item_on(
    client, owner, shopper, sub
):
    extra = one_time_item(client, shopper, sub)
    body = assert_fragment(item_act(client, extra, "remove_item"))
    assert "✓ Taken out of the order." in body
    assert all(not i.one_time for i in upcoming(sub).items)
    first = upcoming(sub)
    body = assert_fragment(item_act(client, item_of(sub), "remove_item"))
    assert "✓ Moved to its next order." in body
    assert upcoming(sub).place_date > first.place_date
    staff_event("item.remove", owner)


def test_staff_make_a_one_time_item_a_subscription(client, owner, shopper, sub):
    extra = one_time_item(client, shopper, sub)
    body = assert_fragment(item_act(client, extra, "subscribe_item", every="2", every_period="3"))
    assert "✓ Now a subscription, every 2 months." in body
    event = staff_event("subscription.create", owner)
    assert event.after["from_item"] == extra.public_id
    bad = assert_fragment(item_act(client, item_of(sub), "subscribe_item", every="2"), 400)
    assert "Only a one-time item can become a subscription." in bad


def test_another_merchants_item_and_an_unknown_action_are_not_found(client, sub):
    theirs = item_of(subscribe(make_shopper()))
    assert item_act(client, theirs, "item_quantity", quantity="3").status_code == 404
    assert item_act(client, item_of(sub), "explode").status_code == 404
