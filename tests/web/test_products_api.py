"""``GET /products/`` and ``GET /products/<id>/``: auth, shape, cursor pages, filters, tenancy."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.services import feeds
from tests import feedkit
from tests.factories import make_api_key, make_merchant


@pytest.fixture
def merchant(app):
    merchant = make_merchant()
    feedkit.open_account(merchant)
    return merchant


@pytest.fixture
def key(merchant):
    return make_api_key(merchant)


def load(app, merchant, *products: str) -> None:
    feedkit.drop(app, merchant, feedkit.feed(*products))
    [run] = feeds.run_now(merchant.id)
    assert run.status == "succeeded", run.error


def get(client, path: str, key: str, version: str | None = None):
    headers = {"x-api-key": key}
    if version:
        headers["X-OG-API-VERSION"] = version
    return client.get(path, headers=headers)


@pytest.mark.parametrize(
    "headers", [{}, {"x-api-key": ""}, {"x-api-key": "pk_nope"}, {"X-API-KEY": "x" * 500}]
)
def test_a_missing_or_unknown_key_is_403_in_the_contract_shape(client, headers):
    for path in ("/products/", "/products/P1/"):
        response = client.get(path, headers=headers)
        assert response.status_code == 403
        assert response.get_json() == {"detail": "Authentication Failed"}


def test_a_revoked_key_is_refused(app, client, merchant):
    from app.services import api_keys, events

    key = make_api_key(merchant)
    [record] = api_keys.list_for(merchant.id)
    api_keys.revoke(merchant.id, record.id, actor=events.SYSTEM)
    assert get(client, "/products/", key).status_code == 403


def test_an_unknown_product_is_404_in_the_contract_shape(client, key):
    response = get(client, "/products/NOPE/", key)
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Unable to find requested asset."}


def test_the_detail_returns_the_feed_values(app, client, merchant, key):
    load(
        app,
        merchant,
        feedkit.product_xml(
            "AB/1-x",
            name="Kibble & Co™",
            price="1234.05",
            in_stock="0",
            extra="<every>3</every><every_period>3</every_period>",
        ),
    )
    body = get(client, "/products/AB/1-x/", key).get_json()
    assert body["product_id"] == "AB/1-x" and body["name"] == "Kibble & Co™"
    assert (body["price"], body["price_minor"], body["currency_code"]) == ("1234.05", 123405, "USD")
    assert body["in_stock"] is False and body["live"] is False
    assert body["autoship_eligible"] is True and body["autoship_enabled"] is True
    assert body["default_frequency"] == {"every": 3, "every_period": 3}
    assert body["details_url"] == "https://shop.example/p/AB/1-x"
    assert body["in_latest_feed"] is True and body["created"] and body["updated"]


def test_cursor_pages_walk_forward_and_back_without_gaps(app, client, merchant, key):
    load(app, merchant, *(feedkit.product_xml(f"P{i:02d}") for i in range(25)))
    seen, url = [], "/products/?page_size=10"
    pages = []
    while url:
        body = get(client, url, key, version="2").get_json()
        assert "count" not in body
        pages.append(body)
        seen += [p["product_id"] for p in body["results"]]
        url = body["next"]
    assert seen == [f"P{i:02d}" for i in range(25)]
    assert [len(p["results"]) for p in pages] == [10, 10, 5]
    assert pages[0]["previous"] is None and pages[1]["previous"]
    back = get(client, pages[2]["previous"], key).get_json()  # a cursor alone: cursor mode
    assert [p["product_id"] for p in back["results"]] == [f"P{i:02d}" for i in range(10, 20)]
    assert "page_size=10" in pages[0]["next"]


def test_without_the_version_header_pages_are_numbered_with_a_count(app, client, merchant, key):
    load(app, merchant, *(feedkit.product_xml(f"P{i:02d}") for i in range(25)))
    seen, url, counts = [], "/products/?page_size=10&in_stock=true", []
    while url:
        body = get(client, url, key).get_json()
        counts.append(body["count"])
        seen += [p["product_id"] for p in body["results"]]
        url = body["next"]
    assert seen == [f"P{i:02d}" for i in range(25)] and counts == [25, 25, 25]
    last = get(client, "/products/?page=3&page_size=10", key).get_json()
    assert last["next"] is None and "page=2" in last["previous"]
    assert "page_size=10" in last["previous"]
    past = get(client, "/products/?page=4&page_size=10", key)
    assert (past.status_code, past.get_json()) == (404, {"detail": "Invalid page."})
    bad = get(client, "/products/?page=0", key)
    assert bad.status_code == 400 and "page" in bad.get_json()


def test_default_page_size_is_ten(app, client, merchant, key):
    load(app, merchant, *(feedkit.product_xml(f"P{i:02d}") for i in range(12)))
    body = get(client, "/products/", key).get_json()
    assert len(body["results"]) == 10 and body["next"]


def test_filters(app, client, merchant, key):
    load(
        app,
        merchant,
        feedkit.product_xml("IN"),
        feedkit.product_xml("OUT", in_stock="0"),
        feedkit.product_xml("NOELIG", eligible="0"),
        feedkit.discontinued_xml("DISC"),
    )

    def ids(query: str) -> set[str]:
        return {
            p["product_id"] for p in get(client, f"/products/?{query}", key).get_json()["results"]
        }

    assert ids("in_stock=true") == {"IN", "NOELIG"}
    assert ids("in_stock=false") == {"OUT", "DISC"}
    assert ids("eligible=true") == {"IN", "OUT"}
    assert ids("discontinued=true") == {"DISC"}
    assert ids("search=noel") == {"NOELIG"}
    assert ids("search=%25") == set() and ids("search=_") == set()  # no wildcards
    assert ids("updated_start=2000-01-01T00:00:00Z") == {"IN", "OUT", "NOELIG", "DISC"}
    assert ids("updated_end=2000-01-01") == set()


@pytest.mark.parametrize(
    "query",
    [
        "page_size=0",
        "page_size=101",
        "page_size=abc",
        "cursor=!!!",
        "cursor=eyJkIjoic2lkZXdheXMiLCJpZCI6MX0",
        "in_stock=maybe",
        "updated_start=yesterday",
    ],
)
def test_bad_query_parameters_are_400_with_the_field_named(client, key, query):
    response = get(client, f"/products/?{query}", key)
    assert response.status_code == 400
    field = query.split("=")[0]
    assert field in response.get_json()


def test_a_merchant_never_sees_another_merchants_products(app, client, merchant, key):
    other = make_merchant()
    feedkit.open_account(other)
    load(app, other, feedkit.product_xml("THEIRS"))
    assert get(client, "/products/THEIRS/", key).status_code == 404
    assert get(client, "/products/", key).get_json()["results"] == []
    their_key = make_api_key(other)
    assert get(client, "/products/THEIRS/", their_key).status_code == 200


def test_groups_come_back_in_feed_order(app, client, merchant, key):
    groups = (
        '<groups><group type="sku_swap">Zeta</group><group type="incentive">Alpha</group>'
        '<group type="sku_swap">Beta</group></groups>'
    )
    load(app, merchant, feedkit.product_xml("G1", extra=groups))
    body = get(client, "/products/G1/", key).get_json()
    assert [g["name"] for g in body["groups"]] == ["Zeta", "Alpha", "Beta"]


def test_next_links_use_the_public_origin_behind_a_trusted_proxy(app, database_url, merchant):
    from app import create_app
    from tests.conftest import make_config

    proxied = create_app(
        make_config(database_url, TRUSTED_PROXIES=1, SECRET_KEY=app.config["SECRET_KEY"])
    )
    key = make_api_key(merchant)
    load(app, merchant, *(feedkit.product_xml(f"P{i}") for i in range(3)))
    with proxied.app_context():
        body = (
            proxied.test_client()
            .get(
                "/products/?page_size=2",
                headers={
                    "x-api-key": key,
                    "X-Forwarded-Proto": "https",
                    "X-Forwarded-Host": "subs.shop.example",
                },
            )
            .get_json()
        )
        db.session.remove()
        db.engine.dispose()
    assert body["next"].startswith("https://subs.shop.example/products/?")
