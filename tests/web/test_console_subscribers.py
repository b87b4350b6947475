"""Console: subscribers (list, search, detail with masked payment and history) and checkouts."""

from __future__ import annotations

import re
from html import unescape

import pytest

from app.extensions import db
from app.models import Merchant
from tests.factories import HX, make_api_key, make_merchant, make_product
from tests.web.test_purchase_post import T1_KEY, example, post, whole


@pytest.fixture
def merchant(owner):
    merchant = db.session.get(Merchant, owner.merchant_id)
    merchant.hash_key = T1_KEY  # the key the example's encrypted expiry was made with
    db.session.commit()
    make_product(merchant, "123456789", name="Dog Food", price_minor=1299)
    make_product(merchant, "222", name="Cat Food", price_minor=1000)
    return merchant


@pytest.fixture
def key(merchant):
    return make_api_key(merchant)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def checkout(client, merchant, key, **changes):
    response = post(client, whole(example(merchant, **changes)), key=key)
    assert response.status_code == 200, response.get_json()


def one_time(client, merchant, key, order_id, user_id="ONCE1"):
    payload = example(merchant, merchant_order_id=order_id)
    payload.pop("payment")
    payload["user"]["user_id"] = user_id
    payload["products"] = [{"product": "222", "purchase_info": {"quantity": 1}}]
    assert post(client, whole(payload), key=key).status_code == 200


def test_list_search_and_fragment(client, merchant, key):
    checkout(client, merchant, key)
    page = text(client.get("/console/subscribers/"))
    assert "DC69410241" in page and "Nicholas" in page and "nick@example.com" in page
    assert "Bundy" in text(client.get("/console/subscribers/?q=bund"))
    assert "DC69410241" not in text(client.get("/console/subscribers/?q=zzz"))
    fragment = text(client.get("/console/subscribers/?q=nick", headers=HX))
    assert fragment.lstrip().startswith('<div id="subscribers-table">')


def test_detail_shows_subscriptions_masked_card_and_history(client, merchant, key):
    checkout(client, merchant, key)
    page = text(client.get("/console/subscribers/DC69410241"))
    assert "Dog Food" in page and "every 4 weeks" in page and "abc123" in page
    assert "Visa · expires 12/2099" in page
    assert "7654321" not in page and "kwWZ" not in page  # never the token or ciphertext
    assert "subscription.create" in page and "purchase_post" in page
    assert "75 Broad Street" in page


def test_another_merchants_subscriber_is_invisible(client, merchant, key):
    other = make_merchant()
    make_product(other, "123456789")
    other.hash_key = T1_KEY
    db.session.commit()
    checkout(client, other, make_api_key(other), merchant_order_id="theirs")
    assert client.get("/console/subscribers/DC69410241").status_code == 404
    assert "DC69410241" not in text(client.get("/console/subscribers/"))


def test_checkouts_conversion(client, merchant, key):
    assert "—" in text(client.get("/console/checkouts/"))  # no checkouts: no rate
    checkout(client, merchant, key)
    one_time(client, merchant, key, "o-2")
    one_time(client, merchant, key, "o-3", user_id="ONCE2")
    page = text(client.get("/console/checkouts/?days=7"))
    assert 'data-testid="checkouts">3<' in page
    assert 'data-testid="with-subscriptions">1<' in page
    assert 'data-testid="without-subscriptions">2<' in page
    assert 'data-testid="conversion">33.3%<' in page
    assert "o-2" in page and "abc123" in page


def test_hostile_names_are_escaped(client, merchant, key):
    payload = example(merchant)
    payload["user"]["first_name"] = "<script>alert(1)</script>"
    assert post(client, whole(payload), key=key).status_code == 200
    raw = client.get("/console/subscribers/DC69410241").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in raw and "&lt;script&gt;" in raw


def test_login_required(app):
    client = app.test_client()
    for path in ("/console/subscribers/", "/console/subscribers/X", "/console/checkouts/"):
        assert client.get(path).status_code == 302


def _event(merchant_id, type_, actor_type="subscriber", age_days=0):
    from datetime import timedelta

    from app.models.types import utcnow
    from app.services import events

    event = events.record(
        merchant_id,
        type_,
        events.Actor(actor_type, "someone", "203.0.113.9"),
        object_type="subscription",
        object_id="s1",
    )
    event.created_at = utcnow() - timedelta(days=age_days)
    db.session.commit()


def test_activity_is_empty_until_subscribers_act(client, merchant):
    page = text(client.get("/console/subscribers/"))
    assert 'data-testid="activity-empty"' in page
    assert "No subscriber actions in the last 30 days." in page


def test_activity_counts_subscriber_actions_by_type_over_30_days(client, merchant):
    for _ in range(3):
        _event(merchant.id, "subscription.pause")
    _event(merchant.id, "order.skip_order")
    _event(merchant.id, "order.skip_order", actor_type="staff")  # staff: not counted
    _event(merchant.id, "subscription.cancel", age_days=31)  # too old
    _event(make_merchant().id, "subscription.cancel")  # another merchant's
    page = text(client.get("/console/subscribers/"))
    assert 'data-testid="activity-empty"' not in page
    rows = re.findall(
        r'data-activity="([^"]+)"><td>([^<]+)</td>.*?<td class="num">(\d+)</td>', page
    )
    assert rows == [
        ("subscription.pause", "Paused", "3"),
        ("order.skip_order", "Skipped a subscription's order", "1"),
    ]
