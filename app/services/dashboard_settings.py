"""What the Subscription Manager offers subscribers, and where the store's auth page is.

The one place that knows the defaults and the rules of ``Merchant.dashboard_settings``,
``Merchant.auth_page_url`` and ``Merchant.upsell_locations``: the console saves them here and
the embedded dashboard reads them through ``settings_for``. The cancel reasons are
``cancel_reasons``'.

Decided where the contracts are silent: quantities default to 1 to 6; pause, skip and swap are
offered unless switched off; there is no save offer until the merchant picks one; instant
upsell is off everywhere until switched on per location.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.domain.frequency import PERIODS, Frequency
from app.extensions import db
from app.models import Merchant
from app.services import events, merchants, offers
from app.services.errors import ValidationError
from app.services.subscriber_scope import MAX_QUANTITY

DEFAULT_QUANTITIES = (1, 2, 3, 4, 5, 6)
MAX_QUANTITY_CHOICES = 20
MAX_UPSELL_LOCATIONS = 20
MAX_URL_LENGTH = 500
SAVE_OFFER_KINDS = ("skip", "frequency", "discount")
MAX_SAVE_PERCENT = 90  # a discount to stay: whole percent, 1 to 90
MAX_SAVE_ORDERS = 12  # on the next 1 to 12 orders
FLAGS = ("pause", "skip", "swap")
MAX_TEXT = 200  # a save offer's own wording


@dataclass(frozen=True)
class DashboardSettings:
    """What the dashboard offers; ``save_offer`` is None or one of ``{"kind": "skip"}``,
    ``{"kind": "frequency", "every": n, "every_period": p}`` or
    ``{"kind": "discount", "percent": n, "orders": m}`` (n % off the next m orders)."""

    quantities: tuple[int, ...] = DEFAULT_QUANTITIES
    pause: bool = True
    skip: bool = True
    swap: bool = True
    save_offer: dict[str, Any] | None = None
    auth_page_url: str | None = None
    upsell_locations: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        """``Merchant.dashboard_settings`` as stored."""
        return {
            "quantities": list(self.quantities),
            "pause": self.pause,
            "skip": self.skip,
            "swap": self.swap,
            "save_offer": self.save_offer,
        }


def settings_for(merchant: Merchant | int) -> DashboardSettings:
    """The merchant's settings, defaults filled in (reading never writes)."""
    if not isinstance(merchant, Merchant):
        merchant = merchants.get(merchant)
    stored = merchant.dashboard_settings or {}
    defaults = DashboardSettings()
    return DashboardSettings(
        quantities=tuple(stored.get("quantities") or defaults.quantities),
        pause=bool(stored.get("pause", defaults.pause)),
        skip=bool(stored.get("skip", defaults.skip)),
        swap=bool(stored.get("swap", defaults.swap)),
        save_offer=stored.get("save_offer"),
        auth_page_url=merchant.auth_page_url,
        upsell_locations=tuple(merchant.upsell_locations or ()),
    )


def save(merchant_id: int, form: Mapping[str, Any], *, actor: events.Actor) -> DashboardSettings:
    """Validate the console's form and save it with one ``settings.update`` event.

    ``form``: ``quantities`` ("1, 2, 3"), ``pause``/``skip``/``swap`` (present and not "" or
    "off": on), ``save_offer`` ("", "skip", "frequency", "discount") with ``every`` and
    ``every_period``, or ``percent`` and ``orders``), ``auth_page_url``, ``upsell_locations``
    (a list).
    """
    merchant = merchants.get(merchant_id)
    errors: dict[str, str] = {}
    quantities = _quantities(form.get("quantities"), errors)
    save_offer = _save_offer(merchant_id, form, errors)
    url = _url(form.get("auth_page_url"), errors)
    locations = _locations(form.get("upsell_locations"), errors)
    if errors:
        raise ValidationError("Please correct the highlighted fields.", fields=errors)
    chosen = DashboardSettings(
        quantities=quantities,
        **{flag: _on(form.get(flag)) for flag in FLAGS},
        save_offer=save_offer,
        auth_page_url=url,
        upsell_locations=locations,
    )
    before = _stored(merchant)
    merchant.dashboard_settings = chosen.as_dict()
    merchant.auth_page_url = url
    merchant.upsell_locations = list(locations)
    after = _stored(merchant)
    if after != before:
        old, new = events.diff(before, after)
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
    return chosen


def _stored(merchant: Merchant) -> dict[str, Any]:
    return {
        "dashboard_settings": merchant.dashboard_settings,
        "auth_page_url": merchant.auth_page_url,
        "upsell_locations": merchant.upsell_locations,
    }


def _on(value: Any) -> bool:
    return value not in (None, "", "off", "0", "false", False)


def _digits(text: str, most: int) -> bool:
    """ASCII digits only (``"²".isdigit()`` is true), at most ``most`` of them."""
    return text.isascii() and text.isdigit() and len(text) <= most


def _quantities(value: Any, errors: dict[str, str]) -> tuple[int, ...]:
    parts = [p for p in str(value or "").replace(",", " ").split() if p]
    if not parts:
        errors["quantities"] = "Give at least one quantity, such as 1, 2, 3."
        return ()
    if len(parts) > MAX_QUANTITY_CHOICES:
        errors["quantities"] = f"At most {MAX_QUANTITY_CHOICES} quantities."
        return ()
    bad = [p for p in parts if not _digits(p, 2) or not 1 <= int(p) <= MAX_QUANTITY]
    if bad:
        errors["quantities"] = (
            f"“{bad[0][:10]}” is not a whole number from 1 to {MAX_QUANTITY}; separate them "
            "with commas."
        )
        return ()
    return tuple(sorted({int(p) for p in parts}))


