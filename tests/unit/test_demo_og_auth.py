"""The demo store signs its customers in for the subscriber dashboard (contracts §4.1, §4.2):
login sets og_auth, logout deletes it, the auth page renews it, My Subscriptions is tagged."""

from __future__ import annotations

import re
import time

import pytest

from app.integrations import signing
from tests.orderkit import KEY, MERCHANT, make_store

EMAIL, PASSWORD, USER = "maya.okafor@example.com", "demo1234", "DC69410241"


@pytest.fixture
def client(tmp_path):
    return make_store(tmp_path).test_client()


def token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(client):
    return client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token(client)}
    )


def set_cookie(response) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("og_auth=")]
    return header


def test_login_sets_a_fresh_og_auth_signed_with_the_merchants_key(client):
    header = set_cookie(log_in(client))
    value = header.split(";", 1)[0].removeprefix("og_auth=")
    assert signing.verify_og_auth(KEY, value) == USER
    assert "%7C" not in value and value.count("|") == 2  # not URL-encoded
    assert abs(int(value.split("|")[1]) - time.time()) < 5
    attributes = header.lower()
    assert "max-age=7200" in attributes and "path=/" in attributes
    assert "httponly" not in attributes


def test_a_wrong_password_sets_nothing(client):
    response = client.post(
        "/login", data={"email": EMAIL, "password": "nope", "csrf_token": token(client)}
    )
    assert response.status_code == 401
    assert not any(h.startswith("og_auth=") for h in response.headers.getlist("Set-Cookie"))


def test_logout_deletes_it(client):
    log_in(client)
    response = client.post("/logout", data={"csrf_token": token(client, "/account")})
    header = set_cookie(response)
    assert header.startswith("og_auth=;") and "Max-Age=0" in header


def test_the_auth_page_renews_it_only_for_a_logged_in_customer(client):
    anonymous = client.get("/og/auth")
    assert anonymous.status_code == 200
    assert not any(h.startswith("og_auth=") for h in anonymous.headers.getlist("Set-Cookie"))
    log_in(client)
    value = set_cookie(client.get("/og/auth")).split(";", 1)[0].removeprefix("og_auth=")
    assert signing.verify_og_auth(KEY, value) == USER


def test_my_subscriptions_is_tagged_and_needs_a_login(client):
    assert client.get("/account/subscriptions").status_code == 302
    log_in(client)
    page = client.get("/account/subscriptions").get_data(as_text=True)
    assert page.count('<div id="og-msi"></div>') == 1
    assert f'<script src="http://127.0.0.1:5000/{MERCHANT}/msi.js" async></script>' in page
    assert "/account/subscriptions" in client.get("/account").get_data(as_text=True)
