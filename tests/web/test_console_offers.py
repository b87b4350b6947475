"""Console: offers per location, saved with validation and events, and the live preview."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Event, Merchant, Offer
from app.services import events, incentives
from tests.factories import HX, csrf_token, login, make_merchant, make_product, make_staff

STAFF = events.Actor("staff", "1", "127.0.0.1")
FORM = {
    "offer_type": "toggle",
    "optin_label": "Make it a habit",
    "optout_label": "Just once",
    "every_label": "Every",
    "tooltip_trigger": "What's this?",
    "tooltip": "Skip or cancel any time.",
    "frequencies": "1_3 2_3",
    "default_frequency": "1_3",
    "show_tooltip": "on",
    "active": "on",
    "incentive_ids": "all",
}


@pytest.fixture
def merchant(owner):
    return db.session.get(Merchant, owner.merchant_id)


def post(client, path, data, headers=None):
    token = csrf_token(client, "/console/offers/default")
    return client.post(path, data={**data, "csrf_token": token}, headers=headers)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_list_shows_the_default_offer(client, merchant):
    response = client.get("/console/offers/")
    assert response.status_code == 200
    page = text(response)
    assert ">default<" in page and "Every live incentive" in page
    assert 'href="/console/offers/pdp"' in page


def test_save_a_location_records_an_event(client, merchant):
    response = post(client, "/console/offers/cart", FORM)
    assert response.status_code == 302
    offer = db.session.scalar(
        select(Offer).where(Offer.merchant_id == merchant.id, Offer.location == "cart")
    )
    assert (offer.offer_type, offer.frequencies, offer.incentive_ids) == (
        "toggle",
        ["1_3", "2_3"],
        None,
    )
    post(client, "/console/offers/cart", {**FORM, "optin_label": "Subscribe"})
    types = [
        e.type
        for e in db.session.scalars(
            select(Event)
            .where(Event.merchant_id == merchant.id, Event.object_type == "offer")
            .order_by(Event.id)
        )
    ]
    assert types == ["offer.create", "offer.update"]
    assert "Subscribe" in text(client.get("/console/offers/cart"))


def test_choose_advertised_incentives(client, merchant):
    ten = incentives.create(
        merchant.id, {"name": "Ten", "kind": "percent_off", "percent": "10"}, actor=STAFF
    )
    post(client, "/console/offers/pdp", {**FORM, "incentive_ids": ten.public_id})
    offer = db.session.scalar(select(Offer).where(Offer.location == "pdp"))
    assert offer.incentive_ids == [ten.public_id]


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"frequencies": "2_9"}, "frequencies", "not a frequency"),
        ({"frequencies": ""}, "frequencies", "at least one"),
        ({"default_frequency": "4_2"}, "default_frequency", "one of the frequencies"),
        ({"optin_label": ""}, "optin_label", "required"),
        ({"offer_type": "carousel"}, "offer_type", "Choose one of"),
        ({"incentive_ids": "0" * 32}, "incentive_ids", "Choose among"),
    ],
)
def test_invalid_settings_are_refused_and_kept(client, merchant, change, field, message):
    response = post(client, "/console/offers/pdp", {**FORM, **change})
    assert response.status_code == 400
    assert message in text(response)
    assert db.session.scalar(select(Offer).where(Offer.location == "pdp")) is None


def test_bad_location_name(client, merchant):
    response = post(client, "/console/offers/a b", FORM)
    assert response.status_code == 400


def test_preview_renders_the_shopper_fragment_without_saving(client, merchant):
    incentives.create(
        merchant.id, {"name": "Ten", "kind": "percent_off", "percent": "10"}, actor=STAFF
    )
    make_product(merchant, "BEANS", name="Beans", price_minor=1000)
    response = post(
        client, "/console/offers/pdp/preview", {**FORM, "preview_product": "BEANS"}, headers=HX
    )
    assert response.status_code == 200
    html = text(response)
    assert html.lstrip().startswith('<div id="offer-preview"')
    assert "Make it a habit 10%" in html and 'role="switch"' in html and "$9.00" in html
    assert db.session.scalar(select(Offer).where(Offer.location == "pdp")) is None
    broken = text(
        post(client, "/console/offers/pdp/preview", {**FORM, "frequencies": "x"}, headers=HX)
    )
    assert "Fix the highlighted fields" in broken


def test_edit_page_has_a_live_preview(client, merchant):
    page = text(client.get("/console/offers/pdp"))
    assert 'hx-post="/console/offers/pdp/preview"' in page
    assert "Sample product" in page and "Subscribe and save" in page


def test_csrf_and_login_required(client, app):
    assert client.get("/console/offers/").status_code == 302
    user = make_staff()
    login(client, user)
    response = client.post("/console/offers/pdp", data=FORM)
    assert response.status_code == 400
    assert db.session.scalar(select(Offer).where(Offer.location == "pdp")) is None


def test_offers_are_per_merchant(client, merchant):
    other = make_merchant()
    db.session.add(Offer(merchant_id=other.id, location="cart", optin_label="Theirs"))
    db.session.commit()
    assert "Theirs" not in text(client.get("/console/offers/cart"))
    assert "Theirs" not in text(client.get("/console/offers/"))
