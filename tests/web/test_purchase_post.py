"""``POST /subscription/create``: contracts T4 and T5, encodings, auth, hostile input, races."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.domain.frequency import Frequency
from app.extensions import db
from app.integrations import signing
from app.models import (
    Address,
    Customer,
    Event,
    OptIn,
    Order,
    PaymentMethod,
    PurchaseRequest,
    Subscription,
)
from app.services import incentives, offer_views, offers, opt_ins, subscriptions
from tests.factories import make_api_key, make_merchant, make_product
from tests.purchasekit import (
    EXP_12_2099,
    OFFER,
    T1_KEY,
    count,
    example,
    make_shop,
    per_value,
    post,
    whole,
)


@pytest.fixture
def merchant(app):
    return make_shop()


@pytest.fixture
def key(merchant):
    return make_api_key(merchant)


def check_t4(client, merchant, key, response):
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["result"] == "Subscription request received"
    assert len(body["subs_req_id"]) == 24 and int(body["subs_req_id"], 16) >= 0
    status = client.get(f"/subscription/{body['subs_req_id']}/response", headers={"x-api-key": key})
    assert status.status_code == 200
    ids = status.get_json()
    assert ids["customer"] and ids["payment"] and ids["shipping_address"]
    [entry] = ids["subscriptions"]
    sub_id = entry["123456789"]
    sub = client.get(f"/subscriptions/{sub_id}/", headers={"x-api-key": key}).get_json()
    assert (sub["product"], sub["quantity"], sub["every"], sub["every_period"]) == (
        "123456789",
        2,
        4,
        2,
    )
    assert (sub["frequency_days"], sub["offer"], sub["merchant_order_id"]) == (28, OFFER, "abc123")
    assert sub["customer"] == "DC69410241" and sub["payment"] == ids["payment"]
    row = db.session.scalar(select(Subscription).where(Subscription.public_id == sub_id))
    order = subscriptions.upcoming_order(row)
    assert order.status == 1
    assert order.place_date == row.start_date + timedelta(days=28)
    api_order = client.get(f"/orders/{order.public_id}/", headers={"x-api-key": key}).get_json()
    assert api_order["status"] == 1 and api_order["items"][0]["subscription"] == sub_id
    assert api_order["items"][0]["price"] == "12.99"
    assert api_order["items"][0]["total_price"] == "23.38"  # 10% off, 1.30 a unit, qty 2
    payment = db.session.scalar(select(PaymentMethod))
    assert (payment.expiry_month, payment.expiry_year, payment.cc_type) == (12, 2099, 1)
    assert payment.cc_exp_date_enc == EXP_12_2099


def test_t4_whole_json_encoded_with_api_key(client, merchant, key):
    payload = example(merchant)
    payload["payment"]["cc_exp_date"] = quote(EXP_12_2099, safe="")  # as T4 writes it
    check_t4(client, merchant, key, post(client, whole(payload), key=key))


def test_t4_per_value_encoding(client, merchant, key):
    check_t4(client, merchant, key, post(client, per_value(example(merchant)), key=key))


def test_t4_signed_authorization_header(client, merchant, key):
    header = signing.build_auth_header(merchant.public_id, T1_KEY, "DC69410241")
    check_t4(
        client,
        merchant,
        key,
        post(client, whole(example(merchant)), headers={"Authorization": header}),
    )


def test_form_content_type_and_trailing_slash(client, merchant, key):
    response = client.post(
        "/subscription/create/",
        data=whole(example(merchant)),
        headers={"x-api-key": key, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200


def test_first_order_place_date_and_merchant_timezone(client, merchant, key):
    when = (date.today() + timedelta(days=10)).isoformat()
    payload = example(merchant)
    payload["products"][0]["subscription_info"]["first_order_place_date"] = when
    assert post(client, whole(payload), key=key).status_code == 200
    order = db.session.scalar(select(Order))
    assert order.place_date.isoformat() == when
    sub = db.session.scalar(select(Subscription))
    assert sub.start_date == datetime.now(UTC).astimezone(merchant.tz).date()


def test_cart_tracking_uses_the_sessions_opt_ins_and_clears_them(client, merchant, key):
    session_id = f"{merchant.public_id}.42.1596647632"
    offer = offers.default(merchant.id)
    opt_ins.choose(
        merchant, session_id, offer_views.Slot("o0", "222"), subscribed=True, frequency="2_3"
    )
    assert len(client.get(f"/carts/{session_id}/").get_json()["items"]) == 1  # now cached
    payload = example(
        merchant, og_cart_tracking=True, session_id=session_id, merchant_order_id="cart-1"
    )
    payload["products"] = [
        {"product": "222", "purchase_info": {"quantity": 3}},
        {"product": "ONCE"},
        {"product": "123456789", "subscription_info": {"quantity": 1}},
    ]
    response = post(client, whole(payload), key=key)
    assert response.status_code == 200
    [sub] = db.session.scalars(select(Subscription)).all()  # only the opted-in line
    assert (sub.product.product_id, sub.quantity, sub.every, sub.every_period) == ("222", 3, 2, 3)
    assert sub.offer_id == offer.public_id and sub.session_id == session_id
    assert sub.incentive_ids == [incentives.list_for(merchant.id)[0].public_id]
    assert count(OptIn) == 0
    assert client.get(f"/carts/{session_id}/").get_json()["items"] == []  # the copy follows
    order = subscriptions.upcoming_order(sub)
    assert order.place_date == Frequency(2, 3).next_date(sub.start_date)


def test_tracking_array_and_precedence(client, merchant, key):
    payload = example(
        merchant,
        tracking=[
            {
                "product": "222",
                "tracking_override": {"offer": OFFER, "every": 6, "every_period": 2},
            },
            {"product": "123456789", "tracking_override": {"every": 1, "every_period": 1}},
        ],
    )
    payload["products"].append({"product": "222"})
    assert post(client, whole(payload), key=key).status_code == 200
    subs = {s.product.product_id: s for s in db.session.scalars(select(Subscription))}
    assert (subs["222"].every, subs["222"].every_period) == (6, 2)
    assert (subs["123456789"].every, subs["123456789"].every_period) == (4, 2)  # own info wins


def test_two_subscriptions_same_date_share_one_order(client, merchant, key):
    payload = example(merchant)
    payload["products"].append(
        {
            "product": "222",
            "subscription_info": {"tracking_override": {"every": 4, "every_period": 2}},
        }
    )
    assert post(client, whole(payload), key=key).status_code == 200
    assert count(Subscription) == 2 and count(Order) == 1
    order = db.session.scalar(select(Order))
    assert len(order.items) == 2 and order.total_minor == 2338 + 900


def test_repeat_customer_is_matched_not_duplicated(client, merchant, key):
    assert post(client, whole(example(merchant)), key=key).status_code == 200
    again = example(merchant, merchant_order_id="abc124")
    again["user"]["email"] = "new@example.com"
    again["user"]["shipping_address"]["city"] = "  new   YORK "
    assert post(client, whole(again), key=key).status_code == 200
    assert (count(Customer), count(Address), count(PaymentMethod)) == (1, 1, 1)
    assert db.session.scalar(select(Customer)).email == "new@example.com"
    assert count(Subscription) == 2
    types = set(db.session.scalars(select(Event.type)))
    assert {
        "customer.create",
        "customer.update",
        "address.create",
        "payment.create",
        "subscription.create",
        "order.create",
        "checkout.receive",
    } <= types


def test_non_subscription_checkout(client, merchant, key):
    session_id = f"{merchant.public_id}.7.1596647632"
    opt_ins.choose(
        merchant, session_id, offer_views.Slot("o0", "222"), subscribed=True, frequency="4_2"
    )
    payload = example(merchant, og_cart_tracking=True, session_id=session_id)
    payload.pop("payment")
    payload["products"] = [{"product": "ONCE", "purchase_info": {"quantity": 1}}]
    response = post(client, whole(payload), key=key)
    assert response.status_code == 200
    assert count(Subscription) == 0 and count(OptIn) == 0
    row = db.session.scalar(select(PurchaseRequest))
    assert row.subscription_checkout is False and row.status == "processed"
    assert count(Customer) == 1


# -- T5 --------------------------------------------------------------------------------------


def test_repeated_order_id_is_409_and_creates_nothing_twice(client, merchant, key):
    first = post(client, whole(example(merchant)), key=key)
    again = post(client, whole(example(merchant)), key=key)
    assert again.status_code == 409
    assert again.get_json()["subs_req_id"] == first.get_json()["subs_req_id"]
    assert count(Subscription) == 1


@pytest.mark.parametrize(
    "change, status, body",
    [
        ({"merchant_order_id": None}, 400, {"error_message": "Merchant order id cannot be null"}),
        ({"merchant_order_id": ""}, 400, {"error_message": "Merchant order id cannot be null"}),
        ({"merchant_id": 123}, 400, {"error": "Merchant ID must be a string"}),
        ({"merchant_id": "f" * 32}, 400, {"error": f"Invalid Merchant {'f' * 32}"}),
        ({"og_cart_tracking": None}, 400, {"error_message": "Session id cannot be null"}),
        (
            {"og_cart_tracking": True, "session_id": 12},
            400,
            {"error_message": "Session ID must be a string"},
        ),
        ({"payment": None}, 400, {"error_message": "Missing payment data to create record"}),
        (
            {"payment": {"cc_type": "1"}},
            400,
            {"error_message": "Missing payment data to create record"},
        ),
    ],
)
def test_t5_refusals(client, merchant, key, change, status, body):
    payload = example(merchant)
    for name, value in change.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    response = post(client, whole(payload), key=key)
    assert (response.status_code, response.get_json()) == (status, body)
    assert count(Subscription) == 0 and count(PurchaseRequest) == 0 and count(Customer) == 0


def test_encryption_errors(client, merchant, key):
    payload = example(merchant)
    payload["payment"]["cc_exp_date"] = "not-base64!"
    response = post(client, whole(payload), key=key)
    assert response.get_json() == {"error_message": "The credit card encryption is not valid"}
    payload["payment"]["cc_exp_date"] = signing.encrypt_field(T1_KEY, "13/2099")
    response = post(client, whole(payload), key=key)
    assert response.status_code == 400
    assert response.get_json()["error_message"] == (
        "Expiration date is not valid, received: 13/2099"
    )
    payload["payment"]["cc_exp_date"] = signing.encrypt_field("x" * 32, "12/2099")
    assert post(client, whole(payload), key=key).status_code == 400


def test_refused_request_can_be_resent_with_the_same_order_id(client, merchant, key):
    payload = example(merchant)
    payload.pop("payment")
    assert post(client, whole(payload), key=key).status_code == 400
    assert post(client, whole(example(merchant)), key=key).status_code == 200


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),
        ({"x-api-key": "pk_nope"}, 403),
        ({"Authorization": "not json"}, 403),
    ],
)
def test_auth_failures(client, merchant, headers, status):
    response = post(client, whole(example(merchant)), headers=headers)
    assert response.status_code == status
    assert count(Subscription) == 0


def test_stale_or_tampered_signature(client, merchant):
    old = signing.build_auth_header(
        merchant.public_id, T1_KEY, "DC69410241", ts=int(datetime.now(UTC).timestamp()) - 7201
    )
    assert post(client, whole(example(merchant)), headers={"Authorization": old}).status_code == 403
    forged = signing.build_auth_header(merchant.public_id, "y" * 32, "DC69410241")
    assert (
        post(client, whole(example(merchant)), headers={"Authorization": forged}).status_code == 403
    )


def test_partial_success_is_207(client, merchant, key):
    payload = example(merchant)
    payload["products"] += [
        {
            "product": "NOPE",
            "subscription_info": {"tracking_override": {"every": 4, "every_period": 2}},
        },
        {
            "product": "ONCE",
            "subscription_info": {"tracking_override": {"every": 4, "every_period": 2}},
        },
        {
            "product": "222",
            "subscription_info": {"tracking_override": {"every": 0, "every_period": 9}},
        },
    ]
    response = post(client, whole(payload), key=key)
    assert response.status_code == 207
    body = response.get_json()
    assert body["result"] == "Subscription request received"
    assert set(body["errors"]) == {"NOPE", "ONCE", "222"}
    assert "Unknown product" in body["errors"]["NOPE"]
    assert "not eligible" in body["errors"]["ONCE"]
    assert [list(s) for s in body["subscriptions"]] == [["123456789"]]
    assert body["customer"] and body["payment"] and body["shipping_address"]
    assert count(Subscription) == 1


def test_every_line_failing_is_400_with_nothing_created(client, merchant, key):
    payload = example(merchant)
    payload["products"][0]["product"] = "NOPE"
    response = post(client, whole(payload), key=key)
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"NOPE": "Unknown product NOPE"}
    assert count(Customer) == 0 and count(PurchaseRequest) == 0


def test_verification_hold_then_process_or_decline(client, merchant, key):
    held = post(client, whole(example(merchant, processed=False)), key=key)
    assert held.status_code == 200
    req_id = held.get_json()["subs_req_id"]
    assert count(Subscription) == 0 and count(Customer) == 0
    assert (
        client.get(f"/subscription/{req_id}/response", headers={"x-api-key": key}).status_code
        == 202
    )

    def verify(order_id, action, ts=None, key_=T1_KEY):
        ts = ts or int(datetime.now(UTC).timestamp())
        sig = signing.sign(key_, order_id, ts)
        return client.get(
            "/subscription/verify/",
            query_string={
                "merchant_id": merchant.public_id,
                "order_id": order_id,
                "ts": ts,
                "sig": sig,
                "action": action,
            },
        )

    assert verify("abc123", "process", key_="z" * 32).get_data(as_text=True) == (
        "Authentication failed"
    )
    assert verify("abc123", "explode").status_code == 400
    assert "does not exist" in verify("nope", "process").get_data(as_text=True)
    response = verify("abc123", "process")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "SUCCESS")
    assert count(Subscription) == 1
    assert "already been transmitted" in verify("abc123", "process").get_data(as_text=True)
    assert (
        client.get(f"/subscription/{req_id}/response", headers={"x-api-key": key}).status_code
        == 200
    )
    post(client, whole(example(merchant, processed=False, merchant_order_id="x2")), key=key)
    assert verify("x2", "decline").get_data(as_text=True) == "SUCCESS"
    assert count(Subscription) == 1


# -- hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        "user.phone_number",
        "payment.token_id",
        "products.sku",
        "user.shipping_address.address2",
        "extra",
    ],
)
def test_a_card_number_anywhere_is_refused(client, merchant, key, where):
    payload = example(merchant)
    pan = "4111 1111 1111 1111"
    if where == "user.phone_number":
        payload["user"]["phone_number"] = pan
    elif where == "payment.token_id":
        payload["payment"]["token_id"] = "4111111111111111"
    elif where == "products.sku":
        payload["products"][0]["sku"] = 5555555555554444
    elif where == "user.shipping_address.address2":
        payload["user"]["shipping_address"]["address2"] = f"card {pan.replace(' ', '-')}"
    else:
        payload["notes"] = {"deep": [pan]}
    response = post(client, whole(payload), key=key)
    assert response.status_code == 400
    assert "card number" in response.get_json()["error_message"]
    assert count(PurchaseRequest) == 0


def test_ids_that_are_not_card_numbers_pass(client, merchant, key):
    payload = example(merchant)
    payload["products"][0]["sku"] = "4111111111111112"  # fails Luhn
    payload["user"]["phone_number"] = "+1 212 555 0100"
    # a Luhn-valid run inside a word (a merchant's hex public id held one: every checkout
    # naming that merchant was refused)
    payload["user"]["shipping_address"]["address2"] = "Unit e5151064d83542758135348a434cd079"
    payload["products"][0]["sku"] = "SKU4111111111111111X"
    assert post(client, whole(payload), key=key).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        "create_request={not json",
        "create_request=",
        "hello",
        "create_request=[1,2]",
        "create_request=%FF%FE",
        "create_request=null",
        'create_request="text"',
    ],
)
def test_malformed_bodies_are_400(client, merchant, key, body):
    response = post(client, body, key=key)
    assert response.status_code == 400
    assert "error_message" in response.get_json()


@pytest.mark.parametrize(
    "change",
    [
        {"user": "DC69410241"},
        {"user": {"user_id": {"a": 1}}},
        {"products": "123"},
        {"products": []},
        {"products": [1, 2]},
        {"products": [{"sku": "x"}]},
        {"payment": ["7654321"]},
        {"og_cart_tracking": "maybe"},
        {"processed": 3},
        {"merchant_order_id": ["a"]},
        {"tracking": {"a": 1}},
        {"products": [{"product": "123456789", "subscription_info": "yes"}]},
        {"products": [{"product": "123456789", "subscription_info": {"tracking_override": 5}}]},
    ],
)
def test_wrong_types_are_400_never_500(client, merchant, key, change):
    response = post(client, whole(example(merchant, **change)), key=key)
    assert response.status_code == 400, response.get_json()
    assert count(PurchaseRequest) == 0


def test_wrong_line_values_are_line_errors(client, merchant, key):
    payload = example(merchant)
    info = payload["products"][0]["subscription_info"]
    for bad in (
        {"quantity": "two"},
        {"first_order_place_date": "2020-01-01"},
        {"first_order_place_date": "soon"},
        {"extra_data": [1]},
        {"tracking_override": {"every": 4}},
    ):
        response = post(
            client,
            whole(
                {
                    **payload,
                    "products": [{**payload["products"][0], "subscription_info": {**info, **bad}}],
                }
            ),
            key=key,
        )
        assert response.status_code == 400, bad
    assert count(Subscription) == 0


# -- tenancy and races -----------------------------------------------------------------------


def test_one_merchants_key_cannot_create_for_another(client, merchant, key):
    other = make_merchant()
    make_product(other, "123456789")
    response = post(client, whole(example(other)), key=key)
    assert response.status_code == 403
    assert count(Subscription) == 0


def test_one_merchants_key_cannot_read_anothers_objects(client, merchant, key):
    other = make_merchant()
    other_key = make_api_key(other)
    body = post(client, whole(example(merchant)), key=key).get_json()
    sub = db.session.scalar(select(Subscription))
    order = subscriptions.upcoming_order(sub)
    headers = {"x-api-key": other_key}
    assert (
        client.get(f"/subscription/{body['subs_req_id']}/response", headers=headers).status_code
        == 404
    )
    assert client.get(f"/subscriptions/{sub.public_id}/", headers=headers).status_code == 404
    assert client.get("/customers/DC69410241/", headers=headers).status_code == 404
    assert client.get(f"/orders/{order.public_id}/", headers=headers).status_code == 404
    listed = client.get(
        "/subscriptions/", query_string={"customer": "DC69410241"}, headers=headers
    ).get_json()
    assert listed["results"] == []


def test_identical_requests_at_the_same_moment_create_once(app, merchant, key):
    body = whole(example(merchant))
    statuses = []
    barrier = threading.Barrier(4)

    def send():
        client = app.test_client()
        barrier.wait()
        with app.app_context():
            statuses.append(post(client, body, key=key).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409, 409, 409]
    assert count(Subscription) == 1 and count(Customer) == 1 and count(PurchaseRequest) == 1


def test_oversized_body_is_413(client, merchant, key):
    response = post(client, "create_request=" + "x" * (3 * 1024 * 1024), key=key)
    assert response.status_code == 413
    assert "detail" in response.get_json()


def test_two_checkouts_of_one_new_customer_at_once_share_the_customer(app, merchant, key):
    bodies = [whole(example(merchant, merchant_order_id=f"race-{i}")) for i in range(4)]
    statuses = []
    barrier = threading.Barrier(4)

    def send(body):
        client = app.test_client()
        barrier.wait()
        with app.app_context():
            statuses.append(post(client, body, key=key).status_code)

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 4
    assert (count(Customer), count(Address), count(PaymentMethod)) == (1, 1, 1)
    assert count(Subscription) == 4


def test_plan_fields_and_user_extra_data_are_kept(client, merchant, key):
    payload = example(merchant)
    payload["user"]["extra_data"] = {"loyalty_tier": "gold"}
    info = payload["products"][0]["subscription_info"]
    info.update(
        components=["222", "222"],
        subscription_type="prepaid",
        prepaid_orders_per_billing=3,
        renewal_behavior="autorenew",
        multi_item_bundle_components=[{"product": "222", "quantity": 2}],
        extra_data={"engraving": "Rex"},
    )
    assert post(client, whole(payload), key=key).status_code == 200
    sub_id = db.session.scalar(select(Subscription.public_id))
    sub = client.get(f"/subscriptions/{sub_id}/", headers={"x-api-key": key}).get_json()
    assert sub["components"] == ["222", "222"]
    assert sub["multi_item_bundle_components"] == [{"product": "222", "quantity": 2}]
    assert sub["subscription_type"] == "prepaid"
    assert sub["prepaid_subscription_context"] == {
        "orders_per_billing": 3,
        "renewal_behavior": "autorenew",
    }
    assert sub["extra_data"] == {"engraving": "Rex"}
    customer = client.get("/customers/DC69410241/", headers={"x-api-key": key}).get_json()
    assert customer["extra_data"] == {"loyalty_tier": "gold"}


@pytest.mark.parametrize(
    "change",
    [
        {"subscription_type": "lifetime"},
        {"subscription_type": "prepaid"},  # without prepaid_orders_per_billing
        {"components": "222 222"},
        {"multi_item_bundle_components": [{"quantity": 2}]},
    ],
)
def test_bad_plan_fields_are_line_errors(client, merchant, key, change):
    payload = example(merchant)
    payload["products"][0]["subscription_info"].update(change)
    response = post(client, whole(payload), key=key)
    assert response.status_code == 400
    assert "123456789" in response.get_json()["errors"]


def test_a_second_checkout_due_the_same_day_joins_the_first_order(client, merchant, key):
    """Items of one customer, address and payment due the same day ship as one order."""
    assert post(client, whole(example(merchant)), key=key).status_code == 200
    assert (
        post(client, whole(example(merchant, merchant_order_id="abc124")), key=key).status_code
        == 200
    )
    [order] = db.session.scalars(select(Order)).all()
    assert len(order.items) == 2 and count(Subscription) == 2
    assert {item.cycle for item in order.items} == {2}
    types = [e.type for e in db.session.scalars(select(Event).order_by(Event.id))]
    assert types.count("order.create") == 1 and types.count("item.create") == 1
