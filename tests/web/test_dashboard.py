"""The subscriber dashboard: msi.js, who may see it (og_auth states) and what it shows."""

from __future__ import annotations

import gzip
import time
from datetime import UTC, date, datetime

import pytest

from app import assets
from app.extensions import db
from app.integrations import signing
from app.models import Order, OrderItem, OrderStatus
from app.services import subscription_lifecycle
from tests.actionkit import NOW, SUBSCRIBER, coffee, make_shopper, subscribe
from tests.dashkit import STORE, auth, board, shop_merchant

SIGNED_OUT = "Please sign in again to manage your subscriptions."


@pytest.fixture
def merchant(app):
    return shop_merchant()


def test_msi_js_is_one_iife_on_the_core_within_budget(client, merchant):
    response = client.get(f"/{merchant.public_id}/msi.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("/*") and body.rstrip().endswith("})();")
    ours = body[body.index("var OG_CSS") :]
    assert 'widget("msi",function(){' in ours and "function widget(" in ours
    assert 'var AUTH_PAGE="";' in ours
    assert len(gzip.compress(ours.encode())) <= 8 * 1024  # htmx not counted
    again = client.get(
        f"/{merchant.public_id}/msi.js", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_msi_js_carries_the_merchants_auth_page(client, merchant):
    before = client.get(f"/{merchant.public_id}/msi.js").headers["ETag"]
    merchant.auth_page_url = 'https://shop.example/og/auth?x=1&y="2"'
    db.session.commit()
    response = client.get(f"/{merchant.public_id}/msi.js")
    body = response.get_data(as_text=True)
    assert 'var AUTH_PAGE="https://shop.example/og/auth?x=1&y=\\"2\\"";' in body
    assert response.headers["ETag"] != before
    merchant.auth_page_url = "javascript:alert(1)"
    db.session.commit()
    body = client.get(f"/{merchant.public_id}/msi.js").get_data(as_text=True)
    assert "alert(1)" not in body and 'var AUTH_PAGE="";' in body


def test_main_js_and_msi_js_share_one_core(app):
    main = assets.storefront_loader(app, "main.js")[0].decode()
    msi = assets.storefront_loader(app, "msi.js")[0].decode()
    assert "(main|msi)\\.js" in main and "(main|msi)\\.js" in msi
    assert 'widget("offers"' not in msi and 'widget("msi"' not in main


def test_a_signed_in_subscriber_sees_their_dashboard(client, merchant):
    shopper = make_shopper(merchant)
    sub = subscribe(shopper, coffee(merchant, 1250, name="Trail Coffee"), quantity=2)
    response = board(client, merchant, auth(merchant, shopper.customer.merchant_user_id))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div class="og-msi"')
    assert "Order of Friday, February 1, 2030" in html  # the merchant's calendar date
    assert "2 × Trail Coffee" in html and "$25.00" in html
    assert "9 Elm Row, Albany, US" in html
    assert sub.public_id in html and "Every 4 weeks" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == STORE
    assert "X-OG-Auth" in response.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("quoted", [False, True])
def test_og_auth_raw_or_url_encoded(client, merchant, quoted):
    shopper = make_shopper(merchant)
    subscribe(shopper, coffee(merchant, name="Trail Coffee"))
    headers = auth(merchant, shopper.customer.merchant_user_id)
    if quoted:
        headers["X-OG-Auth"] = headers["X-OG-Auth"].replace("|", "%7C").replace("+", "%2B")
    response = board(client, merchant, headers)
    assert response.status_code == 200 and "Trail Coffee" in response.get_data(as_text=True)


def _expired(merchant, other, user):
    return auth(merchant, user, int(time.time()) - 7201)


def _tampered_user(merchant, other, user):
    headers = auth(merchant, user)
    _, ts, sig = headers["X-OG-Auth"].split("|")
    return {**headers, "X-OG-Auth": f"someone-else|{ts}|{sig}"}


def _tampered_ts(merchant, other, user):
    headers = auth(merchant, user)
    uid, ts, sig = headers["X-OG-Auth"].split("|")
    return {**headers, "X-OG-Auth": f"{uid}|{int(ts) + 60}|{sig}"}


def _other_merchants_key(merchant, other, user):
    return auth(other, user)


def _other_merchants_header(merchant, other, user):
    value = signing.build_auth_header(other.public_id, other.hash_key, user)
    return {"X-OG-Auth": value, "Origin": STORE}


@pytest.mark.parametrize(
    "credential",
    [
        lambda m, o, u: {"Origin": STORE},
        lambda m, o, u: {"X-OG-Auth": "", "Origin": STORE},
        lambda m, o, u: {"X-OG-Auth": "garbage", "Origin": STORE},
        _expired,
        _tampered_user,
        _tampered_ts,
        _other_merchants_key,
        _other_merchants_header,
    ],
    ids=[
        "logged-out",
        "empty",
        "garbage",
        "2h+1s",
        "tampered-user",
        "tampered-ts",
        "other-merchant-key",
        "other-merchant-header",
    ],
)
def test_without_a_valid_sign_in_it_asks_to_sign_in_again_and_shows_nothing(
    client, merchant, credential
):
    other = shop_merchant()
    shopper = make_shopper(merchant)
    sub = subscribe(shopper, coffee(merchant, name="Trail Coffee"))
    make_shopper(other).customer.merchant_user_id = shopper.customer.merchant_user_id
    db.session.commit()
    headers = credential(merchant, other, shopper.customer.merchant_user_id)
    response = board(client, merchant, headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert SIGNED_OUT in html and 'role="alert"' in html
    assert "Trail Coffee" not in html and sub.public_id not in html
    posted = client.post(
        f"/{merchant.public_id}/msi/quantity",
        data={"subscription": sub.public_id, "quantity": "3"},
        headers=headers,
    )
    assert posted.status_code == 403 and SIGNED_OUT in posted.get_data(as_text=True)
    db.session.expire_all()
    assert sub.quantity == 1


def test_a_signature_just_inside_two_hours_is_accepted(client, merchant):
    shopper = make_shopper(merchant)
    subscribe(shopper)
    headers = auth(merchant, shopper.customer.merchant_user_id, int(time.time()) - 7190)
    assert board(client, merchant, headers).status_code == 200


def test_an_unknown_customer_signed_in_sees_an_empty_dashboard(client, merchant):
    html = board(client, merchant, auth(merchant, "never-subscribed")).get_data(as_text=True)
    assert "You have no upcoming orders." in html
    assert "You have no active subscriptions." in html


def test_subscriber_a_never_sees_subscriber_b(client, merchant):
    a, b = make_shopper(merchant), make_shopper(merchant)
    subscribe(a, coffee(merchant, name="Alpha Tea"))
    theirs = subscribe(b, coffee(merchant, name="Beta Beans"))
    html = board(client, merchant, auth(merchant, a.customer.merchant_user_id)).get_data(
        as_text=True
    )
    assert "Alpha Tea" in html
    assert ">Beta Beans</h4>" not in html and theirs.public_id not in html
    assert b.home.public_id not in html and b.card.public_id not in html


def test_another_origin_gets_no_cors_and_cannot_post(client, merchant):
    shopper = make_shopper(merchant)
    sub = subscribe(shopper)
    headers = {
        **auth(merchant, shopper.customer.merchant_user_id),
        "Origin": "https://evil.example",
    }
    response = board(client, merchant, headers)
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    for origin in ("https://evil.example", None):
        h = {k: v for k, v in headers.items() if k != "Origin"}
        if origin:
            h["Origin"] = origin
        posted = client.post(
            f"/{merchant.public_id}/msi/quantity",
            data={"subscription": sub.public_id, "quantity": "3"},
            headers=h,
        )
        assert posted.status_code == 403
    db.session.expire_all()
    assert sub.quantity == 1


def test_preflight_allows_the_auth_header_for_the_store_only(client, merchant):
    response = client.options(
        f"/{merchant.public_id}/msi/",
        headers={"Origin": STORE, "Access-Control-Request-Headers": "x-og-auth"},
    )
    assert response.headers["Access-Control-Allow-Origin"] == STORE
    assert "X-OG-Auth" in response.headers["Access-Control-Allow-Headers"]


def test_it_shows_the_price_breakdown_card_inactive_and_past_orders(client, merchant):
    shopper = make_shopper(merchant)
    shopper.card.cc_type, shopper.card.expiry_month, shopper.card.expiry_year = 1, 12, 2031
    shopper.card.cc_last4_enc = signing.encrypt_field(merchant.hash_key, "4242")
    live = subscribe(shopper, coffee(merchant, 1000, name="Trail Coffee"), quantity=3)
    gone = subscribe(shopper, coffee(merchant, name="Old Tea"))
    dead = subscribe(shopper, coffee(merchant, name="Retired Cocoa"))
    for sub in (gone, dead):
        subscription_lifecycle.cancel(*shopper.ids, sub.public_id, "1|", actor=SUBSCRIBER, now=NOW)
        sub.cancelled_at = datetime(2030, 1, 5, 3, 0, tzinfo=UTC)
    dead.product.discontinued = True
    past = Order(
        merchant_id=merchant.id,
        customer_id=shopper.customer.id,
        place_date=date(2029, 12, 1),
        status=OrderStatus.SUCCESS,
        total_minor=3000,
    )
    past.items.append(OrderItem(product_id=live.product_id, quantity=3))
    db.session.add(past)
    db.session.commit()
    html = board(client, merchant, auth(merchant, shopper.customer.merchant_user_id)).get_data(
        as_text=True
    )
    assert "Visa ending 4242 · expires 12/2031" in html
    assert "tok-" not in html  # never the token
    upcoming = html[html.index("Upcoming orders") : html.index("Your subscriptions")]
    assert "Subtotal</dt><dd>$30.00" in upcoming and "Total</dt><dd>$30.00" in upcoming
    inactive = html[html.index("Cancelled subscriptions") : html.index("Past orders")]
    assert "Old Tea" in inactive and f"og-msi-{gone.public_id}-reactivate" in inactive
    # cancelled at 03:00 UTC on 5 January is 4 January in New York
    assert "cancelled Friday, January 4, 2030" in inactive
    assert "Retired Cocoa" in inactive and f"og-msi-{dead.public_id}-reactivate" not in inactive
    assert "cannot be reactivated" in inactive
    past_part = html[html.index("Past orders") :]
    assert "Saturday, December 1, 2029" in past_part and "Placed" in past_part
    assert "3 × Trail Coffee" in past_part


def test_html_in_names_is_escaped(client, merchant):
    shopper = make_shopper(merchant)
    subscribe(shopper, coffee(merchant, name="<script>alert(1)</script> Beans"))
    html = board(client, merchant, auth(merchant, shopper.customer.merchant_user_id)).get_data(
        as_text=True
    )
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Beans" in html
