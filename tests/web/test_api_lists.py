"""List conventions of the REST API (contracts §8.3) on ``GET /subscriptions/``: cursor mode
with ``X-OG-API-VERSION: 2``, page mode otherwise, the filters, and pages that neither skip nor
repeat a row while others are added between calls."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from app.extensions import db
from app.models import Subscription
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


def walk(client, url: str, headers: dict, between=None) -> list[str]:
    seen = []
    while url:
        body = client.get(url, headers=headers).get_json()
        seen += [s["public_id"] for s in body["results"]]
        url = body["next"]
        if between and url:
            between()
    return seen


def test_cursor_pages_neither_skip_nor_repeat_while_rows_are_added(client, shopper, key):
    first = [subscribe(shopper).public_id for _ in range(7)]
    added = []
    seen = walk(
        client,
        "/subscriptions/?page_size=2",
        {**key, **CURSOR},
        between=lambda: added.append(subscribe(shopper).public_id),
    )
    assert seen[:7] == first  # oldest first, each once
    assert len(seen) == len(set(seen)) and set(seen) <= set(first) | set(added)


def test_page_mode_counts_and_numbers_its_pages(client, shopper, key):
    made = [subscribe(shopper).public_id for _ in range(5)]
    body = client.get("/subscriptions/?page_size=2", headers=key).get_json()
    assert body["count"] == 5 and body["previous"] is None and "page=2" in body["next"]
    assert walk(client, "/subscriptions/?page_size=2", key) == made
    past = client.get("/subscriptions/?page=9", headers=key)
    assert (past.status_code, past.get_json()) == (404, {"detail": "Invalid page."})


def test_status_and_updated_filters(client, shopper, key):
    active, paused, cancelled = (subscribe(shopper) for _ in range(3))
    paused.paused = True
    cancelled.live = False
    old = utcnow() - timedelta(days=30)
    db.session.get(Subscription, active.id).updated_at = old
    db.session.commit()
    db.session.execute(  # the ORM's onupdate would stamp it now
        db.update(Subscription).where(Subscription.id == active.id).values(updated_at=old)
    )
    db.session.commit()

    def ids(query: str) -> list[str]:
        return [
            s["public_id"]
            for s in client.get(f"/subscriptions/?{query}", headers=key).get_json()["results"]
        ]

    assert ids("status=active") == [active.public_id]
    assert ids("status=paused") == [paused.public_id]
    assert ids("status=cancelled") == [cancelled.public_id]
    since = quote((utcnow() - timedelta(days=1)).isoformat())
    assert ids(f"updated_start={since}") == [paused.public_id, cancelled.public_id]
    assert ids(f"updated_end={since}") == [active.public_id]
    bad = client.get("/subscriptions/?status=sleeping", headers=key)
    assert bad.status_code == 400 and "status" in bad.get_json()
    bad = client.get("/subscriptions/?updated_start=yesterday", headers=key)
    assert bad.status_code == 400 and "updated_start" in bad.get_json()


def test_the_storefront_scope_lists_only_its_own_in_either_mode(client, shopper, key):
    mine = subscribe(shopper)
    other = make_shopper(shopper.merchant)
    subscribe(other)
    from app.integrations import signing

    header = {
        "Authorization": signing.build_auth_header(
            shopper.merchant.public_id, shopper.merchant.hash_key, shopper.customer.merchant_user_id
        )
    }
    for extra in ({}, CURSOR):
        listed = client.get("/subscriptions/", headers={**header, **extra}).get_json()
        assert [s["public_id"] for s in listed["results"]] == [mine.public_id]
