"""Instant upsell on the storefront (contracts §2.1, product §2): a signed-in subscriber with an
upcoming order sees "Add to your order on <date>" instead of the standard offer, where the
merchant switched it on, and one click adds the product to THAT customer's order only."""

from __future__ import annotations

import time

import pytest

from app.extensions import db
from app.integrations import signing
from app.models import Order, Subscription
from tests.actionkit import FIRST, coffee, make_shopper, subscribe, upcoming
from tests.factories import make_merchant, make_product

STORE = "https://shop.example"


@pytest.fixture
def merchant(app):
    return make_merchant(
        allowed_origins=[STORE], timezone="America/New_York", upsell_locations=["pdp"]
    )


@pytest.fixture
def treats(merchant):
    return make_product(
        merchant, "TREATS", name="Dog Treats", price_minor=650, upsell_eligible=True
    )


@pytest.fixture
def subscriber(merchant):
    """A subscriber whose upcoming order is on FIRST (February 1, 2030)."""
    shopper = make_shopper(merchant)
    sub = subscribe(shopper, coffee(merchant, 1000), on=FIRST)
    return shopper, upcoming(sub)


def auth(merchant, user_id: str, ts: int | None = None, *, quoted: bool = False) -> dict:
    value = signing.make_og_auth(merchant.hash_key, user_id, ts)
    return {"X-OG-Auth": value.replace("|", "%7C") if quoted else value}


def batch(client, merchant, product: str, *, location: str = "pdp", headers=None):
    query = [("session", f"{merchant.public_id}.1.1596647632"), ("k", "o0"), ("p", product)]
    query += [("l", location), ("d", ""), ("t", "")]
    return client.get(
        f"/{merchant.public_id}/offers/",
        query_string=query,
        headers={"Origin": STORE, **(headers or {})},
    )


def click(client, merchant, order, product: str, kind: str, headers, **extra):
    form = {
        "og_key": "o0",
        "og_product": product,
        "og_location": "pdp",
        "og_order": order,
        "og_kind": kind,
        **extra,
    }
    return client.post(
        f"/{merchant.public_id}/offers/upsell", data=form, headers={"Origin": STORE, **headers}
    )


def test_a_signed_in_subscriber_sees_the_upsell(client, merchant, treats, subscriber):
    shopper, order = subscriber
    for quoted in (False, True):  # as the store set the cookie: raw or URL-encoded
        headers = auth(merchant, shopper.customer.merchant_user_id, quoted=quoted)
        html = batch(client, merchant, "TREATS", headers=headers).get_data(as_text=True)
        assert "Add to your order on February 1" in html
        assert f'data-og-upsell="{order.public_id}"' in html
        assert "$6.50" in html and "Add once" in html and "Subscribe" in html
    anonymous = batch(client, merchant, "TREATS").get_data(as_text=True)
    assert "data-og-upsell" not in anonymous and "One-time purchase" in anonymous


@pytest.mark.parametrize("case", ["signed out", "expired", "tampered", "other merchant"])
def test_anyone_else_sees_the_standard_offer(client, merchant, treats, subscriber, case):
    shopper, order = subscriber
    user = shopper.customer.merchant_user_id
    headers = {
        "signed out": {},
        "expired": auth(merchant, user, int(time.time()) - 7201),
        "tampered": {"X-OG-Auth": auth(merchant, user)["X-OG-Auth"][:-2] + "xx"},
        "other merchant": auth(make_merchant(), user),
    }[case]
    html = batch(client, merchant, "TREATS", headers=headers).get_data(as_text=True)
    assert "data-og-upsell" not in html and order.public_id not in html
    assert 'name="og_frequency"' in html  # the standard offer


def test_only_where_the_merchant_switched_it_on(client, merchant, treats, subscriber):
    shopper, _order = subscriber
    headers = auth(merchant, shopper.customer.merchant_user_id)
    html = batch(client, merchant, "TREATS", location="cart", headers=headers)
    assert "data-og-upsell" not in html.get_data(as_text=True)
    merchant.upsell_locations = None
    db.session.commit()
    html = batch(client, merchant, "TREATS", headers=headers).get_data(as_text=True)
    assert "data-og-upsell" not in html and "One-time purchase" in html


