"""Console: Subscription Manager settings (what the dashboard offers, the save offer, the
auth page, instant upsell locations) and the cancel reasons; owner-only, each change an event."""

from __future__ import annotations

from html import unescape

import pytest

from app.extensions import db
from app.models import Event, Merchant
from app.services import cancel_reasons, dashboard_settings
from tests.factories import csrf_token, login, make_staff

PAGE = "/console/settings/subscription-manager"
REASONS = PAGE + "/cancel-reasons"


def post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, PAGE)})


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def merchant_of(owner) -> Merchant:
    db.session.expire_all()
    return db.session.get(Merchant, owner.merchant_id)


def good(**overrides):
    form = {
        "quantities": "1, 2, 3, 6, 12",
        "pause": "on",
        "skip": "on",
        "save_offer": "frequency",
        "every": "8",
        "every_period": "2",
        "auth_page_url": "https://shop.example/og-auth",
        "upsell_locations": ["pdp", "cart"],
    }
    return {**form, **overrides}


def test_defaults_before_anything_is_saved(client, owner):
    chosen = dashboard_settings.settings_for(owner.merchant_id)
    assert chosen.quantities == (1, 2, 3, 4, 5, 6)
    assert (chosen.pause, chosen.skip, chosen.swap) == (True, True, True)
    assert chosen.save_offer is None and chosen.auth_page_url is None
    assert chosen.upsell_locations == ()
    page = text(client.get(PAGE))
    assert 'value="1, 2, 3, 4, 5, 6"' in page and "These are the defaults." in page
    assert "I have too much product" in page


def test_owner_saves_the_settings_and_one_event_records_them(client, owner):
    response = post(client, PAGE, good())
    assert response.status_code == 302
    chosen = dashboard_settings.settings_for(merchant_of(owner))
    assert chosen.quantities == (1, 2, 3, 6, 12)
    assert (chosen.pause, chosen.skip, chosen.swap) == (True, True, False)
    assert chosen.save_offer == {"kind": "frequency", "every": 8, "every_period": 2}
    assert chosen.auth_page_url == "https://shop.example/og-auth"
    assert chosen.upsell_locations == ("cart", "pdp")
    event = Event.query.filter_by(type="settings.update").one()
    assert event.actor_type == "staff" and event.actor_id == str(owner.id)
    assert event.after["auth_page_url"] == "https://shop.example/og-auth"
    assert event.before["dashboard_settings"] is None
    page = text(client.get(PAGE))
    assert "Subscription Manager settings saved." in page and 'value="1, 2, 3, 6, 12"' in page


def test_save_offers_skip_and_a_lower_frequency(client, owner):
    assert post(client, PAGE, good(save_offer="skip")).status_code == 302
    assert dashboard_settings.settings_for(merchant_of(owner)).save_offer == {"kind": "skip"}
    form = good(save_offer="frequency", every="8", every_period="2")
    assert post(client, PAGE, form).status_code == 302
    chosen = dashboard_settings.settings_for(merchant_of(owner))
    assert chosen.save_offer == {"kind": "frequency", "every": 8, "every_period": 2}
    shown = dashboard_settings.settings(merchant_of(owner)).save_offer
    assert shown.kind == "frequency" and shown.text == "Ship every 8 weeks instead"
    assert post(client, PAGE, good(save_offer="")).status_code == 302
    assert dashboard_settings.settings_for(merchant_of(owner)).save_offer is None


