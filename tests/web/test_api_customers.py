"""Customers over REST (contracts §7.3): list in both page modes, create (Application scope
only), update of extra_data, locale and price_code, each an event, isolated per customer and
merchant."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.integrations import signing
from app.models import Customer, Event
from tests.factories import make_api_key, make_customer, make_merchant


@pytest.fixture
def merchant(app):
    return make_merchant()


@pytest.fixture
def key(merchant):
    return {"x-api-key": make_api_key(merchant)}


def call(client, method: str, path: str, body, headers):
    return client.open(
        path,
        method=method,
        data=body if isinstance(body, str) else json.dumps(body),
        headers={"Content-Type": "application/json", **headers},
    )


def test_create_then_list_in_both_modes(client, merchant, key):
    body = {
        "merchant_user_id": "DC1",
        "email": "Ana@Example.COM",
        "phone_number": " 555-555-0101 ",
        "first_name": "Ana",
        "extra_data": '{"tier": "gold"}',
        "locale": "fr_CA",
        "price_code": "VIP",
    }
    made = call(client, "POST", "/customers/create/", body, key)
    assert made.status_code == 201
    shown = made.get_json()
    assert (shown["email"], shown["phone_number"], shown["locale"]) == (
        "Ana@example.com",
        "555-555-0101",
        "fr-ca",
    )
    assert shown["extra_data"] == {"tier": "gold"} and shown["price_code"] == "VIP"
    assert Event.query.filter_by(type="customer.create").count() == 1
    for n in range(2, 5):
        make_customer(merchant, f"DC{n}")
    paged = client.get("/customers/?page_size=3", headers=key).get_json()
    assert paged["count"] == 4 and [c["merchant_user_id"] for c in paged["results"]] == [
        "DC1",
        "DC2",
        "DC3",
    ]
    cursor = client.get("/customers/?page_size=3", headers={**key, "X-OG-API-VERSION": "2"})
    assert "count" not in cursor.get_json() and "cursor=" in cursor.get_json()["next"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "merchant_user_id"),
        ({"merchant_user_id": "DC1"}, "merchant_user_id"),  # exists
        ({"merchant_user_id": "N", "email": "nope"}, "email"),
        ({"merchant_user_id": "N", "phone_number": "12"}, "phone_number"),
        ({"merchant_user_id": "N", "extra_data": "[1]"}, "extra_data"),
        ({"merchant_user_id": "N", "extra_data": "{not json"}, "extra_data"),
        ({"merchant_user_id": "N", "locale": "english please"}, "locale"),
        ({"merchant_user_id": "N", "price_code": "x" * 65}, "price_code"),
        ({"merchant_user_id": ["N"]}, "merchant_user_id"),
    ],
)
def test_a_bad_customer_is_refused_naming_the_field(client, merchant, key, body, field):
    make_customer(merchant, "DC1")
    response = call(client, "POST", "/customers/create/", body, key)
    assert response.status_code == 400 and field in response.get_json(), response.get_json()
    assert Customer.query.count() == 1


def test_update_extra_data_locale_and_price_code(client, merchant, key):
    customer = make_customer(merchant, "DC7")
    path = "/customers/DC7/update"
    response = call(client, "PATCH", path, {"extra_data": '{"a": 1}', "locale": "en-us"}, key)
    assert response.status_code == 200
    assert (response.get_json()["extra_data"], response.get_json()["locale"]) == ({"a": 1}, "en-us")
    event = Event.query.filter_by(type="customer.update").one()
    assert event.after == {"extra_data": {"a": 1}, "locale": "en-us"}
    again = call(client, "PATCH", path + "/", {"price_code": "", "locale": None}, key)
    assert again.status_code == 200 and again.get_json()["locale"] is None
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).extra_data == {"a": 1}
    assert call(client, "PATCH", "/customers/NOPE/update", {"locale": "en"}, key).status_code == 404
    assert call(client, "PATCH", path, "[1]", key).status_code == 400


def test_the_storefront_scope_sees_and_changes_only_its_own(client, merchant, key):
    make_customer(merchant, "DC1")
    make_customer(merchant, "DC2")
    signed = {
        "Authorization": signing.build_auth_header(merchant.public_id, merchant.hash_key, "DC1")
    }
    listed = client.get("/customers/", headers=signed).get_json()
    assert [c["merchant_user_id"] for c in listed["results"]] == ["DC1"]
    assert (
        call(client, "PATCH", "/customers/DC2/update", {"locale": "en"}, signed).status_code == 404
    )
    assert (
        call(client, "PATCH", "/customers/DC1/update", {"locale": "en"}, signed).status_code == 200
    )
    refused = call(client, "POST", "/customers/create/", {"merchant_user_id": "X"}, signed)
    assert refused.status_code == 403


def test_another_merchants_key_sees_none_of_them(client, merchant):
    make_customer(merchant, "DC1")
    theirs = {"x-api-key": make_api_key(make_merchant())}
    assert client.get("/customers/", headers=theirs).get_json()["count"] == 0
    assert (
        call(client, "PATCH", "/customers/DC1/update", {"locale": "en"}, theirs).status_code == 404
    )
