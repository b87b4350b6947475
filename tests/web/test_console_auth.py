"""Console login: good, bad, throttled, CSRF missing; pages need a login."""

import math

import pytest
from limits import parse_many

from app.models import Event
from tests.factories import PASSWORD, csrf_token, login, make_staff


def test_login_with_good_credentials_reaches_overview(client):
    user = make_staff()
    response = login(client, user)
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/")
    page = client.get("/console/")
    assert page.status_code == 200
    assert user.email in page.get_data(as_text=True)


def test_login_cookies_are_httponly_and_samesite(client):
    response = login(client, make_staff())
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 2  # the session and the recognised-device cookie
    assert all("HttpOnly" in cookie and "SameSite=Lax" in cookie for cookie in cookies)


def test_email_is_case_insensitive(client):
    user = make_staff(email="Owner@Example.com")
    assert login(client, user).status_code == 302


def test_bad_password_is_refused_without_saying_which_part(client):
    user = make_staff()
    response = login(client, user, password="wrong-password")
    assert response.status_code == 401
    assert "Invalid email or password." in response.get_data(as_text=True)
    assert client.get("/console/").status_code == 302


def test_unknown_email_gets_the_same_answer(client):
    token = csrf_token(client)
    response = client.post(
        "/console/login", data={"email": "nobody@example.com", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Invalid email or password." in response.get_data(as_text=True)


def test_repeated_failures_throttle_the_account_for_a_browser_it_does_not_know(app, client):
    user = make_staff()
    allowed = min(item.amount for item in parse_many(app.config["LOGIN_LIMIT_PER_ACCOUNT"]))
    for _ in range(allowed):
        assert login(client, user, password="wrong-password").status_code == 401
    throttled = login(client, user, password=PASSWORD)
    assert throttled.status_code == 429
    retry_after = int(throttled.headers["Retry-After"])
    minutes = math.ceil(retry_after / 60)
    assert f"Too many failed attempts. Try again in {minutes} minute" in throttled.get_data(
        as_text=True
    )
    assert client.get("/console/").status_code == 302
    types = [e.type for e in Event.query.filter_by(merchant_id=user.merchant_id)]
    assert types.count("staff.login_failed") == allowed and "staff.login" not in types


def test_login_without_csrf_token_is_rejected(client):
    user = make_staff()
    response = client.post("/console/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/console/").status_code == 302


def test_login_with_forged_csrf_token_is_rejected(client):
    user = make_staff()
    csrf_token(client)
    response = client.post(
        "/console/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400


def test_logout_needs_csrf_and_ends_the_session(client):
    user = make_staff()
    login(client, user)
    assert client.post("/console/logout").status_code == 400
    token = csrf_token(client, "/console/")
    assert client.post("/console/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/console/").status_code == 302


@pytest.mark.parametrize("path", ["/console/", "/console/settings", "/console/status"])
def test_pages_require_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/console/login" in response.headers["Location"]


def test_next_parameter_cannot_redirect_off_site(client):
    user = make_staff()
    token = csrf_token(client)
    response = client.post(
        "/console/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/console/",
        },
    )
    assert response.headers["Location"] == "/console/"


def test_next_parameter_returns_to_the_console_page(client):
    user = make_staff()
    token = csrf_token(client)
    response = client.post(
        "/console/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/console/settings",
        },
    )
    assert response.headers["Location"] == "/console/settings"


def test_console_pages_send_protective_headers(client):
    login(client, make_staff())
    response = client.get("/console/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
