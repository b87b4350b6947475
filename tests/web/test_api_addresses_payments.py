"""A customer's addresses and payment methods over REST (contracts §7.2's REST alternatives):
create and update in both scopes, every field checked, card numbers refused, each change an
event, and nothing of another customer or merchant reachable."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.integrations import signing
from app.models import Address, Event, PaymentMethod
from tests.actionkit import make_shopper
from tests.dashkit import auth, shop_merchant
from tests.factories import make_api_key

HOME = {
    "first_name": "Maya",
    "last_name": "Okafor",
    "address": "12 Harbor Lane",
    "city": "Portland",
    "zip_postal_code": "04101",
    "country_code": "us",
}


@pytest.fixture
def shopper(app):
    return make_shopper(shop_merchant())


@pytest.fixture
def key(shopper):
    return {"x-api-key": make_api_key(shopper.merchant)}


def call(client, method: str, path: str, body, headers):
    return client.open(
        path,
        method=method,
        data=json.dumps(body),
        headers={"Content-Type": "application/json", **headers},
    )


def signed_in(shopper) -> dict[str, str]:
    headers = auth(shopper.merchant, shopper.customer.merchant_user_id)
    return {"Authorization": headers["X-OG-Auth"], "X-OG-Merchant": shopper.merchant.public_id}


def aes(shopper, text: str) -> str:
    return signing.encrypt_field(shopper.merchant.hash_key, text)


def test_create_an_address_with_a_key_and_the_same_one_again(client, shopper, key):
    body = {"customer": shopper.customer.merchant_user_id, **HOME}
    first = call(client, "POST", "/addresses/create/", body, key)
    assert first.status_code == 201
    made = first.get_json()
    assert (made["city"], made["country_code"], made["live"]) == ("Portland", "US", True)
    again = call(client, "POST", "/addresses/create/", {**body, "city": " portland "}, key)
    assert again.get_json()["public_id"] == made["public_id"]  # one address, not a twin
    assert Event.query.filter_by(type="address.create").count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({**HOME}, "customer"),
        ({**HOME, "customer": "NOBODY"}, "customer"),
        ({**HOME, "customer": "{user}", "country_code": "ZZ"}, "country_code"),
        ({**HOME, "customer": "{user}", "city": ""}, "city"),
        ({**HOME, "customer": "{user}", "zip_postal_code": "<b>"}, "zip_postal_code"),
    ],
)
def test_a_bad_address_is_refused_naming_the_field(client, shopper, key, body, field):
    body = {k: v.replace("{user}", shopper.customer.merchant_user_id) for k, v in body.items()}
    response = call(client, "POST", "/addresses/create/", body, key)
    assert response.status_code == 400 and field in response.get_json()
    assert Address.query.count() == 2  # the shopper's home and office


def test_the_signed_in_customer_adds_only_their_own(client, shopper):
    mine = call(client, "POST", "/addresses/create/", HOME, signed_in(shopper))
    assert mine.status_code == 201
    other = make_shopper(shopper.merchant)
    theirs = {**HOME, "customer": other.customer.merchant_user_id}
    assert call(client, "POST", "/addresses/create/", theirs, signed_in(shopper)).status_code == 404


def test_update_an_address_and_refuse_a_twin(client, shopper, key):
    body = {"customer": shopper.customer.merchant_user_id, **HOME}
    made = call(client, "POST", "/addresses/create/", body, key).get_json()
    path = f"/addresses/{made['public_id']}/update/"
    changed = call(client, "PATCH", path, {"city": "Bangor", "address2": "Apt 4"}, key)
    assert changed.status_code == 200
    assert (changed.get_json()["city"], changed.get_json()["first_name"]) == ("Bangor", "Maya")
    event = Event.query.filter_by(type="address.update").one()
    assert event.after == {"city": "Bangor", "address2": "Apt 4"}
    other = call(client, "POST", "/addresses/create/", {**body, "city": "Augusta"}, key)
    twin = call(
        client,
        "PATCH",
        f"/addresses/{other.get_json()['public_id']}/update/",
        {"city": "bangor", "address2": "apt 4"},
        key,
    )
    assert twin.status_code == 409 and made["public_id"] in twin.get_json()["detail"]
    incomplete = call(
        client, "PATCH", f"/addresses/{shopper.home.public_id}/update/", {"city": "X"}, key
    )
    assert incomplete.status_code == 400 and "last_name" in incomplete.get_json()


def test_payment_create_refresh_and_update(client, shopper, key):
    body = {
        "customer": shopper.customer.merchant_user_id,
        "token_id": "tok_new",
        "cc_type": 1,
        "cc_exp_date": aes(shopper, "09/2031"),
        "cc_last_4": aes(shopper, "4242"),
    }
    made = call(client, "POST", "/payments/create/", body, key)
    assert made.status_code == 201
    card = made.get_json()
    assert (card["cc_type"], card["cc_exp_date"]) == (1, "09/2031")
    assert "token_id" not in card and "tok_new" not in made.get_data(as_text=True)
    again = call(client, "POST", "/payments/create/", {**body, "cc_type": 2}, key)
    assert again.get_json()["public_id"] == card["public_id"] and again.get_json()["cc_type"] == 2
    path = f"/payments/{card['public_id']}/update/"
    updated = call(client, "PATCH", path, {"cc_exp_date": aes(shopper, "12/2034")}, key)
    assert updated.status_code == 200 and updated.get_json()["cc_exp_date"] == "12/2034"
    clash = call(client, "PATCH", path, {"token_id": shopper.card.token_id}, key)
    assert clash.status_code == 409
    event = Event.query.filter_by(type="payment.update").order_by(Event.id.desc()).first()
    assert "tok_" not in json.dumps(event.after) + json.dumps(event.before)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"token_id": "4111111111111111"}, "non_field_errors"),
        ({"note": "card 4111 1111 1111 1111"}, "non_field_errors"),
        ({"cc_exp_date": "garbage"}, "cc_exp_date"),
        ({"cc_type": "visa"}, "cc_type"),
        ({"token_id": ""}, "token_id"),
    ],
)
def test_a_bad_payment_is_refused_naming_the_field(client, shopper, key, changes, field):
    body = {"customer": shopper.customer.merchant_user_id, "token_id": "tok_x", **changes}
    response = call(client, "POST", "/payments/create/", body, key)
    assert response.status_code == 400 and field in response.get_json(), response.get_json()
    assert PaymentMethod.query.count() == 2  # the shopper's two cards


def test_another_merchant_or_customer_never_reaches_them(client, shopper, key):
    stranger = make_shopper(shop_merchant())
    their_key = {"x-api-key": make_api_key(stranger.merchant)}
    for method, path, body in (
        ("PATCH", f"/addresses/{shopper.home.public_id}/update/", {"city": "X"}),
        ("PATCH", f"/payments/{shopper.card.public_id}/update/", {"cc_type": 3}),
        ("POST", "/addresses/create/", {**HOME, "customer": shopper.customer.merchant_user_id}),
    ):
        response = call(client, method, path, body, their_key)
        assert response.status_code in (400, 404), (path, response.status_code)
    other = make_shopper(shopper.merchant)
    mine_only = signed_in(other)
    path = f"/payments/{shopper.card.public_id}/update/"
    assert call(client, "PATCH", path, {"cc_type": 3}, mine_only).status_code == 404
    db.session.expire_all()
    assert db.session.get(Address, shopper.home.id).city == "Albany"
    assert db.session.get(PaymentMethod, shopper.card.id).cc_type is None
