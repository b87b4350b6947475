"""Merchants and their settings: timezone, placement hour, order endpoint, origins."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from app.extensions import db
from app.models import Merchant, Offer
from app.models.offer import DEFAULT_LOCATION
from app.services import events
from app.services.errors import NotFound, ValidationError

SETTINGS_FIELDS = ("name", "timezone", "placement_hour", "order_endpoint_url", "allowed_origins")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
PUBLIC_ID_RE = re.compile(r"[0-9a-f]{32}")


def get(merchant_id: int) -> Merchant:
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound()
    return merchant


def get_by_public_id(public_id: str) -> Merchant | None:
    if not PUBLIC_ID_RE.fullmatch(public_id or ""):
        return None
    return db.session.scalar(db.select(Merchant).where(Merchant.public_id == public_id))


def create(name: str, *, timezone: str = "UTC", currency: str = "USD") -> Merchant:
    """Create a merchant with a fresh public id and hash key, and its default offer (every
    merchant has one; storefront reads never create it). The caller commits."""
    merchant = Merchant(
        name=_name(name), timezone=_timezone(timezone), currency=currency, allowed_origins=[]
    )
    db.session.add(merchant)
    db.session.flush()
    db.session.add(Offer(merchant_id=merchant.id, location=DEFAULT_LOCATION))
    db.session.flush()
    return merchant


def snapshot(merchant: Merchant) -> dict[str, Any]:
    """The settings as plain values (for forms and the event log; no secrets)."""
    return {f: getattr(merchant, f) for f in SETTINGS_FIELDS}


def update_settings(merchant_id: int, form: dict[str, Any], *, actor: events.Actor) -> Merchant:
    """Validate and save the settings form; record what changed."""
    merchant = get(merchant_id)
    clean, errors = {}, {}
    for field, check in _CHECKS.items():
        if field not in form:
            continue
        try:
            clean[field] = check(form[field])
        except ValueError as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationError("Please correct the highlighted fields.", fields=errors)
    before = snapshot(merchant)
    for field, value in clean.items():
        setattr(merchant, field, value)
    old, new = events.diff(before, snapshot(merchant))
    if new:
        events.record(
            merchant.id, "settings.update", actor,
            object_type="merchant", object_id=merchant.public_id, before=old, after=new,
        )
    db.session.commit()
    return merchant


def reveal_hash_key(merchant_id: int, *, actor: events.Actor) -> str:
    """Return the hash key and leave an audit trail of who looked at it."""
    merchant = get(merchant_id)
    events.record(
        merchant.id, "settings.hash_key_revealed", actor,
        object_type="merchant", object_id=merchant.public_id,
    )
    db.session.commit()
    return merchant.hash_key


def origin_allowed(merchant: Merchant, origin: str | None) -> bool:
    return bool(origin) and origin.rstrip("/").lower() in (merchant.allowed_origins or [])


def _name(value: Any) -> str:
    text = str(value or "").strip()
    if not 1 <= len(text) <= 200:
        raise ValueError("Enter a name of 1 to 200 characters.")
    return text


def _timezone(value: Any) -> str:
    text = str(value or "").strip()
    if text not in available_timezones():
        raise ValueError(f"Unknown timezone {text!r}; use an IANA name such as America/New_York.")
    try:
        ZoneInfo(text)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - listed zones always load
        raise ValueError("Unknown timezone.") from exc
    return text


def _hour(value: Any) -> int:
    try:
        hour = int(str(value).strip())
    except ValueError as exc:
        raise ValueError("Enter an hour from 0 to 23.") from exc
    if not 0 <= hour <= 23:
        raise ValueError("Enter an hour from 0 to 23.")
    return hour


def _endpoint(value: Any) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    local = parts.hostname in LOCAL_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValueError("The order endpoint must be an https:// URL (http only for localhost).")
    if not parts.hostname or parts.username or parts.password or len(text) > 500:
        raise ValueError("Enter a full URL without credentials, e.g. https://shop.example/og/orders.")
    return text


def _origins(value: Any) -> list[str]:
    items = value if isinstance(value, list) else re.split(r"[\s,]+", str(value or ""))
    origins: list[str] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        parts = urlsplit(item)
        local = parts.hostname in LOCAL_HOSTS
        if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not local):
            raise ValueError(
                f"{item!r}: origins are https://host[:port] (http only for localhost)."
            )
        if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.username:
            raise ValueError(f"{item!r}: give only scheme, host and port, e.g. https://shop.example.")
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        if origin not in origins:
            origins.append(origin)
    if len(origins) > 20:
        raise ValueError("At most 20 origins.")
    return origins


_CHECKS = {
    "name": _name,
    "timezone": _timezone,
    "placement_hour": _hour,
    "order_endpoint_url": _endpoint,
    "allowed_origins": _origins,
}
