"""Incentives as the console manages them: create, edit, schedule, deactivate.

Input is form-shaped (strings as a browser posts them, or plain Python values): ``percent`` is
a percentage such as "12.5", ``amount`` and ``threshold`` are in major units such as "5.00",
``starts_at``/``ends_at`` are aware datetimes or ISO strings; a time without an offset is read
in the merchant's own timezone, which is what a merchant typing a date means. Every change is
an event. Pricing lives in ``app.services.pricing``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.domain import money
from app.extensions import db
from app.integrations import wire
from app.models import Incentive, Merchant, Product
from app.models.incentive import APPLIES_TO, DISCOUNT_KINDS, KINDS, SCOPES, TARGETS
from app.services import events, merchants
from app.services.errors import NotFound, ValidationError

MAX_ORDER_NUMBER = 10_000
MAX_TARGET_PRODUCTS = 1_000
CURRENCY_RE = re.compile(r"[A-Z]{3}")
AMOUNT_KINDS = ("fixed_off", "flat_rate_shipping")
SNAPSHOT_FIELDS = (
    "name",
    "kind",
    "scope",
    "applies_to",
    "percent_bp",
    "amount_minor",
    "currency",
    "threshold_minor",
    "gift_product_id",
    "target",
    "target_group",
    "target_product_ids",
    "min_order_number",
    "max_order_number",
    "starts_at",
    "ends_at",
    "active",
)


def get(merchant_id: int, public_id: str) -> Incentive:
    incentive = db.session.scalar(
        select(Incentive).where(
            Incentive.merchant_id == merchant_id, Incentive.public_id == public_id
        )
    )
    if incentive is None:
        raise NotFound()
    return incentive


def list_for(merchant_id: int) -> list[Incentive]:
    query = select(Incentive).where(Incentive.merchant_id == merchant_id).order_by(Incentive.id)
    return list(db.session.scalars(query))


def create(merchant_id: int, data: Mapping[str, Any], *, actor: events.Actor) -> Incentive:
    """Validate the form and add the incentive; it runs as soon as it is active and in date."""
    merchant = merchants.get(merchant_id)
    defaults = {
        "scope": "item",
        "applies_to": "both",
        "currency": merchant.currency,
        "target": "all",
        "active": True,
    }
    attrs = _validated(merchant, defaults, data, required=("name", "kind"))
    incentive = Incentive(merchant_id=merchant_id, **attrs)
    db.session.add(incentive)
    db.session.flush()
    events.record(
        merchant_id,
        "incentive.create",
        actor,
        object_type="incentive",
        object_id=incentive.public_id,
        after=_snapshot(incentive),
    )
    db.session.commit()
    return incentive


def update(
    merchant_id: int, public_id: str, data: Mapping[str, Any], *, actor: events.Actor
) -> Incentive:
    """Change the fields given in ``data`` (the others stay) and record what changed."""
    incentive = get(merchant_id, public_id)
    merchant = merchants.get(merchant_id)
    before = _snapshot(incentive)
    attrs = _validated(merchant, {k: getattr(incentive, k) for k in SNAPSHOT_FIELDS}, data)
    for key, value in attrs.items():
        setattr(incentive, key, value)
    old, new = events.diff(before, _snapshot(incentive))
    if new:
        events.record(
            merchant_id,
            "incentive.update",
            actor,
            object_type="incentive",
            object_id=public_id,
            before=old,
            after=new,
        )
    db.session.commit()
    return incentive


def deactivate(merchant_id: int, public_id: str, *, actor: events.Actor) -> Incentive:
    """Switch the incentive off at once; orders priced from now on no longer get it."""
    return _set_active(merchant_id, public_id, False, actor)


def activate(merchant_id: int, public_id: str, *, actor: events.Actor) -> Incentive:
    return _set_active(merchant_id, public_id, True, actor)


def _set_active(merchant_id: int, public_id: str, active: bool, actor: events.Actor) -> Incentive:
    incentive = get(merchant_id, public_id)
    if incentive.active != active:
        incentive.active = active
        events.record(
            merchant_id,
            "incentive.activate" if active else "incentive.deactivate",
            actor,
            object_type="incentive",
            object_id=public_id,
            before={"active": not active},
            after={"active": active},
        )
        db.session.commit()
    return incentive


def _snapshot(incentive: Incentive) -> dict[str, Any]:
    """The incentive's settings as JSON values, for the event log."""
    values = {k: getattr(incentive, k) for k in SNAPSHOT_FIELDS}
    for key in ("starts_at", "ends_at"):
        values[key] = values[key].isoformat() if values[key] else None
    values["target_product_ids"] = list(values["target_product_ids"] or []) or None
    return values


