"""Customer accounts of the store (not of the platform)."""

from __future__ import annotations

import re
import sqlite3

from werkzeug.security import check_password_hash, generate_password_hash

from demo.db import get_db

ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "address",
    "address2",
    "city",
    "state_province_code",
    "zip_postal_code",
    "country_code",
    "phone",
)
# checked when the email is unknown, so a miss costs as much time as a wrong password
_DUMMY_HASH = generate_password_hash("not-a-password")


def get(user_id: str) -> sqlite3.Row | None:
    """Return the customer with this store user id, or None."""
    return get_db().execute("SELECT * FROM customer WHERE user_id = ?", (user_id,)).fetchone()


def find_by_email(email: str) -> sqlite3.Row | None:
    """Return the customer with this email (any case), or None."""
    return (
        get_db()
        .execute("SELECT * FROM customer WHERE email = ?", (email.strip().lower(),))
        .fetchone()
    )


def authenticate(email: str, password: str) -> sqlite3.Row | None:
    """Return the customer whose email and password match, or None."""
    row = find_by_email(email)
    if not check_password_hash(row["password_hash"] if row else _DUMMY_HASH, password):
        return None
    return row


def default_address(customer: sqlite3.Row) -> dict[str, str]:
    """Return the customer's saved address, the checkout form's starting point."""
    return {field: customer[field] for field in ADDRESS_FIELDS}


EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def update_contact(user_id: str, email: str, phone: str) -> str | None:
    """Change the customer's email and phone; None when saved, else what is wrong."""
    email, phone = email.strip().lower(), " ".join(phone.split())
    if not EMAIL_RE.fullmatch(email) or len(email) > 254:
        return "Enter an email address such as name@example.com."
    if len(phone) > 32:
        return "A phone number has at most 32 characters."
    other = find_by_email(email)
    if other is not None and other["user_id"] != user_id:
        return "That email belongs to another account."
    db = get_db()
    db.execute(
        "UPDATE customer SET email = ?, phone = ? WHERE user_id = ?", (email, phone, user_id)
    )
    db.commit()
    return None