def test_not_for_a_product_not_upsell_eligible_nor_without_an_upcoming_order(
    client, merchant, treats, subscriber
):
    shopper, _order = subscriber
    make_product(merchant, "PLAIN", upsell_eligible=False)
    headers = auth(merchant, shopper.customer.merchant_user_id)
    assert "data-og-upsell" not in batch(client, merchant, "PLAIN", headers=headers).text
    newcomer = make_shopper(merchant)  # signed in, no subscription: nothing to add to
    headers = auth(merchant, newcomer.customer.merchant_user_id)
    assert "data-og-upsell" not in batch(client, merchant, "TREATS", headers=headers).text


def test_the_signed_in_variant_is_never_served_from_the_anonymous_cache(
    client, merchant, treats, subscriber
):
    shopper, order = subscriber
    other = make_shopper(merchant)
    other_order = upcoming(subscribe(other, coffee(merchant), on=FIRST.replace(day=9)))
    batch(client, merchant, "TREATS")  # the anonymous variant, cached
    mine = batch(
        client, merchant, "TREATS", headers=auth(merchant, shopper.customer.merchant_user_id)
    )
    theirs = batch(
        client, merchant, "TREATS", headers=auth(merchant, other.customer.merchant_user_id)
    )
    assert order.public_id in mine.text and other_order.public_id not in mine.text
    assert other_order.public_id in theirs.text and order.public_id not in theirs.text
    assert "February 9" in theirs.text
    assert "data-og-upsell" not in batch(client, merchant, "TREATS").text


def test_one_click_adds_once_to_that_customers_order_only(client, merchant, treats, subscriber):
    shopper, order = subscriber
    other = make_shopper(merchant)
    other_order = upcoming(subscribe(other, coffee(merchant), on=FIRST))
    headers = auth(merchant, shopper.customer.merchant_user_id)
    response = click(client, merchant, order.public_id, "TREATS", "once", headers)
    assert response.status_code == 200
    assert "Added to your order on February 1: Dog Treats, once." in response.text
    db.session.expire_all()
    added = [i for i in db.session.get(Order, order.id).items if i.product.product_id == "TREATS"]
    assert len(added) == 1 and added[0].one_time and added[0].quantity == 1
    assert all(
        i.product.product_id != "TREATS" for i in db.session.get(Order, other_order.id).items
    )

    # the other customer's order, named with this customer's credential: refused, untouched
    response = click(client, merchant, other_order.public_id, "TREATS", "once", headers)
    assert response.status_code == 404
    db.session.expire_all()
    assert all(
        i.product.product_id != "TREATS" for i in db.session.get(Order, other_order.id).items
    )


def test_one_click_adds_a_new_subscription_into_the_order(client, merchant, treats, subscriber):
    shopper, order = subscriber
    headers = auth(merchant, shopper.customer.merchant_user_id)
    response = click(
        client, merchant, order.public_id, "TREATS", "subscribe", headers, og_frequency="2_3"
    )
    assert response.status_code == 200, response.text
    assert "Dog Treats, delivered every 2 months from then on." in response.text
    sub = (
        db.session.query(Subscription)
        .filter_by(customer_id=shopper.customer.id)
        .order_by(Subscription.id.desc())
        .first()
    )
    assert (sub.product.product_id, sub.every, sub.every_period) == ("TREATS", 2, 3)
    assert upcoming(sub).id == order.id  # it joined that order


@pytest.mark.parametrize("case", ["signed out", "expired", "off here", "bad kind"])
def test_a_refused_click_says_why_in_place(client, merchant, treats, subscriber, case):
    shopper, order = subscriber
    user = shopper.customer.merchant_user_id
    headers = {} if case == "signed out" else auth(merchant, user)
    if case == "expired":
        headers = auth(merchant, user, int(time.time()) - 7201)
    if case == "off here":
        merchant.upsell_locations = ["cart"]
        db.session.commit()
    kind = "twice" if case == "bad kind" else "once"
    response = click(client, merchant, order.public_id, "TREATS", kind, headers)
    expected = {"signed out": 403, "expired": 403, "off here": 400, "bad kind": 400}[case]
    assert response.status_code == expected
    assert 'role="alert"' in response.text and 'id="og-o0"' in response.text
    db.session.expire_all()
    assert all(i.product.product_id != "TREATS" for i in db.session.get(Order, order.id).items)


def test_cors_lets_the_store_send_the_credential(client, merchant):
    response = client.options(
        f"/{merchant.public_id}/offers/",
        headers={
            "Origin": STORE,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-og-auth",
        },
    )
    assert "X-OG-Auth" in response.headers["Access-Control-Allow-Headers"]
