"""The demo store's order endpoint (contracts §6) as a strict receiver: signed order XML becomes
one store order per orderPublicId, every refusal is an ERROR reply that creates nothing, and the
store admin switch and the test cards decline the way the platform must handle."""

from __future__ import annotations

import html
import json
import re
import threading
import time

import pytest
import requests
from werkzeug.serving import make_server

from demo import create_app as create_store
from demo import db as store_db
from demo import recurring, signing
from tests.orderkit import (
    COFFEE,
    DECLARATION,
    ENDPOINT,
    KEY,
    MERCHANT,
    PUBLIC_ID,
    USER,
    XML,
    authorization,
    count_orders,
    make_store,
    order_xml,
    post,
    query,
    reply,
    set_switch,
)


@pytest.fixture
def store(tmp_path):
    return make_store(tmp_path)


@pytest.fixture
def client(store):
    return store.test_client()


def test_a_signed_order_creates_one_recurring_order_with_its_lines_and_totals(store, client):
    response = post(client)

    answer = reply(response)
    assert answer["code"] == "SUCCESS"
    assert response.get_data(as_text=True) == (
        f"{DECLARATION}<order><code>SUCCESS</code><orderId>{answer['orderId']}</orderId></order>"
    )
    [order] = query(store, "SELECT * FROM store_order")
    assert order["order_number"] == answer["orderId"]
    assert re.fullmatch(r"FF\d{6}", answer["orderId"])
    assert (order["user_id"], order["status"], order["currency"]) == (USER, "recurring", "USD")
    assert (order["subtotal_cents"], order["shipping_cents"], order["total_cents"]) == (
        4669,
        0,
        4669,
    )
    assert (order["ship_address"], order["ship_city"], order["ship_zip_postal_code"]) == (
        "9 Elm Row",
        "Albany",
        "12207",
    )
    assert (order["payment_token"], order["cc_exp_date"]) == ("tok_visa_4242", "12/2099")
    lines = query(store, "SELECT * FROM order_line ORDER BY id")
    assert [
        (
            li["product_id"],
            li["quantity"],
            li["unit_price_cents"],
            li["total_cents"],
            li["one_time"],
        )
        for li in lines
    ] == [("FF2040101", 2, 1485, 2970, 0), ("FF3050104", 1, 1699, 1699, 1)]
    assert lines[0]["name"] == "Café Crème Coffee Beans, 12 oz"  # the store's own name
    [row] = query(store, "SELECT * FROM recurring_order")
    assert (row["order_public_id"], row["order_id"], row["og_order_id"]) == (
        PUBLIC_ID,
        order["id"],
        "17071718",
    )


def test_the_same_order_again_gets_the_same_order_id_and_creates_nothing(store, client):
    first = reply(post(client))
    set_switch(store, "decline_140")  # a repeat is answered from the record, not re-charged
    again = reply(post(client))

    assert again == first
    assert count_orders(store) == 1
    outcomes = query(store, "SELECT outcome FROM recurring_delivery ORDER BY id")
    assert [row["outcome"] for row in outcomes] == ["accepted", "repeat"]


def test_eight_concurrent_posts_of_one_order_create_one_order(store):
    server = make_server("127.0.0.1", 0, store, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}{ENDPOINT}"
    body, headers = order_xml(), {"Content-Type": XML, "Authorization": authorization()}
    start, answers = threading.Barrier(8), []

    def deliver():
        start.wait()
        answers.append(requests.post(url, data=body, headers=headers, timeout=30).text)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.shutdown()

    assert len(answers) == 8 and len(set(answers)) == 1
    assert "<code>SUCCESS</code>" in answers[0]
    assert count_orders(store) == 1
    assert query(store, "SELECT COUNT(*) FROM order_line")[0][0] == 2
    outcomes = [r["outcome"] for r in query(store, "SELECT outcome FROM recurring_delivery")]
    assert sorted(outcomes) == ["accepted"] + ["repeat"] * 7


def test_the_unique_key_not_the_look_up_keeps_one_order(store, client, monkeypatch):
    first = reply(post(client))
    real, calls = recurring._order_number, []

    def blind_first(public_id):  # the look-up before placing misses, as in a race
        calls.append(public_id)
        return None if len(calls) == 1 else real(public_id)

    monkeypatch.setattr(recurring, "_order_number", blind_first)
    again = reply(post(client))

    assert again == first and len(calls) == 2
    assert count_orders(store) == 1
    assert query(store, "SELECT COUNT(*) FROM order_line")[0][0] == 2


def stale() -> str:
    return authorization(ts=int(time.time()) - 7201)