def _save_offer(
    merchant_id: int, form: Mapping[str, Any], errors: dict[str, str]
) -> dict[str, Any] | None:
    kind = form.get("save_offer") or ""
    if kind == "":
        return None
    if kind not in SAVE_OFFER_KINDS:
        errors["save_offer"] = "Choose no save offer, skip, a frequency or a discount."
        return None
    if kind == "skip":
        return {"kind": "skip"}
    if kind == "discount":
        return _discount_offer(form.get("percent"), form.get("orders"), errors)
    return _frequency_offer(form.get("every"), form.get("every_period"), errors)


def _discount_offer(percent: Any, orders: Any, errors: dict[str, str]) -> dict[str, Any] | None:
    percent_text, orders_text = str(percent or "").strip(), str(orders or "").strip()
    if not _digits(percent_text, 2) or not 1 <= int(percent_text) <= MAX_SAVE_PERCENT:
        errors["percent"] = f"A whole percent from 1 to {MAX_SAVE_PERCENT}."
    if not _digits(orders_text, 2) or not 1 <= int(orders_text) <= MAX_SAVE_ORDERS:
        errors["orders"] = f"A number of orders from 1 to {MAX_SAVE_ORDERS}."
    if "percent" in errors or "orders" in errors:
        return None
    return {"kind": "discount", "percent": int(percent_text), "orders": int(orders_text)}


def _frequency_offer(every: Any, period: Any, errors: dict[str, str]) -> dict[str, Any] | None:
    every_text, period_text = str(every or "").strip(), str(period or "").strip()
    if not _digits(every_text, 3):
        errors["every"] = "A whole number from 1 to 999."
        return None
    if not _digits(period_text, 1) or int(period_text) not in PERIODS:
        errors["every_period"] = "Choose days, weeks, months or years."
        return None
    try:
        chosen = Frequency(int(every_text), int(period_text))
    except ValueError as exc:
        errors["every"] = str(exc)
        return None
    return {"kind": "frequency", **chosen.as_dict()}


def _url(value: Any, errors: dict[str, str]) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    if len(text) > MAX_URL_LENGTH:
        errors["auth_page_url"] = f"At most {MAX_URL_LENGTH} characters."
        return None
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname or " " in text:
        errors["auth_page_url"] = "An https:// address, such as https://shop.example/og-auth."
        return None
    if parts.username or parts.password:
        errors["auth_page_url"] = "The address must not carry a user name or password."
        return None
    return text


def _locations(value: Any, errors: dict[str, str]) -> tuple[str, ...]:
    given = value if isinstance(value, list | tuple) else [] if value in (None, "") else [value]
    chosen = sorted({str(v).strip() for v in given if str(v).strip()})
    if len(chosen) > MAX_UPSELL_LOCATIONS:
        errors["upsell_locations"] = f"At most {MAX_UPSELL_LOCATIONS} locations."
        return ()
    bad = [loc for loc in chosen if not offers.LOCATION_RE.fullmatch(loc)]
    if bad:
        errors["upsell_locations"] = (
            "A location is letters, digits, '.', '_' or '-', at most 40 (e.g. pdp)."
        )
        return ()
    return tuple(chosen)


# -- what the dashboard shows ------------------------------------------------------------------


@dataclass(frozen=True)
class SaveOffer:
    kind: str  # "skip" | "frequency" | "discount"
    text: str  # what the subscriber reads
    frequency: Frequency | None = None  # for "frequency"
    percent: int | None = None  # for "discount": percent off ...
    orders: int | None = None  # ... the next this many orders

    @property
    def discount_words(self) -> str:
        """ "20% off your next 3 orders"."""
        many = "your next order" if self.orders == 1 else f"your next {self.orders} orders"
        return f"{self.percent}% off {many}"


@dataclass(frozen=True)
class Settings:
    quantities: tuple[int, ...]
    pause: bool
    skip: bool
    swap: bool
    save_offer: SaveOffer | None


def settings(merchant: Merchant) -> Settings:
    """What the embedded dashboard shows: ``settings_for``, the save offer in words."""
    chosen = settings_for(merchant)
    return Settings(
        quantities=chosen.quantities,
        pause=chosen.pause,
        skip=chosen.skip,
        swap=chosen.swap,
        save_offer=_offer_shown(chosen.save_offer),
    )


def _offer_shown(value: Any) -> SaveOffer | None:
    if not isinstance(value, dict) or value.get("kind") not in SAVE_OFFER_KINDS:
        return None
    text = value.get("text") if isinstance(value.get("text"), str) else ""
    text = text.strip()[:MAX_TEXT]
    if value["kind"] == "skip":
        return SaveOffer("skip", text or "Skip your next shipment instead")
    if value["kind"] == "discount":
        percent, orders = value.get("percent"), value.get("orders")
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (percent, orders)):
            return None
        if not (1 <= percent <= MAX_SAVE_PERCENT and 1 <= orders <= MAX_SAVE_ORDERS):
            return None
        offer = SaveOffer("discount", "", percent=percent, orders=orders)
        return SaveOffer(
            "discount", text or f"Stay for {offer.discount_words}", percent=percent, orders=orders
        )
    try:
        chosen = Frequency.parse(value.get("frequency") or value)
    except (TypeError, ValueError):
        return None
    return SaveOffer("frequency", text or f"Ship {chosen.label} instead", chosen)