def _validated(
    merchant: Merchant,
    current: dict[str, Any],
    data: Mapping[str, Any],
    *,
    required: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Parse the given fields over ``current``, check the whole, or raise ValidationError."""
    errors = {
        key: "This field is required." for key in required if str(data.get(key) or "").strip() == ""
    }
    attrs = dict(current)
    for key, (attr, parse) in _parsers(merchant, data, current).items():
        if key in data and key not in errors:
            try:
                attrs[attr] = parse(data[key])
            except ValueError as exc:
                errors[key] = str(exc)
    if not errors:
        errors = _cross_check(attrs)
    if errors:
        raise ValidationError("Please correct the highlighted fields.", fields=errors)
    return _normalised(attrs)


def _parsers(
    merchant: Merchant, data: Mapping[str, Any], current: dict[str, Any]
) -> dict[str, tuple[str, Callable[[Any], Any]]]:
    currency = str(data.get("currency") or current.get("currency") or merchant.currency).upper()
    tz = ZoneInfo(merchant.timezone)
    return {
        "name": ("name", _name),
        "kind": ("kind", _choice(KINDS)),
        "scope": ("scope", _choice(SCOPES)),
        "applies_to": ("applies_to", _choice(APPLIES_TO)),
        "percent": ("percent_bp", _percent),
        "amount": ("amount_minor", lambda v: _money(v, currency)),
        "currency": ("currency", _currency),
        "threshold": ("threshold_minor", lambda v: _money(v, currency)),
        "gift_product": ("gift_product_id", lambda v: _gift(merchant.id, v)),
        "target": ("target", _choice(TARGETS)),
        "target_group": ("target_group", lambda v: str(v or "").strip()[:200] or None),
        "target_products": ("target_product_ids", lambda v: _products(merchant.id, v)),
        "min_order": ("min_order_number", _order_number),
        "max_order": ("max_order_number", _order_number),
        "starts_at": ("starts_at", lambda v: _moment(v, tz)),
        "ends_at": ("ends_at", lambda v: _moment(v, tz)),
        "active": ("active", _flag),
    }


def _cross_check(a: dict[str, Any]) -> dict[str, str]:
    """Rules between fields: what each kind needs, tiers and the schedule make sense."""
    errors: dict[str, str] = {}
    needs = {
        "percent_off": ("percent", "percent_bp"),
        "fixed_off": ("amount", "amount_minor"),
        "flat_rate_shipping": ("amount", "amount_minor"),
        "gift": ("gift_product", "gift_product_id"),
    }
    if a["kind"] in needs and a.get(needs[a["kind"]][1]) is None:
        errors[needs[a["kind"]][0]] = "This kind of incentive needs this field."
    elif a["kind"] == "fixed_off" and a.get("amount_minor") == 0:
        errors["amount"] = "An amount above zero."
    if a["target"] == "group" and not a.get("target_group"):
        errors["target_group"] = "Name the incentive group the products belong to."
    if a["target"] == "products" and not a.get("target_product_ids"):
        errors["target_products"] = "List at least one product id."
    low, high = a.get("min_order_number"), a.get("max_order_number")
    if low and high and high < low:
        errors["max_order"] = "The last order must not come before the first."
    if a["applies_to"] == "initial" and (low or 1) > 1:
        errors["min_order"] = "The initial order is order 1; choose ongoing or both."
    if a["applies_to"] == "ongoing" and high == 1:
        errors["max_order"] = "Recurring orders start at order 2; choose initial or both."
    if a.get("starts_at") and a.get("ends_at") and a["ends_at"] <= a["starts_at"]:
        errors["ends_at"] = "The end must come after the start."
    return errors


def _normalised(a: dict[str, Any]) -> dict[str, Any]:
    """Clear the fields the kind and target do not use, so stale values never price."""
    kind, target = a["kind"], a["target"]
    return {
        **a,
        "scope": a["scope"] if kind in DISCOUNT_KINDS else "order",
        "percent_bp": a.get("percent_bp") if kind == "percent_off" else None,
        "amount_minor": a.get("amount_minor") if kind in AMOUNT_KINDS else None,
        "gift_product_id": a.get("gift_product_id") if kind == "gift" else None,
        "target_group": a.get("target_group") if target == "group" else None,
        "target_product_ids": a.get("target_product_ids") if target == "products" else None,
    }


def _name(value: Any) -> str:
    name = str(value or "").strip()
    if not name:
        raise ValueError("This field is required.")
    if len(name) > 200:
        raise ValueError("At most 200 characters.")
    return name


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError(f"Choose one of: {', '.join(options)}.")
        return value

    return parse


def _decimal(value: Any, places: int) -> Decimal | None:
    text = str(value if value is not None else "").strip()
    if text == "":
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError("Enter a number such as 10 or 12.50.") from None
    if not number.is_finite() or number < 0:
        raise ValueError("Enter a number of zero or more.")
    if number.as_tuple().exponent < -places:
        raise ValueError(f"At most {places} decimal places.")
    return number


def _percent(value: Any) -> int | None:
    number = _decimal(value, 2)
    if number is not None and not 0 < number <= 100:
        raise ValueError("A percentage above 0 and at most 100.")
    return None if number is None else int(number * 100)


def _money(value: Any, currency: str) -> int | None:
    number = _decimal(value, money.digits(currency))
    if number is not None and number > Decimal("99999999.99"):
        raise ValueError("That amount is too large.")
    return None if number is None else money.to_minor(number, currency)


def _currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    if not CURRENCY_RE.fullmatch(code):
        raise ValueError("A three-letter currency code such as USD.")
    return code


def _order_number(value: Any) -> int | None:
    text = str(value if value is not None else "").strip()
    if text == "":
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_ORDER_NUMBER:
        raise ValueError(f"An order number from 1 to {MAX_ORDER_NUMBER}.")
    return int(text)


def _moment(value: Any, tz: ZoneInfo) -> datetime | None:
    if value in (None, ""):
        return None
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    try:
        return wire.parse_datetime(text, default_tz=tz, label="That date")
    except wire.WireError as exc:
        raise ValueError(str(exc)) from None


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("on", "1", "true", "yes")


def _gift(merchant_id: int, value: Any) -> int | None:
    wanted = str(value or "").strip()
    if not wanted:
        return None
    pk = db.session.scalar(
        select(Product.id).where(Product.merchant_id == merchant_id, Product.product_id == wanted)
    )
    if pk is None:
        raise ValueError(f"No product {wanted!r} in your catalog.")
    return pk


def _products(merchant_id: int, value: Any) -> list[str] | None:
    items = value if isinstance(value, list | tuple) else str(value or "").replace(",", " ").split()
    wanted = list(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
    if not wanted:
        return None
    if len(wanted) > MAX_TARGET_PRODUCTS:
        raise ValueError(f"At most {MAX_TARGET_PRODUCTS} products; use a product group for more.")
    found = set(
        db.session.scalars(
            select(Product.product_id).where(
                Product.merchant_id == merchant_id, Product.product_id.in_(wanted)
            )
        )
    )
    missing = [pid for pid in wanted if pid not in found]
    if missing:
        raise ValueError(f"Not in your catalog: {', '.join(missing[:5])}.")
    return wanted
