"""The demo store's account page changes the customer's email and phone and tells Perennial
through Set Contact Details (contracts §7.1), over real HTTP to the platform."""

from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Customer, Event
from demo import create_app as create_store
from tests.factories import make_customer, make_merchant

EMAIL, PASSWORD, USER = "maya.okafor@example.com", "demo1234", "DC69410241"


@pytest.fixture
def platform(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def merchant(app):
    merchant = make_merchant()
    make_customer(merchant, USER)
    return merchant


def store(tmp_path, merchant, platform_url):
    return create_store(
        {
            "DEMO_DB": str(tmp_path / "demo.db"),
            "SECRET_KEY": "unit-test",
            "MERCHANT_PUBLIC_ID": merchant.public_id,
            "MERCHANT_HASH_KEY": merchant.hash_key,
            "PLATFORM_URL": platform_url,
        }
    ).test_client()


def token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def signed_in(client):
    client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token(client, "/login")}
    )
    return client


def save(client, email: str, phone: str):
    data = {"email": email, "phone": phone, "csrf_token": token(client, "/account")}
    return client.post("/account/details", data=data, follow_redirects=True)


def at_perennial() -> tuple:
    db.session.expire_all()
    found = db.session.scalar(db.select(Customer).filter_by(merchant_user_id=USER))
    return found.email, found.phone_number


def test_the_account_page_sets_the_details_here_and_at_perennial(tmp_path, merchant, platform):
    client = signed_in(store(tmp_path, merchant, platform))
    page = save(client, "Maya.New@Example.com", "555-555-5555").get_data(as_text=True)
    assert "Your contact details are saved." in page
    assert 'value="maya.new@example.com"' in page and 'value="555-555-5555"' in page
    assert at_perennial() == ("maya.new@example.com", "555-555-5555")
    event = Event.query.filter_by(type="customer.set_contact_details").one()
    assert event.actor_type == "subscriber" and event.actor_id == USER


def test_a_bad_email_is_refused_by_the_store_and_nothing_is_sent(tmp_path, merchant, platform):
    client = signed_in(store(tmp_path, merchant, platform))
    before = at_perennial()
    response = save(client, "not-an-email", "")
    assert response.status_code == 400
    assert "Enter an email address such as name@example.com." in response.get_data(as_text=True)
    assert at_perennial() == before


def test_perennial_down_keeps_the_stores_change_and_says_so(tmp_path, merchant):
    client = signed_in(store(tmp_path, merchant, "http://127.0.0.1:9"))
    page = save(client, "maya.offline@example.com", "").get_data(as_text=True)
    assert "Your details are saved here, but Perennial could not be reached" in page
    assert 'value="maya.offline@example.com"' in page