REFUSALS = {
    "bad signature": dict(auth=authorization(sig=signing.sign(KEY, USER, 1592570791))),
    "wrong key": dict(auth=authorization(key="x" * 32)),
    "stale ts (2 h + 1 s)": dict(auth=None, stale=True),
    "ts as a string": dict(
        auth=json.dumps(
            {
                "public_id": MERCHANT,
                "sig_field": USER,
                "ts": str(int(time.time())),
                "sig": signing.sign(KEY, USER, int(time.time())),
            }
        )
    ),
    "ts far in the future": dict(auth=authorization(ts=int(time.time()) + 3600)),
    "another merchant": dict(auth=authorization(public_id="f" * 32)),
    "no Authorization header": dict(auth="", missing=True),
    "header not JSON": dict(auth="sig=abc"),
    "sig URL-encoded": dict(auth=None, urlencoded=True),
    "charset in Content-Type": dict(content_type="application/xml; charset=utf-8"),
    "text/xml": dict(content_type="text/xml"),
    "sig_field is not customerPartnerId": dict(auth=authorization("DC69410258"), body=order_xml()),
    "DOCTYPE with an entity": dict(
        body=(
            b'<?xml version="1.0"?><!DOCTYPE order [<!ENTITY x "boom">]>'
            + order_xml()[len(DECLARATION) :].replace(b"9 Elm Row", b"&x;")
        )
    ),
    "external DTD": dict(
        body=b'<!DOCTYPE order SYSTEM "http://127.0.0.1:9/x.dtd">' + order_xml()[len(DECLARATION) :]
    ),
    "undeclared entity": dict(body=order_xml().replace(b">17071718<", b">&x;<")),
    "not XML": dict(body=b"create_request=%7B%7D"),
    "no items": dict(body=order_xml(items=(), subtotal="0.00", total="0.00")),
    "subtotal is not the sum of finalPrice": dict(body=order_xml(subtotal="50.00", total="50.00")),
    "total does not add up": dict(body=order_xml(total="40.00")),
    "unknown customer": dict(auth=authorization("NOBODY1"), body=order_xml(user="NOBODY1")),
    "unknown product": dict(
        body=order_xml(
            items=({**COFFEE, "product_id": "NOPE", "sku": "NOPE"},),
            subtotal="29.70",
            total="29.70",
        )
    ),
    "out-of-stock product": dict(
        body=order_xml(
            items=({**COFFEE, "product_id": "FF3050105", "sku": "81030501050"},),
            subtotal="29.70",
            total="29.70",
        )
    ),
    "another currency": dict(body=order_xml(currency="EUR")),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_refusals_are_error_999_replies_that_create_nothing(store, client, case):
    spec = REFUSALS[case]
    headers = {"Content-Type": spec.get("content_type", XML)}
    if spec.get("stale"):
        headers["Authorization"] = stale()
    elif spec.get("urlencoded"):
        ts = int(time.time())
        while "+" not in signing.sign(KEY, USER, ts) and "/" not in signing.sign(KEY, USER, ts):
            ts -= 1
        headers["Authorization"] = authorization(
            ts=ts, sig=requests.utils.quote(signing.sign(KEY, USER, ts), safe="")
        )
    elif not spec.get("missing"):
        headers["Authorization"] = spec.get("auth") or authorization()
    response = client.post(ENDPOINT, data=spec.get("body", order_xml()), headers=headers)

    answer = reply(response)
    assert (answer["code"], answer["errorCode"]) == ("ERROR", "999"), answer
    assert answer["errorMsg"]
    assert count_orders(store) == 0
    [delivery] = query(store, "SELECT * FROM recurring_delivery")
    assert (delivery["outcome"], delivery["error_code"]) == ("refused", "999")
    assert delivery["reason"] == html.unescape(answer["errorMsg"])


def test_a_signature_just_under_two_hours_old_is_accepted(client):
    assert reply(post(client, auth=authorization(ts=int(time.time()) - 7190)))["code"] == (
        "SUCCESS"
    )


def test_a_customer_unknown_by_id_is_found_by_email(store, client):
    body = order_xml(user="SHOPIFY-77", email="Jonas.Lindqvist@example.com")
    answer = reply(post(client, body, auth=authorization("SHOPIFY-77")))

    assert answer["code"] == "SUCCESS"
    [order] = query(store, "SELECT user_id FROM store_order")
    assert order["user_id"] == "DC69410258"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("tok_visa_0341", "140"),
        ("tok_visa_0119", "160"),
        ("tok_visa_0127", "110"),
        ("tok_unknown", "110"),
        ("tok_decline", "140"),
    ],
)
def test_declining_test_tokens_answer_their_error_code(store, client, token, code):
    answer = reply(post(client, order_xml(token=token)))

    assert (answer["code"], answer["errorCode"]) == ("ERROR", code)
    assert count_orders(store) == 0
    [delivery] = query(store, "SELECT outcome, error_code FROM recurring_delivery")
    assert tuple(delivery) == ("declined", code)


