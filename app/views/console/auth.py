"""Staff login, logout, and the decorators that load the signed-in user and merchant."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from app.services import accounts, events, merchants
from app.views.console import throttle

bp = Blueprint("auth", __name__)


def actor() -> events.Actor:
    """The signed-in staff member, as recorded in the event log."""
    return events.Actor("staff", str(g.staff.id), request.remote_addr)


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        user_id = session.get("staff_id")
        user = accounts.get_active(user_id) if user_id else None
        if user is None:
            session.clear()
            return redirect(url_for("console.auth.login", next=request.full_path.rstrip("?")))
        g.staff = user
        g.merchant = merchants.get(user.merchant_id)
        return view(*args, **kwargs)

    return wrapped


def owner_required(view):
    @login_required
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not g.staff.is_owner:
            abort(403, "Only the account owner can do that.")
        return view(*args, **kwargs)

    return wrapped


def _safe_next(target: str | None) -> str:
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return url_for("console.overview.index")
    return target


@bp.get("/login")
def login():
    return render_template("console/auth/login.html", next=request.args.get("next", ""))


@bp.post("/login")
@throttle.per_address
@throttle.per_account
def authenticate():
    email = request.form.get("email", "")
    user = accounts.authenticate(
        email, request.form.get("password", ""), source=request.remote_addr
    )
    if user is None:  # a 401 counts against both limits (throttle.refused)
        flash("Invalid email or password.", "error")
        return render_template("console/auth/login.html", email=email), 401
    session.clear()  # a fresh session (and CSRF token) on every login
    session.permanent = True
    session["staff_id"] = user.id
    return throttle.remember_device(redirect(_safe_next(request.form.get("next"))), email)


@bp.post("/logout")
def logout():
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("console.auth.login"))
