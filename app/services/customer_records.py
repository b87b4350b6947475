"""Customers over REST (contracts §7.3): ``GET /customers/``, ``POST /customers/create/`` and
``PATCH /customers/<merchant_user_id>/update``.

``create`` takes ``merchant_user_id`` (required, unique per merchant), ``email``,
``phone_number`` (checked as Set Contact Details checks them), ``first_name``, ``last_name``,
``extra_data``, ``locale`` and ``price_code``; ``update`` takes ``extra_data``, ``locale`` and
``price_code``, the fields the contract lists (email and phone change through Set Contact
Details). Decided where the contracts are silent (docs/customer-api.md):

* ``extra_data``: a JSON object, or a string holding one (the contract's form), at most 4,000
  characters as JSON; it replaces the stored one whole.
* ``locale``: a language tag such as ``en-us`` or ``fr_CA``, stored in lower case with ``-``.
* ``price_code``: the store's own, at most 64 characters, kept as sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.integrations import wire
from app.models import Customer
from app.services import contact_details, customers, events, pagination
from app.services.errors import ValidationError

LOCALE_RE = re.compile(r"[a-z]{2,3}(?:[-_][a-z0-9]{2,8}){0,3}", re.IGNORECASE)
MAX_EXTRA = 4000
NAME_LIMIT = 200
USER_ID_LIMIT = 200


def page(
    merchant_id: int,
    *,
    customer_id: int | None,
    request: pagination.PageRequest,
    updated_start: datetime | None = None,
    updated_end: datetime | None = None,
) -> pagination.Page[Customer]:
    """The merchant's customers (only ``customer_id``'s in the Storefront scope), oldest first."""
    query = select(Customer).where(Customer.merchant_id == merchant_id)
    if customer_id is not None:
        query = query.where(Customer.id == customer_id)
    if updated_start is not None:
        query = query.where(Customer.updated_at >= updated_start)
    if updated_end is not None:
        query = query.where(Customer.updated_at <= updated_end)
    return pagination.paginate(
        query, Customer.id, scope=f"customers:{merchant_id}", request=request
    )


def create(merchant_id: int, body: Mapping[str, Any], *, actor: events.Actor) -> Customer:
    errors: dict[str, str] = {}
    user_id = _text(body, "merchant_user_id", USER_ID_LIMIT, errors, required=True)
    values: dict[str, Any] = {
        "first_name": _text(body, "first_name", NAME_LIMIT, errors),
        "last_name": _text(body, "last_name", NAME_LIMIT, errors),
    }
    for key, check in (("email", contact_details.email), ("phone_number", contact_details.phone)):
        if body.get(key) not in (None, ""):
            try:
                values[key] = check(body[key])
            except ValueError as exc:
                errors[key] = str(exc)
    values.update(_settings(body, errors))
    if user_id and db.session.scalar(
        select(Customer.id).where(
            Customer.merchant_id == merchant_id, Customer.merchant_user_id == user_id
        )
    ):
        errors["merchant_user_id"] = "A customer with this merchant_user_id exists already."
    if errors:
        raise ValidationError("Please correct the fields.", fields=errors)
    values = {k: v for k, v in values.items() if v is not None}
    customer = customers.add(merchant_id, user_id, values, actor=actor)
    db.session.commit()
    return customer


def update(customer: Customer, body: Mapping[str, Any], *, actor: events.Actor) -> Customer:
    errors: dict[str, str] = {}
    values = _settings(body, errors)
    if errors:
        raise ValidationError("Please correct the fields.", fields=errors)
    customers.change(customer, values, "customer.update", actor)
    db.session.commit()
    return customer


def _settings(body: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """``extra_data``, ``locale`` and ``price_code``, those given (None clears)."""
    values: dict[str, Any] = {}
    if "extra_data" in body:
        values["extra_data"] = _extra(body["extra_data"], errors)
    if "locale" in body:
        locale = body["locale"]
        if locale in (None, ""):
            values["locale"] = None
        elif isinstance(locale, str) and len(locale) <= 16 and LOCALE_RE.fullmatch(locale):
            values["locale"] = locale.lower().replace("_", "-")
        else:
            errors["locale"] = "A language tag such as en-us."
    if "price_code" in body:
        values["price_code"] = _text(body, "price_code", 64, errors)
    return values


def _extra(value: Any, errors: dict[str, str]) -> dict:
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = wire.loads(value, max_depth=4, label="extra_data")
        except wire.WireError as exc:
            errors["extra_data"] = str(exc)
            return {}
    if not isinstance(value, dict):
        errors["extra_data"] = "A JSON object, or a string holding one."
        return {}
    if len(json.dumps(value)) > MAX_EXTRA:
        errors["extra_data"] = f"At most {MAX_EXTRA} characters as JSON."
        return {}
    return value


def _text(
    body: Mapping[str, Any], key: str, limit: int, errors: dict[str, str], *, required=False
) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            errors[key] = "This field is required."
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        errors[key] = "Must be text."
        return None
    value = value.strip()
    if len(value) > limit:
        errors[key] = f"Ensure this field has no more than {limit} characters."
        return None
    return value
