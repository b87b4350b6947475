"""Staff of one merchant never see or change another merchant's data."""

from html import unescape

from app.extensions import db
from app.models import ApiKey, Merchant
from tests.factories import csrf_token, login, make_api_key, make_merchant, make_staff


def test_staff_see_only_their_own_merchant(client):
    mine, theirs = make_merchant(name="Mine"), make_merchant(name="Theirs")
    make_api_key(theirs, "their secret integration")
    login(client, make_staff(mine))
    for path in ("/console/", "/console/settings"):
        html = client.get(path).get_data(as_text=True)
        assert theirs.public_id not in html and "Theirs" not in html
        assert "their secret integration" not in html


def test_cannot_revoke_another_merchants_key(client):
    mine, theirs = make_merchant(), make_merchant()
    make_api_key(theirs)
    key = ApiKey.query.filter_by(merchant_id=theirs.id).one()
    login(client, make_staff(mine))
    token = csrf_token(client, "/console/settings")
    response = client.post(
        f"/console/settings/api-keys/{key.id}/revoke", data={"csrf_token": token}
    )
    assert response.status_code == 404
    assert db.session.get(ApiKey, key.id).revoked_at is None


def test_settings_update_touches_only_the_signed_in_merchant(client):
    mine, theirs = make_merchant(), make_merchant()
    login(client, make_staff(mine))
    token = csrf_token(client, "/console/settings")
    client.post(
        "/console/settings",
        data={
            "csrf_token": token,
            "name": "Renamed",
            "timezone": "Asia/Tokyo",
            "placement_hour": "3",
            "order_endpoint_url": "",
            "allowed_origins": "",
        },
    )
    assert db.session.get(Merchant, mine.id).timezone == "Asia/Tokyo"
    assert db.session.get(Merchant, theirs.id).timezone == "UTC"
    assert db.session.get(Merchant, theirs.id).name != "Renamed"


def test_revealed_hash_key_is_the_signed_in_merchants(client):
    mine, theirs = make_merchant(), make_merchant()
    login(client, make_staff(mine))
    token = csrf_token(client, "/console/settings")
    html = unescape(
        client.post("/console/settings/hash-key", data={"csrf_token": token}).get_data(as_text=True)
    )
    assert mine.hash_key in html and theirs.hash_key not in html
