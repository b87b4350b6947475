"""Console login throttling: per address, per account, and the recognised-device exemption.

Real Redis, real Flask-Limiter; addresses are set per request as ProxyFix would set them.
"""

import base64
import math
import re
import subprocess
import sys
from pathlib import Path

from itsdangerous import URLSafeTimedSerializer
from limits import parse_many

from app.views.console import throttle
from tests.factories import PASSWORD, csrf_token, make_staff

ROOT = Path(__file__).resolve().parents[2]
SPRAYED = "Spring2026!"
WRONG = "wrong-password"


def budget(app, setting: str) -> int:
    """How many refusals the tightest window of a limit setting allows."""
    return min(item.amount for item in parse_many(app.config[setting]))


def attempt(client, email: str, password: str = WRONG, address: str = "192.0.2.1"):
    """One login attempt from ``address``, with a CSRF token read from the form."""
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/console/login", data=data, environ_base={"REMOTE_ADDR": address})


def exhaust_account(app, client, email: str) -> None:
    """Refused attempts on ``email`` from as many addresses, until its own limit is reached."""
    for n in range(budget(app, "LOGIN_LIMIT_PER_ACCOUNT")):
        assert attempt(client, email, address=f"203.0.113.{n + 1}").status_code == 401


def throttle_message(response) -> str:
    match = re.search(
        r"Too many failed attempts\. Try again in \d+ minutes?\.", response.get_data(as_text=True)
    )
    assert match, response.get_data(as_text=True)
    return match.group(0)


def test_spraying_one_password_over_many_accounts_is_throttled_per_address(app, client):
    emails = [make_staff().email for _ in range(3)] + [f"guess{n}@example.com" for n in range(20)]
    allowed = budget(app, "LOGIN_LIMIT_PER_ADDRESS")
    for email in emails[:allowed]:
        assert attempt(client, email, SPRAYED).status_code == 401
    blocked = attempt(client, emails[allowed], SPRAYED)
    assert blocked.status_code == 429
    retry_after = int(blocked.headers["Retry-After"])
    assert 0 < retry_after <= 60
    assert f"Try again in {math.ceil(retry_after / 60)} minute" in throttle_message(blocked)
    assert attempt(client, emails[allowed], SPRAYED, address="192.0.2.2").status_code == 401


def test_ipv6_clients_are_counted_by_their_64(app, client):
    staff = make_staff()
    for n in range(budget(app, "LOGIN_LIMIT_PER_ADDRESS")):
        response = attempt(client, f"guess{n}@example.com", address=f"2001:db8::{n + 1}")
        assert response.status_code == 401
    assert attempt(client, staff.email, address="2001:db8::ffff").status_code == 429
    assert attempt(client, staff.email, address="2001:db8:0:1::1").status_code == 401


def test_attack_on_one_account_spares_the_owners_recognised_browser(app, client):
    owner = make_staff()
    owner_browser = app.test_client()
    assert attempt(owner_browser, owner.email, PASSWORD, address="198.51.100.7").status_code == 302
    exhaust_account(app, client, owner.email)
    stranger = attempt(client, owner.email, PASSWORD, address="203.0.113.200")
    assert stranger.status_code == 429 and int(stranger.headers["Retry-After"]) > 0
    new_browser = app.test_client()
    assert attempt(new_browser, owner.email, PASSWORD, address="198.51.100.7").status_code == 429
    assert attempt(owner_browser, owner.email, PASSWORD, address="198.51.100.7").status_code == 302
    assert owner_browser.get("/console/").status_code == 200


def test_per_address_limit_applies_to_a_recognised_browser_too(app, client):
    user = make_staff()
    assert attempt(client, user.email, PASSWORD).status_code == 302
    for _ in range(budget(app, "LOGIN_LIMIT_PER_ADDRESS")):
        assert attempt(client, user.email).status_code == 401
    assert attempt(client, user.email, PASSWORD).status_code == 429


def test_unknown_emails_are_throttled_exactly_like_known_ones(app, client):
    answers = {}
    for email in (make_staff().email, "nobody@example.com"):
        exhaust_account(app, client, email)
        answers[email] = attempt(client, email, PASSWORD, address="203.0.113.99")
    known, unknown = answers.values()
    assert known.status_code == unknown.status_code == 429
    assert throttle_message(known) == throttle_message(unknown)
    assert "Retry-After" in known.headers and "Retry-After" in unknown.headers


def test_successful_logins_use_up_neither_budget(app, client):
    user = make_staff()
    rounds = max(budget(app, "LOGIN_LIMIT_PER_ADDRESS"), budget(app, "LOGIN_LIMIT_PER_ACCOUNT"))
    for _ in range(rounds + 2):
        assert attempt(app.test_client(), user.email, PASSWORD).status_code == 302
    assert attempt(app.test_client(), user.email).status_code == 401


def test_another_accounts_or_a_forged_device_cookie_does_not_exempt(app, client):
    victim, other = make_staff(), make_staff()
    exhaust_account(app, client, victim.email)
    browser = app.test_client()
    assert attempt(browser, other.email, PASSWORD).status_code == 302
    assert attempt(browser, victim.email, PASSWORD).status_code == 429
    right_digest_wrong_key = URLSafeTimedSerializer("not-our-secret", salt=throttle.DEVICE_SALT)
    forgeries = ["forged", right_digest_wrong_key.dumps(throttle.account_digest(victim.email))]
    for value in forgeries:
        forger = app.test_client()
        forger.set_cookie(throttle.DEVICE_COOKIE, value, path="/console/")
        assert attempt(forger, victim.email, PASSWORD).status_code == 429


def test_device_cookie_is_httponly_lax_and_holds_no_email(client):
    user = make_staff()
    response = attempt(client, user.email, PASSWORD)
    cookie = next(
        c
        for c in response.headers.getlist("Set-Cookie")
        if c.startswith(throttle.DEVICE_COOKIE + "=")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console/" in cookie
    assert "Max-Age=" in cookie
    payload = client.get_cookie(throttle.DEVICE_COOKIE, path="/console/").value.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b"@" not in decoded and user.email.encode() not in decoded


CHILD = """
import sys
from app import create_app
from tests.conftest import make_config
from tests.factories import csrf_token

database_url, email, password, wrong = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
app = create_app(make_config(database_url, REDIS_URL="redis://127.0.0.1:1/0"))


def attempt(client, secret):
    data = {"email": email, "password": secret, "csrf_token": csrf_token(client)}
    return client.post("/console/login", data=data).status_code


owner, stranger = app.test_client(), app.test_client()
codes = [attempt(owner, password)]
codes += [attempt(stranger, "wrong-password") for _ in range(wrong)]
codes += [attempt(owner, password)]
print(*codes)
"""


def test_login_works_and_is_still_throttled_when_the_limiters_redis_is_down(app, database_url):
    """Flask-Limiter keeps one storage per process, so the app with a dead Redis runs in its
    own process rather than rebinding the limiter under the rest of the suite."""
    user = make_staff()
    allowed = budget(app, "LOGIN_LIMIT_PER_ACCOUNT")
    result = subprocess.run(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", CHILD, database_url, user.email, PASSWORD, str(allowed + 1)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    expected = ["302"] + ["401"] * allowed + ["429", "302"]
    assert result.stdout.split() == expected, result.stderr
