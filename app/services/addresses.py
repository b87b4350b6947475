"""A customer's addresses: a subscriber or the store adds one (contracts §4.3
``POST /addresses/create/``) or changes one (``PATCH /addresses/<id>/update/``), and may ship one
subscription or all of them there at once.

``create`` (and ``update``, for the fields it is given) checks every field and names each bad
one (ValidationError with ``fields``); the text is trimmed and its spacing collapsed, the
country code upper-cased. An address identical to one the customer already has (the checkout's
fingerprint: case and spacing ignored) is that address, not a twin; a new one records
``address.create``, a change ``address.update``. ``ship_to_new`` creates the address and
applies it in one transaction: refused anywhere, nothing is written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from app.domain.countries import is_country
from app.extensions import db
from app.models import Address, Customer
from app.services import customers, events, shipping_payment
from app.services import subscriber_scope as scope
from app.services.errors import Conflict, DomainError, NotFound, ValidationError

# field: (label, longest); the first six are required.
FIELDS = {
    "first_name": ("first name", 100),
    "last_name": ("last name", 100),
    "address": ("address", 200),
    "city": ("city", 100),
    "zip_postal_code": ("ZIP or postal code", 20),
    "country_code": ("country", 2),
    "address2": ("apartment, suite, etc.", 200),
    "state_province_code": ("state or province", 50),
    "phone": ("phone", 30),
}
REQUIRED = ("first_name", "last_name", "address", "city", "zip_postal_code", "country_code")
POSTAL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 -]*[A-Za-z0-9])?")
PHONE_RE = re.compile(r"\+?[0-9 ()./-]+(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?", re.IGNORECASE)


def create(
    merchant_id: int,
    customer_id: int,
    fields: Mapping[str, Any],
    *,
    actor: events.Actor,
    commit: bool = True,
) -> Address:
    """The customer's address with these fields: an identical live one, or a new one.

    With ``commit=False`` the new row is only flushed, for a caller that commits it together
    with what it does next (and rolls back if that is refused)."""
    values = clean(fields)
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.merchant_id != merchant_id:
        raise NotFound()
    row = {key: values.get(key) for key in customers.ADDRESS_FIELDS}
    digest = customers.fingerprint(row)
    address = db.session.scalar(
        select(Address)
        .where(
            Address.merchant_id == merchant_id,
            Address.customer_id == customer_id,
            Address.fingerprint == digest,
            Address.live.is_(True),
        )
        .order_by(Address.id)
        .limit(1)
    )
    if address is None:
        address = Address(
            merchant_id=merchant_id, customer_id=customer_id, fingerprint=digest, **row
        )
        db.session.add(address)
        db.session.flush()
        events.record(
            merchant_id,
            "address.create",
            actor,
            object_type="address",
            object_id=address.public_id,
            customer_id=customer_id,
            after={k: v for k, v in row.items() if v},
        )
    if commit:
        db.session.commit()
    return address


def update(
    merchant_id: int,
    customer_id: int | None,
    public_id: Any,
    fields: Mapping[str, Any],
    *,
    actor: events.Actor,
) -> Address:
    """Change the fields given of one of the customer's live addresses (the others kept);
    every field checked as at ``create``. Conflict when it would become identical to another
    of the customer's addresses (use that one instead)."""
    address = scope.address(merchant_id, customer_id, public_id)
    before = {key: getattr(address, key) for key in customers.ADDRESS_FIELDS}
    merged = {key: fields[key] if key in fields else before.get(key) for key in FIELDS}
    values = clean(merged)
    row = {key: values.get(key) for key in customers.ADDRESS_FIELDS}
    digest = customers.fingerprint(row)
    twin = db.session.scalar(
        select(Address.public_id).where(
            Address.customer_id == address.customer_id,
            Address.fingerprint == digest,
            Address.live.is_(True),
            Address.id != address.id,
        )
    )
    if twin is not None:
        raise Conflict(f"The customer has that address already: {twin}.")
    for key, value in row.items():
        setattr(address, key, value)
    address.fingerprint = digest
    old, new = events.diff(before, row)
    if new or old:
        events.record(
            merchant_id,
            "address.update",
            actor,
            object_type="address",
            object_id=address.public_id,
            customer_id=address.customer_id,
            before=old,
            after=new,
        )
    db.session.commit()
    return address


def ship_to_new(
    merchant_id: int,
    customer_id: int,
    fields: Mapping[str, Any],
    *,
    subscription: str | None,
    for_all: bool,
    actor: events.Actor,
) -> Address:
    """Add the address and ship the subscription (or, ``for_all``, all the customer's live
    ones) there: one commit, or nothing at all when any part is refused."""
    values = clean(fields)  # the fields' errors before any other refusal
    if not for_all:
        scope.live(scope.subscription(merchant_id, customer_id, subscription))
    try:
        address = create(merchant_id, customer_id, values, actor=actor, commit=False)
        if for_all:
            shipping_payment.use_address_for_all(
                merchant_id, customer_id, address.public_id, actor=actor
            )
        else:
            shipping_payment.change_subscription_shipping(
                merchant_id, customer_id, subscription, address.public_id, actor=actor
            )
        db.session.commit()  # the address alone when the subscription already shipped there
    except DomainError:
        db.session.rollback()
        raise
    return address


def clean(fields: Mapping[str, Any]) -> dict[str, str | None]:
    """Every field of ``FIELDS`` checked and tidied; ValidationError naming each bad one."""
    values: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for key, (_label, longest) in FIELDS.items():
        raw = fields.get(key)
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            errors[key] = "Must be text"
            continue
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in raw):
            errors[key] = "Must not contain control characters"
            continue
        text = " ".join(raw.split())
        values[key] = text or None
        if not text:
            if key in REQUIRED:
                errors[key] = "Required"
        elif len(text) > longest:
            errors[key] = f"At most {longest} characters"
    _check(values, errors)
    if errors:
        named = ", ".join(FIELDS[key][0] for key in FIELDS if key in errors)
        raise ValidationError(f"Please check the address: {named}.", fields=errors)
    return values


def _check(values: dict[str, str | None], errors: dict[str, str]) -> None:
    """The fields with a shape of their own (country code, postal code, phone)."""
    country = values.get("country_code")
    if country and "country_code" not in errors:
        values["country_code"] = country = country.upper()
        if not is_country(country):
            errors["country_code"] = "A two-letter country code, such as US"
    postal = values.get("zip_postal_code")
    if postal and "zip_postal_code" not in errors and not POSTAL_RE.fullmatch(postal):
        errors["zip_postal_code"] = "Letters, digits, spaces and hyphens only"
    phone = values.get("phone")
    if phone and "phone" not in errors:
        digits = sum(ch.isascii() and ch.isdigit() for ch in phone)
        if not PHONE_RE.fullmatch(phone) or not 5 <= digits <= 20:
            errors["phone"] = "A phone number: digits, spaces and + ( ) - ."
