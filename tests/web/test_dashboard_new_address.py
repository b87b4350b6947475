"""The dashboard's "Add a new address": a form under each subscription's "More options" that
adds the address and ships that subscription (or all) there; a refusal answers at the form,
with what was typed and each field's error tied to it; nothing of another subscriber
reachable."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Address, OrderStatus
from app.services import upcoming_orders
from tests.actionkit import last_event, make_shopper, snapshot, subscribe, upcoming
from tests.dashkit import act, auth, board, shop_merchant

NEW = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "address": "12 St James's Square",
    "city": "London",
    "zip_postal_code": "SW1Y 4JH",
    "country_code": "gb",
}


@pytest.fixture
def shopper(app):
    return make_shopper(shop_merchant())


def addresses_of(shopper) -> list[Address]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Address).where(Address.customer_id == shopper.customer.id).order_by(Address.id)
        )
    )


def card_of(html: str, sub) -> str:
    start = html.index(f'data-og-subscription="{sub.public_id}"')
    return html[start : html.index("</article>", start)]


def notices(html: str) -> list[tuple[str, str]]:
    return [
        (role, " ".join(text.split()))
        for role, text in re.findall(
            r'<p class="og-msi-notice[^"]*"[^>]*role="(\w+)">(.*?)</p>', html, re.S
        )
    ]


def test_each_subscription_offers_the_form_every_field_labelled(client, shopper):
    sub = subscribe(shopper)
    html = board(
        client, shopper.merchant, auth(shopper.merchant, shopper.customer.merchant_user_id)
    ).get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    card = card_of(html, sub)
    assert "<summary" in card and "Add a new address" in card
    form = card[card.index(f'og-hx-post="{_base(shopper)}new_address"') :]
    form = form[: form.index("</form>")]
    inputs = re.findall(
        r'<input class="og-msi-control" type="(\w+)" id="([^"]+)" name="(\w+)"', form
    )
    assert [name for _, _, name in inputs] == [
        "first_name",
        "last_name",
        "address",
        "address2",
        "city",
        "state_province_code",
        "zip_postal_code",
        "country_code",
        "phone",
    ]
    for _, fid, _ in inputs:
        assert f'<label class="og-msi-label" for="{fid}">' in form
    assert "aria-invalid" not in form and 'name="all"' in form


def test_add_an_address_and_ship_one_subscription_there(client, shopper):
    sub, other = subscribe(shopper), subscribe(shopper)
    response = act(client, shopper, "new_address", subscription=sub.public_id, **NEW)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert notices(html) == [("status", "Address added. This subscription now ships there.")]
    new = addresses_of(shopper)[-1]
    assert (new.first_name, new.city, new.country_code) == ("Ada", "London", "GB")
    assert sub.shipping_address_id == new.id and upcoming(sub).shipping_address_id == new.id
    assert other.shipping_address_id == shopper.home.id
    assert f'<option value="{new.public_id}" selected>' in card_of(html, sub)
    # its form closes (msi.js reopens the other open ones), the other card's stays as it was
    assert f'id="og-msi-{sub.public_id}-add-address" data-og-done>' in card_of(html, sub)
    assert "data-og-done" not in card_of(html, other)
    assert last_event("address.create").actor_type == "subscriber"


def test_add_an_address_for_all_and_the_same_again_is_not_a_twin(client, shopper):
    a, b = subscribe(shopper), subscribe(shopper)
    form = NEW | {"all": "1"}
    response = act(client, shopper, "new_address", subscription=a.public_id, **form)
    assert notices(response.get_data(as_text=True)) == [
        ("status", "Address added. All your subscriptions now ship there.")
    ]
    new = addresses_of(shopper)[-1]
    assert a.shipping_address_id == b.shipping_address_id == new.id
    again = act(client, shopper, "new_address", subscription=a.public_id, **form)
    assert again.status_code == 200 and addresses_of(shopper)[-1].id == new.id
    assert len(addresses_of(shopper)) == 3


def test_a_refusal_keeps_what_was_typed_and_says_why_at_each_field(client, shopper):
    sub = subscribe(shopper)
    typed = NEW | {"first_name": '"><b>Ada</b>', "city": "", "country_code": "ZZ", "all": "1"}
    response = act(client, shopper, "new_address", subscription=sub.public_id, **typed)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    card = card_of(html, sub)
    sid = f"og-msi-{sub.public_id}"
    assert notices(html) == [("alert", "Please check the address: city, country.")]
    assert f'<details class="og-msi-more" id="{sid}-more" open>' in card
    assert f'<details class="og-msi-new-address" id="{sid}-add-address" open>' in card
    form = card[card.index(f'id="{sid}-add-address"') :]
    assert form.index('role="alert"') < form.index("</form>")  # at the form, once
    assert f'id="{sid}-new-first_name" name="first_name" value="&#34;&gt;&lt;b&gt;Ada' in form
    assert f'id="{sid}-new-address" name="address" value="12 St James&#39;s Square"' in form
    for field, message in (
        ("city", "Required"),
        ("country_code", "A two-letter country code, such as US"),
    ):
        fid = f"{sid}-new-{field}"
        assert re.search(
            rf'id="{fid}" name="{field}"[^>]*aria-invalid="true" aria-describedby="{fid}-error"',
            form,
        )
        assert f'<p class="og-msi-field-error" id="{fid}-error">{message}</p>' in form
    assert f'id="{sid}-add-address-all" name="all" value="1" checked' in form
    assert form.count("aria-invalid") == 2
    assert len(addresses_of(shopper)) == 2 and sub.shipping_address_id == shopper.home.id


def test_refused_for_another_reason_the_form_still_keeps_what_was_typed(client, shopper):
    sub = subscribe(shopper)
    upcoming(sub).status = OrderStatus.SEND_NOW  # being placed
    db.session.commit()
    response = act(client, shopper, "new_address", subscription=sub.public_id, **NEW)
    assert response.status_code == 409
    form = card_of(response.get_data(as_text=True), sub)
    form = form[form.index('class="og-msi-new-address"') :]
    assert notices(form) == [("alert", upcoming_orders.BEING_PLACED)]
    assert 'name="city" value="London"' in form and "aria-invalid" not in form
    assert len(addresses_of(shopper)) == 2


def test_another_subscribers_subscription_is_never_touched(client, shopper):
    theirs = make_shopper(shopper.merchant)
    sub = subscribe(theirs)
    order = upcoming(sub)
    before = snapshot(sub, order)
    response = act(client, shopper, "new_address", subscription=sub.public_id, **NEW)
    assert response.status_code == 404
    assert sub.public_id not in response.get_data(as_text=True)
    assert len(addresses_of(shopper)) == len(addresses_of(theirs)) == 2
    # "for all" is all of mine (none yet): the address is mine, their subscription stays
    response = act(client, shopper, "new_address", subscription=sub.public_id, all="1", **NEW)
    assert response.status_code == 200 and sub.public_id not in response.get_data(as_text=True)
    assert len(addresses_of(shopper)) == 3 and len(addresses_of(theirs)) == 2
    assert snapshot(sub, order) == before


def _base(shopper) -> str:
    return f"http://localhost/{shopper.merchant.public_id}/msi/"
