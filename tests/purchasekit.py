"""Purchase POSTs as a store sends them: the §5.2 example, both encodings, a seeded merchant."""

from __future__ import annotations

import json
from urllib.parse import quote

from sqlalchemy import func, select

from app.extensions import db
from app.models import Merchant, Offer
from app.services import events, incentives
from tests.factories import make_merchant, make_product

T1_KEY = "Mt!ZQ45q&GHsgiRD8{NB-_h87#rjvbn0"
EXP_12_2099 = "kwWZ/53+x32tmofPBfCppQzDFDlnWL9lCXQ/q5nFNdk="
OFFER = "903ecf3e5efc12e49d61bc764e106cf6"
ACTOR = events.Actor("staff", "1", "test")


def make_shop(*, example_offer: bool = True, **overrides) -> Merchant:
    """A merchant with the T1 hash key, the example's products, offer and a 10% incentive.

    Offer ids are unique across merchants: only one merchant can own the example's offer.
    """
    merchant = make_merchant(**{"hash_key": T1_KEY, "timezone": "America/New_York", **overrides})
    make_product(merchant, "123456789", name="Dog Food", price_minor=1299)
    make_product(merchant, "222", name="Cat Food", price_minor=1000)
    make_product(merchant, "ONCE", name="Gift card", autoship_eligible=False)
    if example_offer:
        # The §5.2 example's offer id is one of the merchant's own offers (its cart offer).
        db.session.add(Offer(merchant_id=merchant.id, location="cart", public_id=OFFER))
        db.session.commit()
    incentives.create(
        merchant.id, {"name": "Ten", "kind": "percent_off", "percent": "10"}, actor=ACTOR
    )
    return merchant


def example(merchant, **changes) -> dict:
    """The contracts §5.2 example, made strict JSON."""
    body = {
        "merchant_id": merchant.public_id,
        "og_cart_tracking": False,
        "merchant_order_id": "abc123",
        "user": {
            "user_id": "DC69410241",
            "first_name": "Nicholas",
            "last_name": "Bundy",
            "email": "nick@example.com",
            "phone_number": "555-555-5555",
            "shipping_address": {
                "first_name": "Nicholas",
                "last_name": "Bundy",
                "company_name": "Ordergroove",
                "address": "75 Broad Street",
                "address2": "23rd Floor",
                "city": "New York",
                "state_province_code": "NY",
                "zip_postal_code": "10004",
                "phone": "555-555-5555",
                "fax": "",
                "country_code": "US",
            },
        },
        "payment": {"token_id": "7654321", "cc_exp_date": EXP_12_2099, "cc_type": "1"},
        "products": [
            {
                "product": "123456789",
                "sku": "123456789",
                "subscription_info": {
                    "quantity": 2,
                    "tracking_override": {"offer": OFFER, "every": 4, "every_period": 2},
                },
                "purchase_info": {
                    "quantity": "2",
                    "price": "2.00",
                    "discounted_price": "1.90",
                    "total": "3.80",
                },
            }
        ],
    }
    body.update(changes)
    return body


def whole(payload: dict) -> str:
    """The reference's encoding: the whole JSON URL-encoded."""
    return "create_request=" + quote(json.dumps(payload), safe="")


def per_value(payload) -> str:
    """SFCC's encoding: each string value URL-encoded, the JSON itself raw."""

    def enc(value):
        if isinstance(value, str):
            return quote(value, safe="")
        if isinstance(value, dict):
            return {k: enc(v) for k, v in value.items()}
        if isinstance(value, list):
            return [enc(v) for v in value]
        return value

    return "create_request=" + json.dumps(enc(payload))


def post(client, body: str, *, key=None, headers=None):
    headers = {"Content-Type": "application/json", **(headers or {})}
    if key:
        headers["x-api-key"] = key
    return client.post("/subscription/create", data=body, headers=headers)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# -- T4 --------------------------------------------------------------------------------------
