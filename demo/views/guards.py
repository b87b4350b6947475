"""Who is logged in, and the decorator that sends everyone else to the login page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import g, redirect, request, session, url_for

from demo import customers


def load_customer() -> None:
    """Put the logged-in customer (or None) on ``g`` for views and templates."""
    user_id = session.get("user_id")
    g.customer = customers.get(user_id) if user_id else None


def login_required(view: Callable):
    """Redirect anonymous visitors to log in, then back to where they were going."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.customer is None:
            return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
        return view(**kwargs)

    return wrapped


def safe_next(target: str | None, default: str) -> str:
    """Return ``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return default
    return target
