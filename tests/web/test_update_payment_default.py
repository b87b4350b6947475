"""The legacy default-payment update (contracts §7.2): ``update_request=`` with each value
URL-encoded (SFCC) or only the signature and AES fields (Magento), its plain-text answers, every
error text, and nothing updated on error."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest

from app.extensions import db
from app.integrations import signing
from app.models import PaymentMethod, Subscription
from tests.actionkit import make_shopper, snapshot, subscribe, upcoming
from tests.dashkit import shop_merchant


@pytest.fixture
def shopper(app):
    return make_shopper(shop_merchant())


def request_body(shopper, payment: dict, *, encode_all: bool = True, **changes) -> bytes:
    merchant, user_id = shopper.merchant, shopper.customer.merchant_user_id
    ts = int(time.time())
    data = {
        "merchant_id": merchant.public_id,
        "user": {"user_id": user_id, "ts": ts, "sig": signing.sign(merchant.hash_key, user_id, ts)},
        "payment": payment,
        **changes,
    }

    def encode(value, key=""):
        if isinstance(value, dict):
            return {k: encode(v, k) for k, v in value.items()}
        if isinstance(value, str) and (encode_all or key in ("sig", "cc_exp_date", "cc_holder")):
            return quote(value, safe="")
        return value

    return ("update_request=" + json.dumps(encode(data))).encode()


def aes(shopper, text: str) -> str:
    return signing.encrypt_field(shopper.merchant.hash_key, text)


def send(client, body: bytes):
    return client.post("/customer/update_payment_default", data=body)


def answer(response) -> tuple[int, str]:
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    return response.status_code, response.get_data(as_text=True)


def state(shopper, *subs) -> list:
    db.session.expire_all()
    payments = db.session.scalars(
        db.select(PaymentMethod)
        .filter_by(customer_id=shopper.customer.id)
        .order_by(PaymentMethod.id)
    ).all()
    return snapshot(*payments, *[db.session.get(Subscription, s.id) for s in subs])


def test_a_new_token_becomes_the_payment_of_every_live_subscription(client, shopper):
    first, second = subscribe(shopper), subscribe(shopper)
    payment = {
        "token_id": "tok_new_4242",
        "card_type": 2,
        "cc_exp_date": aes(shopper, "09/2031"),
        "cc_last_4": aes(shopper, "4444"),
        "cc_holder": aes(shopper, "Maya Okafor"),
        "label": "Work card",
        "billing": {
            "first_name": "Maya",
            "address": "1 State St",
            "city": "Albany",
            "country_code": "us",
        },
    }
    assert answer(send(client, request_body(shopper, payment))) == (200, "SUCCESS")
    db.session.expire_all()
    new = db.session.scalar(db.select(PaymentMethod).filter_by(token_id="tok_new_4242"))
    assert (new.cc_type, new.expiry_month, new.expiry_year) == (2, 9, 2031)
    assert new.billing_address_id is not None
    for sub in (first, second):
        assert db.session.get(Subscription, sub.id).payment_id == new.id
        assert upcoming(sub).payment_id == new.id


def test_without_a_token_the_card_in_use_gets_the_new_expiry(client, shopper):
    sub = subscribe(shopper)
    body = request_body(shopper, {"cc_exp_date": aes(shopper, "11/2033")}, encode_all=False)
    assert answer(send(client, body)) == (200, "SUCCESS")
    db.session.expire_all()
    card = db.session.get(PaymentMethod, db.session.get(Subscription, sub.id).payment_id)
    assert (card.token_id, card.expiry_month, card.expiry_year) == (shopper.card.token_id, 11, 2033)


@pytest.mark.parametrize(
    "payment, changes, expected",
    [
        ({"token_id": "t"}, {"merchant_id": "nope"}, (400, "Invalid Merchant")),
        ({"cc_exp_date": "garbage"}, {}, (400, "Could not decode cc_exp_date")),
        ({"token_id": "t", "cc_number": "4111111111111111"}, {}, None),
        ({"token_id": "t", "extra": "x"}, {}, None),
        ({"token_id": "4111 1111 1111 1111"}, {}, None),
    ],
)
def test_each_error_text_and_nothing_updated(client, shopper, payment, changes, expected):
    sub = subscribe(shopper)
    before = state(shopper, sub)
    response = send(client, request_body(shopper, payment, **changes))
    field = "cc_number" if "extra" not in payment else "extra"
    assert answer(response) == (
        expected or (400, f"{shopper.merchant.name} is not configured to accept {field}")
    )
    assert state(shopper, sub) == before


def test_bad_json_unknown_customer_and_a_bad_signature(client, shopper):
    sub = subscribe(shopper)
    before = state(shopper, sub)
    assert answer(send(client, b"update_request={not json")) == (400, "Invalid Request")
    assert answer(send(client, b"")) == (400, "Invalid Request")
    body = request_body(shopper, {"token_id": "t"}).decode()
    user_id = shopper.customer.merchant_user_id
    stranger = body.replace(quote(user_id, safe=""), "NOBODY")
    assert answer(send(client, stranger.encode()))[0] == 403  # the signature no longer fits
    forged = json.loads(body.removeprefix("update_request="))
    forged["user"]["sig"] = "AAAA" + forged["user"]["sig"][4:]
    assert answer(send(client, ("update_request=" + json.dumps(forged)).encode())) == (
        403,
        "Authentication failed",
    )
    assert state(shopper, sub) == before


def test_an_unknown_customer_signed_correctly(client, shopper):
    merchant, ts = shopper.merchant, int(time.time())
    data = {
        "merchant_id": merchant.public_id,
        "user": {
            "user_id": "NOBODY",
            "ts": ts,
            "sig": signing.sign(merchant.hash_key, "NOBODY", ts),
        },
        "payment": {"token_id": "t"},
    }
    body = ("update_request=" + json.dumps(data)).encode()
    assert answer(send(client, body)) == (400, "Customer does not exist")


def test_another_merchants_customer_is_out_of_reach(client, shopper):
    other = make_shopper(shop_merchant())
    sub = subscribe(other)
    before = state(other, sub)
    body = request_body(shopper, {"token_id": "t"}).decode()
    crossed = body.replace(shopper.merchant.public_id, other.merchant.public_id)
    assert answer(send(client, crossed.encode()))[0] in (400, 403)
    assert state(other, sub) == before


def test_without_a_token_or_a_card_in_use_it_asks_for_a_token(client, shopper):
    body = request_body(shopper, {"cc_exp_date": aes(shopper, "11/2033")})
    assert answer(send(client, body)) == (
        400,
        "Customer has no payment method to update; send a token_id",
    )
