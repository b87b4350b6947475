"""Merchant staff accounts: creation and password login (the console throttles attempts)."""

from __future__ import annotations

import functools

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import StaffUser
from app.models.types import utcnow
from app.services import events
from app.services.errors import ValidationError

MIN_PASSWORD_LENGTH = 10
ROLES = ("owner", "staff")
# Checked against when the email is unknown, so timing does not reveal which emails exist.


@functools.cache
def _dummy_hash() -> str:
    """A hash to check against when there is no account, so a miss costs the same as a hit
    (computed on first use, not when the module is imported)."""
    return generate_password_hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def get_by_email(email: str) -> StaffUser | None:
    query = select(StaffUser).where(func.lower(StaffUser.email) == normalise_email(email))
    return db.session.scalar(query)


def create_staff(
    merchant_id: int, email: str, password: str, *, role: str = "staff", name: str = ""
) -> StaffUser:
    """Create a staff login for the merchant (the caller commits)."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise ValidationError("Enter a valid email address.", fields={"email": "invalid"})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.",
            fields={"password": "too short"},
        )
    if role not in ROLES:
        raise ValidationError("Unknown role.", fields={"role": role})
    if get_by_email(email) is not None:
        raise ValidationError("That email already has a login.", fields={"email": "taken"})
    user = StaffUser(
        merchant_id=merchant_id,
        email=email,
        name=name,
        role=role,
        password_hash=generate_password_hash(password),
    )
    db.session.add(user)
    return user


def authenticate(email: str, password: str, *, source: str | None) -> StaffUser | None:
    """Return the user for good credentials and None for bad ones, recording either."""
    user = get_by_email(email)
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password or "")
        current_app.logger.warning("console login failed for unknown account from %s", source)
        return None
    actor = events.Actor("staff", str(user.id), source)
    if not check_password_hash(user.password_hash, password or ""):
        current_app.logger.warning("console login failed for staff %s from %s", user.id, source)
        events.record(
            user.merchant_id, "staff.login_failed", actor, object_type="staff", object_id=user.id
        )
        db.session.commit()
        return None
    user.last_login_at = utcnow()
    events.record(user.merchant_id, "staff.login", actor, object_type="staff", object_id=user.id)
    db.session.commit()
    return user


def get_active(user_id: int) -> StaffUser | None:
    user = db.session.get(StaffUser, user_id)
    return user if user is not None and user.active else None
