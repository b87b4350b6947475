"""``GET /events/``: the merchant's event log over the API, filtered and paged, one merchant's
only."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from app.extensions import db
from app.models import Event
from app.models.types import utcnow
from tests.actionkit import make_shopper, subscribe
from tests.dashkit import shop_merchant
from tests.factories import make_api_key

CURSOR = {"X-OG-API-VERSION": "2"}


@pytest.fixture
def shopper(app):
    return make_shopper(shop_merchant())


@pytest.fixture
def key(shopper):
    return {"x-api-key": make_api_key(shopper.merchant)}


def types(client, query: str, key) -> list[str]:
    body = client.get(f"/events/?page_size=100&{query}", headers=key).get_json()
    return [e["type"] for e in body["results"]]


def test_the_log_filtered_by_type_family_object_and_customer(client, shopper, key):
    sub = subscribe(shopper)
    everything = types(client, "", key)
    assert "subscription.create" in everything and "order.create" in everything
    assert set(types(client, "type=order.*", key)) == {
        t for t in everything if t.startswith("order.")
    }
    both = set(types(client, "type=order.*|subscription.create", key))
    assert "subscription.create" in both and all(
        t.startswith(("order.", "subscription.create")) for t in both
    )
    mine = client.get(f"/events/?object_type=subscription&object_id={sub.public_id}", headers=key)
    [created] = mine.get_json()["results"]
    assert created["object"] == {"type": "subscription", "id": sub.public_id}
    assert created["customer"] == shopper.customer.merchant_user_id
    assert set(created) == {
        "id",
        "type",
        "created",
        "actor",
        "object",
        "customer",
        "before",
        "after",
    }
    assert types(client, "customer=NOBODY", key) == []


def test_time_bounds_and_both_page_modes(client, shopper, key):
    subscribe(shopper)
    total = client.get("/events/", headers=key).get_json()["count"]
    assert total >= 2
    later = quote((utcnow() + timedelta(minutes=5)).isoformat())
    assert types(client, f"created_start={later}", key) == []
    assert len(types(client, f"created_end={later}", key)) == total
    seen, url = [], "/events/?page_size=1"
    while url:
        body = client.get(url, headers={**key, **CURSOR}).get_json()
        seen += [e["id"] for e in body["results"]]
        url = body["next"]
    assert len(seen) == total and seen == sorted(seen)


@pytest.mark.parametrize(
    "query", ["type=order.", "type=ORDER.*", "type=a.b.c", "type=%7C%7C", "created_start=soon"]
)
def test_bad_filters_are_400_naming_them(client, key, query):
    response = client.get(f"/events/?{query}", headers=key)
    assert response.status_code == 400
    assert query.split("=")[0] in response.get_json()


def test_another_merchant_sees_none_and_the_storefront_scope_none_at_all(client, shopper, key):
    subscribe(shopper)
    theirs = {"x-api-key": make_api_key(shop_merchant())}
    listed = client.get("/events/?page_size=100", headers=theirs).get_json()["results"]
    assert listed and not any(e["type"].startswith(("subscription.", "order.")) for e in listed)
    assert all(e["customer"] is None for e in listed)  # their own setup: their key, and so on
    assert client.get("/events/").status_code == 403
    assert Event.query.count() > 0
    db.session.rollback()
