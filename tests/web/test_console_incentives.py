"""Console: incentives listed, created, edited, scheduled and switched on and off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Event, Incentive, Merchant, Product
from app.services import events, incentives
from tests.factories import HX, csrf_token, login, make_merchant, make_staff

STAFF = events.Actor("staff", "1", "127.0.0.1")
BLANK = {
    "name": "",
    "kind": "percent_off",
    "scope": "item",
    "applies_to": "both",
    "percent": "",
    "amount": "",
    "currency": "USD",
    "threshold": "",
    "gift_product": "",
    "target": "all",
    "target_group": "",
    "target_products": "",
    "min_order": "",
    "max_order": "",
    "starts_at": "",
    "ends_at": "",
    "active": "on",
}


@pytest.fixture
def merchant(owner):
    return db.session.get(Merchant, owner.merchant_id)


def post(client, path, data=None, headers=None):
    token = csrf_token(client, "/console/incentives/new")
    return client.post(path, data={**(data or {}), "csrf_token": token}, headers=headers)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def add(merchant, **data) -> Incentive:
    return incentives.create(
        merchant.id,
        {"name": "Ten off", "kind": "percent_off", "percent": "10", **data},
        actor=STAFF,
    )


def make_product(merchant, product_id: str, name: str) -> Product:
    product = Product(merchant_id=merchant.id, product_id=product_id, name=name, price_minor=1200)
    db.session.add(product)
    db.session.commit()
    return product


def test_list_shows_what_shoppers_read_and_each_status(client, merchant):
    now = datetime.now(UTC)
    add(merchant, name="Always on")
    add(merchant, name="Later", starts_at=now + timedelta(days=3), applies_to="initial")
    add(merchant, name="Over", ends_at=now - timedelta(days=1), min_order="3", max_order="5")
    switched_off = add(merchant, name="Paused", kind="free_shipping", applies_to="ongoing")
    incentives.deactivate(merchant.id, switched_off.public_id, actor=STAFF)
    page = text(client.get("/console/incentives/"))
    assert "<html" in page and 'aria-current="page">Incentives<' in page
    assert "Save 10% on every order" in page and "Free shipping on every recurring order" in page
    assert "Save 10% on your first order" in page and "orders 3–5" in page
    for status in ("Active", "Scheduled", "Ended", "Off"):
        assert f'data-status="{status}"' in page
    response = client.get("/console/incentives/", headers=HX)
    fragment = text(response)
    assert fragment.startswith('<div id="incentives-table">') and "<html" not in fragment
    assert "HX-Request" in response.headers["Vary"]


def test_create_percent_off(client, merchant):
    response = post(
        client,
        "/console/incentives/",
        {
            **BLANK,
            "name": "Subscribe & save",
            "percent": "12.5",
            "threshold": "40",
            "applies_to": "ongoing",
        },
    )
    incentive = db.session.scalar(select(Incentive))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/console/incentives/{incentive.public_id}"
    assert (incentive.percent_bp, incentive.threshold_minor, incentive.active) == (1250, 4000, True)
    page = text(client.get(response.headers["Location"]))
    assert "Incentive created." in page
    assert "Shoppers will read: <strong>Save 12.5% on every recurring order over $40.00" in page
    assert 'name="threshold" type="text" value="40.00"' in page
    assert "Subscribe & save" in text(client.get("/console/incentives/"))


def test_create_a_gift_of_a_catalog_product(client, merchant):
    product = make_product(merchant, "TEA-1", "Sample Tea")
    response = post(
        client,
        "/console/incentives/",
        {
            **BLANK,
            "name": "Welcome gift",
            "kind": "gift",
            "gift_product": "TEA-1",
            "applies_to": "initial",
        },
    )
    assert response.status_code == 302
    incentive = db.session.scalar(select(Incentive))
    assert (incentive.kind, incentive.gift_product_id, incentive.scope) == (
        "gift",
        product.id,
        "order",
    )
    page = text(client.get(response.headers["Location"]))
    assert "Free gift: Sample Tea with your first order" in page
    assert 'name="gift_product" type="text" value="TEA-1"' in page


def test_invalid_input_is_refused_with_the_reasons_and_values_kept(client, merchant):
    response = post(
        client,
        "/console/incentives/",
        {
            **BLANK,
            "name": "Keep my name",
            "kind": "fixed_off",
            "amount": "5.001",
            "starts_at": "2026-12-02T09:00",
            "ends_at": "2026-12-01T09:00",
            "active": "",
        },
    )
    assert response.status_code == 400
    page = text(response)
    assert "Please correct the highlighted fields." in page and "At most 2 decimal places." in page
    assert 'value="Keep my name"' in page and 'value="5.001"' in page
    assert 'value="2026-12-02T09:00"' in page and '<option value="fixed_off" selected>' in page
    assert 'name="active" checked' not in page  # the unticked box stays unticked
    assert db.session.scalar(select(Incentive)) is None
    page = text(post(client, "/console/incentives/", {**BLANK, "name": "No percent"}))
    assert "This kind of incentive needs this field." in page


def test_edit_shows_local_times_and_major_units_and_records_the_change(client, merchant):
    merchant.timezone = "America/New_York"
    db.session.commit()
    incentive = add(
        merchant,
        kind="fixed_off",
        amount="5",
        scope="order",
        starts_at="2026-12-01T09:00",
        ends_at="2027-01-01T00:00",
    )
    assert incentive.starts_at == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    path = f"/console/incentives/{incentive.public_id}"
    page = text(client.get(path))
    assert 'value="5.00"' in page and 'value="2026-12-01T09:00"' in page
    assert "America/New_York" in page and "Save $5.00 on every order" in page
    listed = text(client.get("/console/incentives/"))
    assert "2026-12-01 09:00 → 2027-01-01 00:00" in listed

    form = {
        **BLANK,
        "name": "Five off",
        "kind": "fixed_off",
        "amount": "7.50",
        "scope": "order",
        "starts_at": "2026-12-01T09:00",
        "ends_at": "2027-01-01T00:00",
    }
    response = post(client, path, form)
    assert response.status_code == 302 and response.headers["Location"] == path
    event = db.session.scalar(select(Event).where(Event.type == "incentive.update"))
    assert event.before == {"name": "Ten off", "amount_minor": 500}
    assert event.after == {"name": "Five off", "amount_minor": 750}
    page = text(client.get(path))
    assert "Incentive saved." in page and "Save $7.50 on every order" in page

    response = post(client, path, {**form, "max_order": "0"})
    assert response.status_code == 400 and "An order number from 1 to" in text(response)
    assert db.session.get(Incentive, incentive.id).max_order_number is None


def test_deactivate_and_activate_from_the_list(client, merchant):
    incentive = add(merchant)
    path = f"/console/incentives/{incentive.public_id}/active"
    response = post(client, path, {"active": ""}, headers=HX)
    html = text(response)
    assert response.status_code == 200 and html.startswith('<div id="incentives-table">')
    assert "Ten off is off." in html and 'data-status="Off"' in html and ">Activate<" in html
    assert db.session.get(Incentive, incentive.id).active is False
    page = text(post(client, path, {"active": "on"}))
    assert "<html" in page and "Ten off is on." in page and 'data-status="Active"' in page
    assert db.session.get(Incentive, incentive.id).active is True
    kinds = db.session.scalars(
        select(Event.type).where(Event.object_id == incentive.public_id).order_by(Event.id)
    )
    assert list(kinds) == ["incentive.create", "incentive.deactivate", "incentive.activate"]


def test_changes_need_the_csrf_token(client, merchant):
    incentive = add(merchant)
    base = f"/console/incentives/{incentive.public_id}"
    assert client.post("/console/incentives/", data={**BLANK, "name": "x"}).status_code == 400
    assert client.post(base, data={**BLANK, "name": "x"}).status_code == 400
    assert client.post(f"{base}/active", data={"active": ""}).status_code == 400
    assert db.session.scalar(select(Incentive.name)) == "Ten off"
    assert db.session.get(Incentive, incentive.id).active is True


def test_another_merchants_incentive_is_not_found(client, merchant):
    theirs = add(make_merchant(), name="Their secret deal")
    base = f"/console/incentives/{theirs.public_id}"
    assert client.get(base).status_code == 404
    assert post(client, base, {**BLANK, "name": "Mine now", "percent": "90"}).status_code == 404
    assert post(client, f"{base}/active", {"active": ""}).status_code == 404
    assert "Their secret deal" not in text(client.get("/console/incentives/"))
    kept = db.session.get(Incentive, theirs.id)
    assert (kept.name, kept.percent_bp, kept.active) == ("Their secret deal", 1000, True)


def test_a_gift_must_come_from_the_own_catalog(client, merchant):
    other = make_merchant()
    make_product(other, "THEIRS", "Their product")
    response = post(
        client,
        "/console/incentives/",
        {**BLANK, "name": "Gift", "kind": "gift", "gift_product": "THEIRS"},
    )
    assert response.status_code == 400 and "No product 'THEIRS' in your catalog." in text(response)


@pytest.mark.parametrize(
    "path", ["/console/incentives/", "/console/incentives/new", "/console/incentives/abc"]
)
def test_pages_need_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=")


def test_names_are_escaped(client, merchant):
    incentive = add(merchant, name="<script>alert(1)</script>")
    for path in ("/console/incentives/", f"/console/incentives/{incentive.public_id}"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_staff_can_manage_incentives(client):
    login(client, make_staff(role="staff"))
    response = post(client, "/console/incentives/", {**BLANK, "name": "By staff", "percent": "5"})
    assert response.status_code == 302
