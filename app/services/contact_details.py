"""Set Contact Details (contracts §7.1, T9): the store keeps a customer's email and phone in step.

``PATCH /customers/<merchant_user_id>/set_contact_details`` with
``{"email", "phone_number", "merchant", "merchant_user_id"}``. Only the fields sent change
(SFCC's cartridge omits ``phone_number`` when the profile has none). The change is one
``customer.set_contact_details`` event with before and after; the next reminder email and the
next order XML read the customer as it now is.

Decided where the contracts are silent (documented in docs/customer-api.md):

* **Email**: trimmed; one ``@``; a local part of at most 64 characters without spaces or
  control characters; a domain of dot-separated labels (letters, digits, hyphens, or non-ASCII
  letters of an international domain) ending in a top-level label of two or more letters; at
  most 254 characters in all. The domain is stored in lower case, the local part as sent.
* **Phone**: trimmed and inner runs of spaces made one; digits with ``+`` (leading only),
  spaces, ``-``, ``.``, ``(`` and ``)``; 7 to 15 digits (E.164's most). Otherwise kept as sent
  (the store's own formatting is what its staff recognise). ``""``, ``null`` and ``"N/A"``
  (Magento's module sends it when there is none) clear it.
* ``merchant`` and ``merchant_user_id``, when sent, must name the authenticated merchant (else
  403, as for the purchase POST) and the customer of the URL (else 400).
"""

from __future__ import annotations

import re
from typing import Any

from app.extensions import db
from app.models import Customer
from app.services import customers, events
from app.services.errors import PermissionDenied, ValidationError

MAX_EMAIL = 254
MAX_LOCAL = 64
MAX_PHONE = 32
NO_PHONE = ("", "n/a", "na", "none")
LOCAL_RE = re.compile(r"[^\s@\x00-\x1f\x7f]+")
LABEL_RE = re.compile(r"(?!-)(?:[^\W_]|-){1,63}(?<!-)")
TOP_RE = re.compile(r"[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59}")
PHONE_RE = re.compile(r"\+?[0-9 ().-]+")


def set_contact_details(
    merchant_public_id: str,
    customer: Customer,
    body: Any,
    *,
    actor: events.Actor,
) -> Customer:
    """Validate ``body`` and set what it carries; ValidationError with a message per field."""
    if not isinstance(body, dict):
        raise ValidationError(
            "Send a JSON object.", fields={"non_field_errors": "Send a JSON object."}
        )
    named = body.get("merchant")
    if named not in (None, "") and named != merchant_public_id:
        raise PermissionDenied("Authentication Failed")
    errors: dict[str, str] = {}
    user_id = body.get("merchant_user_id")
    if user_id not in (None, "") and str(user_id) != customer.merchant_user_id:
        errors["merchant_user_id"] = "Does not match the customer in the URL."
    given: dict[str, str | None] = {}
    if "email" in body:
        try:
            given["email"] = email(body["email"])
        except ValueError as exc:
            errors["email"] = str(exc)
    if "phone_number" in body:
        try:
            given["phone_number"] = phone(body["phone_number"])
        except ValueError as exc:
            errors["phone_number"] = str(exc)
    if errors:
        raise ValidationError("Please correct the fields.", fields=errors)
    customers.change(customer, given, "customer.set_contact_details", actor)
    db.session.commit()
    return customer


def email(value: Any) -> str:
    """The address as stored (ValueError with what is wrong)."""
    if value is None or value == "":
        raise ValueError("This field may not be blank.")
    if not isinstance(value, str):
        raise ValueError("Enter a valid email address.")
    text = value.strip()
    if len(text) > MAX_EMAIL:
        raise ValueError(f"Ensure this field has no more than {MAX_EMAIL} characters.")
    local, at, domain = text.rpartition("@")
    labels = domain.split(".")
    if (
        not at
        or len(local) > MAX_LOCAL
        or not LOCAL_RE.fullmatch(local)
        or len(labels) < 2
        or not all(LABEL_RE.fullmatch(label) for label in labels)
        or not TOP_RE.fullmatch(labels[-1].lower())
    ):
        raise ValueError("Enter a valid email address.")
    return f"{local}@{domain.lower()}"


def phone(value: Any) -> str | None:
    """The number as stored, or None to clear it (ValueError with what is wrong)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("Enter a valid phone number.")
    text = " ".join(value.split())
    if text.lower() in NO_PHONE:
        return None
    digits = sum(c.isdigit() for c in text)
    if len(text) > MAX_PHONE or not PHONE_RE.fullmatch(text) or not 7 <= digits <= 15:
        raise ValueError("Enter a valid phone number: 7 to 15 digits, with + - . ( ) or spaces.")
    return text
