"""Merchants and their settings: timezone, placement hour, order endpoint, origins."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from app.extensions import db
from app.integrations import wire
from app.models import Merchant, Offer
from app.models.offer import DEFAULT_LOCATION
from app.services import events
from app.services.errors import NotFound, ValidationError

SETTINGS_FIELDS = ("name", "timezone", "placement_hour", "order_endpoint_url", "allowed_origins")
# Order placement's settings (contracts §6), set in the console's placement settings or with
# ``flask merchant set``.
PLACEMENT_FIELDS = (
    "placement_mode",
    "order_timeout_seconds",
    "endpoint_dedupes",
    "reminder_days",
    "cc_retry_days",
    "cc_retries",
    "generic_retries",
    "connection_retry_days",
    "card_type_names",
)
SETTABLE = (*SETTINGS_FIELDS, *PLACEMENT_FIELDS)
MIN_REMINDER_DAYS = 5
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
    return {f: getattr(merchant, f) for f in (*SETTINGS_FIELDS, *PLACEMENT_FIELDS)}


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
            merchant.id,
            "settings.update",
            actor,
            object_type="merchant",
            object_id=merchant.public_id,
            before=old,
            after=new,
        )
    db.session.commit()
    return merchant


def reveal_hash_key(merchant_id: int, *, actor: events.Actor) -> str:
    """Return the hash key and leave an audit trail of who looked at it."""
    merchant = get(merchant_id)
    events.record(
        merchant.id,
        "settings.hash_key_revealed",
        actor,
        object_type="merchant",
        object_id=merchant.public_id,
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


def _hour(value: Any) -> int | None:
    """The local hour placement starts, or None for "never" (placement switched off)."""
    text = str(value if value is not None else "").strip().lower()
    if text in ("never", "none", "off"):
        return None
    return _bounded(0, 23, "an hour from 0 to 23, or never")(text)


def _bounded(low: int, high: int, what: str) -> Any:
    def parse(value: Any) -> int:
        try:
            return wire.parse_int(str(value).strip(), low=low, high=high)
        except wire.WireError:
            raise ValueError(f"Enter {what}.") from None

    return parse


def _mode(value: Any) -> str:
    text = str(value or "").strip().lower()
    if text not in ("api", "batch"):
        raise ValueError("Choose api (one HTTPS POST per order) or batch (SFTP files).")
    return text


def _yes(value: Any) -> bool:
    text = str(value if value is not None else "").strip().lower()
    if text not in ("1", "0", "true", "false", "yes", "no", "on", "off", ""):
        raise ValueError("Say yes or no.")
    return text in ("1", "true", "yes", "on")


def _card_names(value: Any) -> dict[str, str] | None:
    """Card type names the store's receiver expects, e.g. ``1=VISA 2=MASTERCARD``."""
    if isinstance(value, dict):
        pairs = list(value.items())
    else:
        pairs = [item.partition("=")[::2] for item in str(value or "").replace(",", " ").split()]
    names = {}
    for code, name in pairs:
        code, name = str(code).strip(), str(name).strip()
        if code not in {"1", "2", "3", "4", "5", "6"} or not 1 <= len(name) <= 40:
            raise ValueError("Give pairs such as 1=VISA 2=MASTERCARD (codes 1 to 6).")
        names[code] = name
    return names or None


def check_endpoint(value: Any) -> str | None:
    """An https URL of the merchant's (http only for localhost), or None when empty;
    ValueError says what is wrong (the order endpoint, webhook targets)."""
    text = str(value or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    local = parts.hostname in LOCAL_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValueError("The URL must be an https:// URL (http only for localhost).")
    if not parts.hostname or parts.username or parts.password or len(text) > 500:
        raise ValueError(
            "Enter a full URL without credentials, e.g. https://shop.example/og/orders."
        )
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
            raise ValueError(
                f"{item!r}: give only scheme, host and port, e.g. https://shop.example."
            )
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
    "order_endpoint_url": check_endpoint,
    "allowed_origins": _origins,
    "placement_mode": _mode,
    "order_timeout_seconds": _bounded(1, 120, "a number of seconds from 1 to 120"),
    "endpoint_dedupes": _yes,
    "reminder_days": _bounded(MIN_REMINDER_DAYS, 60, f"{MIN_REMINDER_DAYS} to 60 days"),
    "cc_retry_days": _bounded(1, 30, "1 to 30 days"),
    "cc_retries": _bounded(0, 10, "0 to 10 retries"),
    "generic_retries": _bounded(0, 10, "0 to 10 retries"),
    "connection_retry_days": _bounded(1, 90, "1 to 90 days"),
    "card_type_names": _card_names,
}