@pytest.mark.parametrize("expiry", ["01/2020", "13/2099", "soon", ""])
def test_an_expired_or_unreadable_card_expiry_is_120(store, client, expiry):
    body = order_xml(expiry=expiry)
    if not expiry:  # ciphertext that is not the merchant's
        body = body.replace(
            b"<orderCcExpire><![CDATA[]]>",
            b"<orderCcExpire><![CDATA["
            + signing.encrypt_field("y" * 32, "12/2099").encode()
            + b"]]>",
        )
    answer = reply(post(client, body))

    assert (answer["code"], answer["errorCode"]) == ("ERROR", "120")
    assert count_orders(store) == 0


def test_a_declined_order_can_succeed_when_retried(store, client):
    set_switch(store, "decline_140")
    assert reply(post(client))["errorCode"] == "140"
    set_switch(store, "accept")
    assert reply(post(client))["code"] == "SUCCESS"
    assert count_orders(store) == 1


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("decline_140", "140"),
        ("decline_160", "160"),
        ("decline_110", "110"),
        ("decline_999", "999"),
    ],
)
def test_the_admin_switch_declines_with_its_code(store, client, mode, code):
    set_switch(store, mode)
    answer = reply(post(client))

    assert (answer["code"], answer["errorCode"]) == ("ERROR", code)
    assert "store admin switch" in answer["errorMsg"]
    assert count_orders(store) == 0


def test_the_unreadable_switch_answers_an_html_page_and_creates_nothing(store, client):
    set_switch(store, "unreadable")
    response = post(client)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.get_data(as_text=True).startswith("<!DOCTYPE html>")
    assert count_orders(store) == 0
    assert query(store, "SELECT outcome FROM recurring_delivery")[0][0] == "unreadable"


def test_the_stall_switch_waits_then_accepts(store, client):
    set_switch(store, "stall")
    started = time.monotonic()
    answer = reply(post(client))

    assert time.monotonic() - started >= 0.3  # RECURRING_STALL_SECONDS in this test
    assert answer["code"] == "SUCCESS" and count_orders(store) == 1


def test_the_verify_later_switch_answers_response_code_010(store, client):
    set_switch(store, "verify_later")
    response = post(client)

    answer = reply(response)
    assert response.get_data(as_text=True) == (
        f"{DECLARATION}<order><code>SUCCESS</code><responseCode>010</responseCode>"
        f"<orderId>{answer['orderId']}</orderId></order>"
    )
    assert count_orders(store) == 1


def test_error_replies_are_written_as_contracts_6_4_shows(client):
    response = post(client, order_xml(token="tok_visa_0127"))

    assert response.get_data(as_text=True) == (
        f"{DECLARATION}<order><code>ERROR</code><errorCode>110</errorCode>"
        "<errorMsg>The credit card number provided is not valid.</errorMsg></order>"
    )


def test_the_endpoint_needs_no_csrf_token_but_only_takes_post(client):
    assert client.get(ENDPOINT).status_code == 405
    assert reply(post(client))["code"] == "SUCCESS"  # no session, no csrf_token


def test_signing_matches_the_contract_vectors():
    assert signing.sign(KEY, USER, 1592570791) == "cDT46QUotN2ci0LD2d5vk1i6NBk3WWh9qjplfThl3Fg="
    assert signing.encrypt_field(KEY, "12/2099") == "kwWZ/53+x32tmofPBfCppQzDFDlnWL9lCXQ/q5nFNdk="
    assert signing.decrypt_field(KEY, "nq+UQCFXsSJQx/dOvA+zwQzDFDlnWL9lCXQ/q5nFNdk=") == "01/2019"


def test_a_database_file_from_before_gains_the_new_columns(store, tmp_path):
    path = store.config["DEMO_DB"]
    conn = store_db.connect(path)
    for table, column, _ in store_db.ADDED_COLUMNS:
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.close()

    again = create_store({**store.config, "DEMO_DB": path})
    assert reply(post(again.test_client()))["code"] == "SUCCESS"
    [line] = query(again, "SELECT one_time FROM order_line WHERE product_id = 'FF3050104'")
    assert line["one_time"] == 1
