"""Subscriber actions over REST (contracts §4.3, T10) in both scopes, and who may reach what."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.integrations import signing
from app.models import Event, Order, OrderStatus, Subscription
from tests.actionkit import FIRST, coffee, make_shopper, subscribe, upcoming
from tests.factories import make_api_key, make_merchant


@pytest.fixture
def merchant(app):
    return make_merchant(timezone="America/New_York")


def header(merchant, user_id: str, ts: int | None = None) -> dict[str, str]:
    """The Storefront scope as a headless store sends it: the §0.2 JSON header."""
    return {
        "Authorization": signing.build_auth_header(
            merchant.public_id, merchant.hash_key, user_id, ts
        )
    }


def og_auth(merchant, user_id: str, ts: int | None = None, *, quoted: bool = False):
    """The Storefront scope as the dashboard sends it: the og_auth value and the merchant."""
    value = signing.make_og_auth(merchant.hash_key, user_id, ts)
    if quoted:
        value = value.replace("|", "%7C")
    return {"Authorization": value, "X-OG-Merchant": merchant.public_id}


def subscriber(merchant, on: date = FIRST, shopper=None):
    shopper = shopper or make_shopper(merchant)
    sub = subscribe(shopper, coffee(merchant, 1000), on=on, quantity=2)
    return upcoming(sub), sub, shopper.customer.merchant_user_id


def patch(client, path: str, body: dict | None, headers: dict):
    return client.patch(
        path,
        data=json.dumps(body) if body is not None else "",
        headers={**headers, "Content-Type": "application/json"},
    )


def later(days: int) -> date:
    return FIRST + timedelta(days=days)


def test_change_frequency_keeps_the_next_order_date(client, merchant):
    order, sub, user = subscriber(merchant)
    response = patch(
        client,
        f"/subscriptions/{sub.public_id}/change_frequency/",
        {"every": 2, "every_period": 3},
        header(merchant, user),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["every"], body["every_period"]) == (2, 3)
    assert body["next_order_date"] == order.place_date.isoformat()
    event = db.session.query(Event).filter_by(type="subscription.change_frequency").one()
    assert event.actor_type == "subscriber" and event.actor_id == user
    assert event.before == {"every": 4, "every_period": 2}
    assert event.after == {"every": 2, "every_period": 3}


def test_cancel_takes_a_coded_reason_and_its_items_leave_the_order(client, merchant):
    order, sub, user = subscriber(merchant)
    response = patch(
        client,
        f"/subscriptions/{sub.public_id}/cancel/",
        {"cancel_reason": "1|Too much product"},
        og_auth(merchant, user),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["live"] is False and body["cancelled"] and body["cancel_reason_code"] == 1
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.CANCELLED


def test_change_place_date_merges_onto_an_order_of_the_same_address_and_card(client, merchant):
    shopper = make_shopper(merchant)
    order, _sub, user = subscriber(merchant, shopper=shopper)
    other, _other_sub, _ = subscriber(merchant, on=later(20), shopper=shopper)
    response = patch(
        client,
        f"/orders/{order.public_id}/change_place_date/",
        {"place": f"{later(20).isoformat()} 00:00:00"},
        header(merchant, user),
    )
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    moved = db.session.get(Order, order.id)
    assert moved.status == OrderStatus.MERGED
    assert moved.extra_data["merged_order_id"] == other.public_id
    assert len(db.session.get(Order, other.id).items) == 2


def test_skip_subscription_moves_it_to_this_date_plus_its_frequency(client, merchant):
    order, sub, user = subscriber(merchant)
    response = patch(
        client,
        f"/orders/{order.public_id}/skip_subscription/",
        {"subscription": sub.public_id},
        header(merchant, user),
    )
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    detail = client.get(f"/subscriptions/{sub.public_id}/", headers=header(merchant, user))
    assert detail.get_json()["next_order_date"] == (FIRST + timedelta(weeks=4)).isoformat()


def test_send_now_is_status_6(client, merchant):
    order, _sub, user = subscriber(merchant)
    response = patch(client, f"/orders/{order.public_id}/send_now/", None, header(merchant, user))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == OrderStatus.SEND_NOW


def test_instant_upsell_adds_a_one_time_item(client, merchant):
    order, _sub, user = subscriber(merchant)
    treats = coffee(merchant, 499)
    response = client.post(
        "/items/iu/",
        json={"order": order.public_id, "product": treats.product_id, "quantity": 1},
        headers=header(merchant, user),
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["one_time"] is True
    assert response.get_json()["order"] == order.public_id


def test_a_url_encoded_og_auth_is_accepted(client, merchant):
    order, sub, user = subscriber(merchant)
    response = patch(
        client,
        f"/subscriptions/{sub.public_id}/change_quantity/",
        {"quantity": 3},
        og_auth(merchant, user, quoted=True),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["quantity"] == 3


@pytest.mark.parametrize("make", [header, og_auth])
def test_a_credential_signed_two_hours_and_a_second_ago_is_403(client, merchant, make):
    _order, sub, user = subscriber(merchant)
    stale = int(time.time()) - 7201
    response = patch(
        client,
        f"/subscriptions/{sub.public_id}/change_quantity/",
        {"quantity": 3},
        make(merchant, user, stale),
    )
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Authentication Failed"}
    db.session.expire_all()
    assert db.session.get(Subscription, sub.id).quantity == 2


ACTIONS = [
    ("PATCH", "/subscriptions/{sub}/change_quantity/", {"quantity": 5}),
    ("PATCH", "/subscriptions/{sub}/change_frequency/", {"every": 1, "every_period": 3}),
    ("PATCH", "/subscriptions/{sub}/change_next_order_date/", {"order_date": "NEXT"}),
    ("PATCH", "/subscriptions/{sub}/cancel/", {"cancel_reason": "1|x"}),
    ("PATCH", "/subscriptions/{sub}/pause/", {}),
    ("PATCH", "/subscriptions/{sub}/change_email_reminder/", {"reminder_days": 9}),
    ("PATCH", "/orders/{order}/send_now/", None),
    ("PATCH", "/orders/{order}/cancel/", None),
    ("PATCH", "/orders/{order}/change_place_date/", {"place": "NEXT 00:00:00"}),
    ("PATCH", "/orders/{order}/skip_subscription/", {"subscription": "{sub}"}),
    ("PATCH", "/items/{item}/change_quantity/", {"quantity": 4}),
    ("DELETE", "/items/{item}/delete/", None),
    ("POST", "/items/iu/", {"order": "{order}", "product": "{product}", "quantity": 1}),
]


def _fill(value, ids):
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, str):
        for name, found in ids.items():
            value = value.replace("{" + name + "}", found)
        return value.replace("NEXT", later(30).isoformat())
    return value


def _state(order_id: int, sub_id: int) -> tuple:
    db.session.expire_all()
    order, sub = db.session.get(Order, order_id), db.session.get(Subscription, sub_id)
    return (
        order.status,
        order.place_date,
        sorted((i.public_id, i.quantity) for i in order.items),
        sub.quantity,
        sub.every,
        sub.live,
        sub.paused,
        sub.reminder_days,
    )


@pytest.mark.parametrize("method,path,body", ACTIONS)
def test_a_subscriber_cannot_reach_another_subscribers_objects(
    client, merchant, method, path, body
):
    order, sub, _user_a = subscriber(merchant)
    _other_order, _other_sub, user_b = subscriber(merchant)
    ids = {
        "sub": sub.public_id,
        "order": order.public_id,
        "item": order.items[0].public_id,
        "product": sub.product.product_id,
    }
    before = _state(order.id, sub.id)
    for headers in (header(merchant, user_b), og_auth(merchant, user_b)):
        response = client.open(
            _fill(path, ids),
            method=method,
            data=json.dumps(_fill(body, ids)) if body is not None else "",
            headers={**headers, "Content-Type": "application/json"},
        )
        assert response.status_code in (403, 404), (path, response.get_json())
    assert _state(order.id, sub.id) == before


@pytest.mark.parametrize("method,path,body", ACTIONS)
def test_another_merchants_key_or_signature_reaches_nothing(client, merchant, method, path, body):
    order, sub, user = subscriber(merchant)
    other = make_merchant()
    ids = {
        "sub": sub.public_id,
        "order": order.public_id,
        "item": order.items[0].public_id,
        "product": sub.product.product_id,
    }
    before = _state(order.id, sub.id)
    forged = signing.build_auth_header(other.public_id, other.hash_key, user)
    for headers in ({"x-api-key": make_api_key(other)}, {"Authorization": forged}):
        response = client.open(
            _fill(path, ids),
            method=method,
            data=json.dumps(_fill(body, ids)) if body is not None else "",
            headers={**headers, "Content-Type": "application/json"},
        )
        assert response.status_code in (403, 404), (path, response.get_json())
    assert _state(order.id, sub.id) == before


def test_application_scope_reaches_every_customer(client, merchant):
    _order, sub, _user = subscriber(merchant)
    response = patch(
        client,
        f"/subscriptions/{sub.public_id}/change_quantity/",
        {"quantity": 4},
        {"x-api-key": make_api_key(merchant)},
    )
    assert response.status_code == 200 and response.get_json()["quantity"] == 4
    event = db.session.query(Event).filter_by(type="subscription.change_quantity").one()
    assert event.actor_type == "api"


def test_bad_fields_are_400_naming_the_field(client, merchant):
    _order, sub, user = subscriber(merchant)
    response = patch(
        client,
        f"/subscriptions/{sub.public_id}/change_next_order_date/",
        {"order_date": "2001-01-01"},
        header(merchant, user),
    )
    assert response.status_code == 400
    assert "order_date" in response.get_json()
    response = client.patch(
        f"/subscriptions/{sub.public_id}/change_quantity/",
        data="not json",
        headers={**header(merchant, user), "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_cancel_reasons_are_listed_in_either_scope(client, merchant):
    _order, _sub, user = subscriber(merchant)
    for headers in (header(merchant, user), {"x-api-key": make_api_key(merchant)}):
        response = client.get("/merchant/cancel_reason/", headers=headers)
        assert response.status_code == 200
        assert response.get_json()["results"]


def test_reads_in_storefront_scope_see_only_the_customers_own(client, merchant):
    order, sub, user_a = subscriber(merchant)
    _order_b, sub_b, user_b = subscriber(merchant)
    as_b = header(merchant, user_b)
    assert client.get(f"/subscriptions/{sub.public_id}/", headers=as_b).status_code == 404
    assert client.get(f"/orders/{order.public_id}/", headers=as_b).status_code == 404
    assert client.get(f"/customers/{user_a}/", headers=as_b).status_code == 404
    assert client.get(f"/customers/{user_b}/", headers=as_b).status_code == 200
    for query in ("", f"?customer={user_a}"):
        listed = client.get(f"/subscriptions/{query}", headers=as_b).get_json()["results"]
        assert [s["public_id"] for s in listed] == ([sub_b.public_id] if not query else [])
    key = {"x-api-key": make_api_key(merchant)}
    assert len(client.get("/subscriptions/", headers=key).get_json()["results"]) == 2


def test_an_items_product_changes_for_a_one_time_item_only(client, merchant):
    order, sub, user = subscriber(merchant)
    treats, chews = coffee(merchant, 499), coffee(merchant, 650)
    added = client.post(
        "/items/iu/",
        json={"order": order.public_id, "product": treats.product_id, "quantity": 1},
        headers=header(merchant, user),
    ).get_json()
    response = patch(
        client,
        f"/items/{added['public_id']}/change_product/",
        {"product": chews.product_id},
        header(merchant, user),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["product"] == chews.product_id
    own = next(i for i in order.items if i.subscription_id == sub.id)
    refused = patch(
        client,
        f"/items/{own.public_id}/change_product/",
        {"product": chews.product_id},
        header(merchant, user),
    )
    assert refused.status_code == 400 and "product" in refused.get_json()
