"""POST /subscriptions/iu/ (contracts §4.3): a new subscription inside an upcoming order, in
both scopes; another customer's or merchant's order is 404 and nothing changes."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Order, Subscription
from tests.actionkit import FIRST, coffee, make_shopper, subscribe, upcoming
from tests.factories import make_api_key, make_merchant
from tests.web.test_api_actions import header, og_auth


@pytest.fixture
def merchant(app):
    return make_merchant(timezone="America/New_York")


def setup(merchant):
    shopper = make_shopper(merchant)
    order = upcoming(subscribe(shopper, coffee(merchant, 1000), on=FIRST))
    return shopper, order, coffee(merchant, 650)


def body(order, product, **extra):
    return {
        "order": order.public_id,
        "product": product.product_id,
        "every": 2,
        "every_period": 3,
        **extra,
    }


def subscriptions_of(shopper) -> int:
    return db.session.query(Subscription).filter_by(customer_id=shopper.customer.id).count()


@pytest.mark.parametrize("scope", ["og_auth", "signed header", "api key"])
def test_a_new_subscription_joins_the_order(client, merchant, scope):
    shopper, order, treats = setup(merchant)
    user = shopper.customer.merchant_user_id
    headers = {
        "og_auth": lambda: og_auth(merchant, user),
        "signed header": lambda: header(merchant, user),
        "api key": lambda: {"x-api-key": make_api_key(merchant)},
    }[scope]()
    response = client.post(
        "/subscriptions/iu/", json=body(order, treats, quantity=3), headers=headers
    )
    assert response.status_code == 201, response.get_json()
    sub = response.get_json()
    assert (sub["product"], sub["every"], sub["every_period"], sub["quantity"]) == (
        treats.product_id,
        2,
        3,
        3,
    )
    assert sub["live"] is True
    db.session.expire_all()
    items = db.session.get(Order, order.id).items
    assert [i.quantity for i in items if i.product_id == treats.id] == [3]


def test_another_customers_or_merchants_order_is_404_and_untouched(client, merchant):
    shopper, order, treats = setup(merchant)
    stranger, theirs, _ = setup(merchant)
    mine = og_auth(merchant, shopper.customer.merchant_user_id)
    response = client.post("/subscriptions/iu/", json=body(theirs, treats), headers=mine)
    assert response.status_code == 404
    elsewhere = make_merchant()
    key = {"x-api-key": make_api_key(elsewhere)}
    response = client.post("/subscriptions/iu/", json=body(order, treats), headers=key)
    assert response.status_code in (400, 404)  # neither the order nor the product is theirs
    db.session.expire_all()
    assert subscriptions_of(shopper) == subscriptions_of(stranger) == 1
    assert len(db.session.get(Order, theirs.id).items) == 1


@pytest.mark.parametrize(
    "change,field",
    [
        ({"every": None}, "every"),
        ({"every_period": 9}, "every_period"),
        ({"quantity": 0}, "quantity"),
        ({"product": "NOPE"}, "product"),
        ({"offer": "not-an-offer"}, "offer"),
    ],
)
def test_bad_fields_are_400_naming_them(client, merchant, change, field):
    shopper, order, treats = setup(merchant)
    headers = og_auth(merchant, shopper.customer.merchant_user_id)
    response = client.post(
        "/subscriptions/iu/", json={**body(order, treats), **change}, headers=headers
    )
    assert response.status_code == 400
    assert field in response.get_json()
    assert subscriptions_of(shopper) == 1


def test_signed_out_is_403_and_a_non_object_body_400(client, merchant):
    shopper, order, treats = setup(merchant)
    assert client.post("/subscriptions/iu/", json=body(order, treats)).status_code == 403
    headers = og_auth(merchant, shopper.customer.merchant_user_id)
    response = client.post("/subscriptions/iu/", json=[1, 2], headers=headers)
    assert response.status_code == 400 and "detail" in response.get_json()
