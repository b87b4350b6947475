"""CSRF protection for the store's forms: one random token per session, checked on every POST."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, abort, current_app, request, session

SESSION_KEY = "_csrf_token"
FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

F = TypeVar("F", bound=Callable[..., object])


def token() -> str:
    """Return the session's token, creating it on first use (templates call this)."""
    if SESSION_KEY not in session:
        session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def exempt(view: F) -> F:
    """Mark a view that is called server-to-server and authenticates itself (e.g. signatures)."""
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def protect() -> None:
    """Reject unsafe requests whose form token does not match the session's."""
    if request.method not in UNSAFE_METHODS:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "csrf_exempt", False):
        return
    sent = request.form.get(FIELD, "")
    expected = session.get(SESSION_KEY, "")
    if not (sent and expected and hmac.compare_digest(sent, expected)):
        abort(400, description="Your session expired or the form was stale. Please try again.")


def rotate() -> None:
    """Issue a new token, e.g. when the customer logs in."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)


def init_app(app: Flask) -> None:
    app.before_request(protect)
    app.jinja_env.globals["csrf_token"] = token
