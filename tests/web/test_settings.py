"""Settings: validation, the hash key on demand, API keys shown once, owner-only edits."""

from html import unescape

import pytest

from app.extensions import db
from app.models import ApiKey, Event, Merchant
from app.services import api_keys
from tests.factories import HX, csrf_token, login, make_staff


def _post(client, path, data=None, headers=None):
    token = csrf_token(client, "/console/settings")
    return client.post(path, data={**(data or {}), "csrf_token": token}, headers=headers)


def _settings(**overrides):
    form = {
        "name": "Fern Shop",
        "timezone": "Europe/Paris",
        "placement_hour": "7",
        "order_endpoint_url": "https://shop.example/og/orders",
        "allowed_origins": "https://shop.example\nhttps://www.shop.example:8443",
    }
    return {**form, **overrides}


def test_settings_page_shows_merchant_id_but_not_hash_key(client, owner):
    merchant = db.session.get(Merchant, owner.merchant_id)
    html = unescape(client.get("/console/settings").get_data(as_text=True))
    assert merchant.public_id in html
    assert merchant.hash_key not in html


def test_owner_saves_settings_and_an_event_records_the_change(client, owner):
    response = _post(client, "/console/settings", _settings())
    assert response.status_code == 302
    merchant = db.session.get(Merchant, owner.merchant_id)
    assert merchant.timezone == "Europe/Paris" and merchant.placement_hour == 7
    assert merchant.allowed_origins == ["https://shop.example", "https://www.shop.example:8443"]
    event = Event.query.filter_by(type="settings.update").one()
    assert event.after["timezone"] == "Europe/Paris" and event.before["timezone"] == "UTC"
    assert event.actor_type == "staff" and event.actor_id == str(owner.id)


@pytest.mark.parametrize(
    "field, value",
    [
        ("timezone", "Mars/Olympus"),
        # The placement hour and endpoint: tests/web/test_console_orders.py (their own page).
        ("allowed_origins", "https://shop.example/path"),
        ("allowed_origins", "http://shop.example"),
        ("allowed_origins", "ftp://shop.example"),
        ("name", ""),
    ],
)
def test_invalid_settings_are_refused_and_nothing_changes(client, owner, field, value):
    before = db.session.get(Merchant, owner.merchant_id).timezone
    response = _post(client, "/console/settings", _settings(**{field: value}))
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    merchant = db.session.get(Merchant, owner.merchant_id)
    assert merchant.timezone == before and merchant.placement_hour == 6


def test_localhost_http_is_allowed_for_development(client, owner):
    response = _post(
        client,
        "/console/settings",
        _settings(
            order_endpoint_url="http://127.0.0.1:5001/og/orders",
            allowed_origins="http://127.0.0.1:5001",
        ),
    )
    assert response.status_code == 302


def test_hash_key_is_revealed_on_demand_and_audited(client, owner):
    merchant = db.session.get(Merchant, owner.merchant_id)
    response = _post(client, "/console/settings/hash-key", headers=HX)
    html = unescape(response.get_data(as_text=True))
    assert merchant.hash_key in html and "<html" not in html
    assert Event.query.filter_by(type="settings.hash_key_revealed").count() == 1


def test_api_key_is_shown_once_and_stored_hashed(client, owner):
    response = _post(client, "/console/settings/api-keys", {"name": "Checkout"}, headers=HX)
    html = response.get_data(as_text=True)
    assert 'id="api-keys"' in html and "<html" not in html
    key = ApiKey.query.one()
    raw = html.split('data-testid="new-api-key">')[1].split("<")[0]
    assert raw.startswith("pk_") and key.key_hash != raw and raw not in key.key_hash
    assert api_keys.authenticate(raw).id == key.id
    assert raw not in client.get("/console/settings").get_data(as_text=True)


def test_revoked_key_no_longer_authenticates(client, owner):
    _post(client, "/console/settings/api-keys", {"name": "Old"}, headers=HX)
    key = ApiKey.query.one()
    response = _post(client, f"/console/settings/api-keys/{key.id}/revoke", headers=HX)
    assert response.status_code == 200 and "revoked" in response.get_data(as_text=True)
    assert ApiKey.query.one().revoked_at is not None
    assert Event.query.filter_by(type="api_key.revoke").count() == 1


def test_at_most_ten_active_keys(client, owner):
    for i in range(10):
        assert (
            _post(client, "/console/settings/api-keys", {"name": f"k{i}"}, headers=HX).status_code
            == 200
        )
    response = _post(client, "/console/settings/api-keys", {"name": "eleven"}, headers=HX)
    assert response.status_code == 400
    assert ApiKey.query.count() == 10


def test_fragment_and_page_vary_on_hx_request(client, owner):
    response = _post(client, "/console/settings/api-keys", {"name": "x"}, headers=HX)
    assert "HX-Request" in response.headers["Vary"]


def test_staff_role_can_read_but_not_change_settings(client):
    owner = make_staff(role="owner")
    staff = make_staff(db.session.get(Merchant, owner.merchant_id), role="staff")
    login(client, staff)
    html = client.get("/console/settings").get_data(as_text=True)
    assert "Only the account owner can change settings." in html
    assert _post(client, "/console/settings", _settings()).status_code == 403
    assert _post(client, "/console/settings/hash-key").status_code == 403
    assert _post(client, "/console/settings/api-keys", {"name": "x"}).status_code == 403
    assert db.session.get(Merchant, owner.merchant_id).timezone == "UTC"


@pytest.mark.parametrize(
    "path", ["/console/settings", "/console/settings/hash-key", "/console/settings/api-keys"]
)
def test_settings_posts_need_csrf(client, owner, path):
    assert client.post(path, data={"name": "x"}).status_code == 400


def test_settings_page_title_is_plain_text(client, owner):
    html = client.get("/console/settings").get_data(as_text=True)
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and "Settings" in title