def test_save_offer_a_discount_to_stay(client, owner):
    form = good(save_offer="discount", percent="20", orders="3")
    assert post(client, PAGE, form).status_code == 302
    chosen = dashboard_settings.settings_for(merchant_of(owner))
    assert chosen.save_offer == {"kind": "discount", "percent": 20, "orders": 3}
    shown = dashboard_settings.settings(merchant_of(owner)).save_offer
    assert (shown.kind, shown.text) == ("discount", "Stay for 20% off your next 3 orders")
    page = text(client.get(PAGE))
    assert (
        'value="discount" checked' in page
        and 'name="percent" type="number" min="1" max="90" value="20"' in page
    )


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"quantities": ""}, "quantities"),
        ({"quantities": "1, 2, 0"}, "quantities"),
        ({"quantities": "1, 100"}, "quantities"),
        ({"quantities": "one"}, "quantities"),
        ({"quantities": " ".join(str(n) for n in range(1, 23))}, "quantities"),
        ({"save_offer": "bribe"}, "save_offer"),
        ({"save_offer": "frequency", "every": ""}, "every"),
        ({"save_offer": "frequency", "every": "1000"}, "every"),
        ({"save_offer": "frequency", "every_period": "9"}, "every_period"),
        ({"save_offer": "discount"}, "percent"),
        ({"save_offer": "discount", "percent": "91", "orders": "3"}, "percent"),
        ({"save_offer": "discount", "percent": "0", "orders": "3"}, "percent"),
        ({"save_offer": "discount", "percent": "20", "orders": "13"}, "orders"),
        ({"save_offer": "discount", "percent": "2.5", "orders": "1"}, "percent"),
        ({"auth_page_url": "http://shop.example/og-auth"}, "auth_page_url"),
        ({"auth_page_url": "javascript:alert(1)"}, "auth_page_url"),
        ({"auth_page_url": "https://"}, "auth_page_url"),
        ({"auth_page_url": "https://user:pw@shop.example/"}, "auth_page_url"),
        ({"auth_page_url": "https://shop.example:99999/"}, "auth_page_url"),
        ({"auth_page_url": "https://shop.example/" + "a" * 500}, "auth_page_url"),
        ({"upsell_locations": ["pdp", "<script>"]}, "upsell_locations"),
    ],
)
def test_bad_values_are_refused_next_to_their_field(client, owner, changes, field):
    response = post(client, PAGE, good(**changes))
    assert response.status_code == 400
    page = text(response)
    assert f'id="e-{field}"' in page and "Please correct the highlighted fields." in page
    assert merchant_of(owner).dashboard_settings is None
    assert merchant_of(owner).auth_page_url is None
    assert Event.query.filter_by(type="settings.update").count() == 0


def test_cancel_reasons_are_saved_from_the_rows(client, owner):
    form = {
        "reasons-0-code": "1",
        "reasons-0-reason": "Too much coffee",
        "reasons-1-code": "9",
        "reasons-1-reason": "Something else",
        "reasons-1-text": "on",
        "reasons-2-code": "",
        "reasons-2-reason": "",
    }
    assert post(client, REASONS, form).status_code == 302
    assert cancel_reasons.reasons(owner.merchant_id) == [
        {"code": 1, "reason": "Too much coffee", "requires_text": False},
        {"code": 9, "reason": "Something else", "requires_text": True},
    ]
    event = Event.query.filter_by(type="settings.update").one()
    assert event.after["cancel_reasons"][1]["code"] == 9
    page = text(client.get(PAGE))
    assert 'value="Too much coffee"' in page and "These are the defaults." not in page


@pytest.mark.parametrize(
    "form, error_id",
    [
        ({"reasons-0-code": "x", "reasons-0-reason": "Fine"}, 're-0-code"'),
        ({"reasons-0-code": "", "reasons-0-reason": "Fine"}, 're-0-code"'),
        ({"reasons-0-code": "3", "reasons-0-reason": "  "}, 're-0-reason"'),
        (
            {
                "reasons-0-code": "3",
                "reasons-0-reason": "A",
                "reasons-1-code": "",
                "reasons-1-reason": "",
                "reasons-2-code": "3",
                "reasons-2-reason": "B",
            },
            're-2-code"',
        ),
        ({"reasons-0-code": "", "reasons-0-reason": ""}, 'role="alert"'),
    ],
)
def test_bad_cancel_reasons_are_refused_at_their_row(client, owner, form, error_id):
    response = post(client, REASONS, form)
    assert response.status_code == 400
    assert error_id in text(response)
    assert merchant_of(owner).cancel_reasons is None


def test_cancel_reasons_back_to_the_defaults(client, owner):
    cancel_reasons.set_reasons(
        owner.merchant_id, [{"code": 5, "reason": "Mine"}], actor=dashboard_settings.events.SYSTEM
    )
    assert post(client, REASONS + "/reset", {}).status_code == 302
    assert merchant_of(owner).cancel_reasons is None
    assert "I have too much product" in text(client.get(PAGE))


def test_only_the_owner_changes_them(app, owner):
    client = app.test_client()
    login(client, make_staff(merchant_of(owner), role="staff"))
    page = text(client.get(PAGE))
    assert "Only the account owner can change these settings." in page
    for path in (PAGE, REASONS, REASONS + "/reset"):
        assert post(client, path, good()).status_code == 403
    assert merchant_of(owner).dashboard_settings is None


def test_settings_page_links_here(client, owner):
    assert PAGE in text(client.get("/console/settings"))
