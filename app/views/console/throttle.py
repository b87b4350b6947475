"""Console login throttling: limits per client address and per account, counting refusals.

Both limits live in Flask-Limiter (Redis). The per-account one is keyed by the email as typed,
so unknown emails are throttled exactly like real ones. A browser that has logged in to that
account before carries a signed "recognised device" cookie (the OWASP device-cookie pattern)
and is exempt from the per-account limit, so a stranger hammering an owner's email cannot lock
the owner out of their usual browser; the per-address limit still applies to everyone.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time

from flask import Response, current_app, flash, make_response, render_template, request
from flask_limiter import RequestLimit
from itsdangerous import BadData, URLSafeTimedSerializer

from app.extensions import limiter
from app.services import accounts
from app.views.ratelimits import client_network

DEVICE_COOKIE = "perennial_device"
DEVICE_SALT = "perennial.console.device"


def account_key() -> str:
    """The account named in the form, known or not, as a keyed hash (no emails in Redis)."""
    return account_digest(request.form.get("email", ""))


def account_digest(email: str) -> str:
    """HMAC of the normalised email under SECRET_KEY: a limit key and the device cookie's claim."""
    key = current_app.secret_key.encode("utf-8")
    data = b"console-account:" + accounts.normalise_email(email).encode("utf-8")
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=DEVICE_SALT)


def _device_max_age() -> int:
    return current_app.config["LOGIN_DEVICE_COOKIE_DAYS"] * 86400


def recognised_device() -> bool:
    """Whether this browser has logged in before to the account named in the form."""
    token = request.cookies.get(DEVICE_COOKIE)
    if not token:
        return False
    try:
        digest = _devices().loads(token, max_age=_device_max_age())
    except BadData:
        return False
    return isinstance(digest, str) and hmac.compare_digest(digest, account_key())


def remember_device(response: Response, email: str) -> Response:
    """Mark this browser as recognised for the account (after a successful login)."""
    response.set_cookie(
        DEVICE_COOKIE,
        _devices().dumps(account_digest(email)),
        max_age=_device_max_age(),
        path="/console/",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def refused(response: Response) -> bool:
    """Only refused credentials count against the limits, never a successful login."""
    return response.status_code == 401


def too_many_attempts(limit: RequestLimit) -> Response:
    """The login page with the same words whichever limit was hit, so nothing tells whether
    the account exists."""
    seconds = max(1, math.ceil(limit.window[0] - time.time()))
    minutes = math.ceil(seconds / 60)
    flash(
        f"Too many failed attempts. Try again in {minutes} minute{'s' * (minutes != 1)}.", "error"
    )
    page = render_template("console/auth/login.html", email=request.form.get("email", ""))
    response = make_response(page, 429)
    response.headers["Retry-After"] = str(seconds)
    return response


per_address = limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    key_func=client_network,
    scope="address",
    deduct_when=refused,
    on_breach=too_many_attempts,
)
per_account = limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=account_key,
    scope="account",
    exempt_when=recognised_device,
    deduct_when=refused,
    on_breach=too_many_attempts,
)
