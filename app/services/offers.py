"""Offer settings: what each location's offer says and allows, as the merchant sets it.

Every merchant has its ``default`` offer (created with the merchant, see ``merchants.create``);
a location without its own offer uses it. Reading offers never writes anything.

Decided where the contracts are silent:

* Offer settings are per location; a location without its own offer uses the merchant's
  ``default`` offer.
* Frequencies: the product's allowed list (console override) or else the offer's; the product's
  own default (console, else feed) joins the list when missing, since the feed says it is valid.
  The selected one is the opt-in's, else the element's ``default-frequency`` when allowed, else
  the product's default, else the offer's default, else the first.

What shoppers see of an offer is ``offer_views``; their opt-ins are ``opt_ins``; the cached
storefront snapshot both read is ``shops``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.domain.frequency import Frequency
from app.extensions import db
from app.models import Incentive, Offer
from app.models.offer import DEFAULT_LOCATION, OFFER_TYPES
from app.services import events
from app.services.errors import NotFound, ValidationError

MAX_CHOSEN_INCENTIVES = 100
KEY_RE = re.compile(r"[A-Za-z0-9_-]{1,24}")
LOCATION_RE = re.compile(r"[A-Za-z0-9_.-]{1,40}")
TEXT_FIELDS = {
    "optin_label": 200,
    "optout_label": 200,
    "every_label": 100,
    "tooltip_trigger": 100,
    "tooltip": 2000,
}
SNAPSHOT_FIELDS = (
    "location",
    "offer_type",
    *TEXT_FIELDS,
    "show_tooltip",
    "frequencies",
    "default_frequency",
    "incentive_ids",
    "active",
)


@dataclass(frozen=True)
class Choice:
    code: str  # "4_2"
    label: str  # "4 weeks"


def frequency_choice(code: str) -> Choice:
    frequency = Frequency.parse(code)
    return Choice(frequency.code, frequency.span)


# -- offer settings -------------------------------------------------------------------------


def default(merchant_id: int) -> Offer:
    """The merchant's default offer (created with the merchant: a read never writes one)."""
    offer = _by_location(merchant_id, DEFAULT_LOCATION)
    if offer is None:
        raise NotFound()
    return offer


def _by_location(merchant_id: int, location: str) -> Offer | None:
    return db.session.scalar(
        select(Offer).where(Offer.merchant_id == merchant_id, Offer.location == location)
    )


def list_for(merchant_id: int) -> list[Offer]:
    query = select(Offer).where(Offer.merchant_id == merchant_id).order_by(Offer.id)
    return list(db.session.scalars(query))


def get(merchant_id: int, location: str) -> Offer:
    offer = _by_location(merchant_id, location)
    if offer is None:
        raise NotFound()
    return offer


def save(merchant_id: int, location: str, data: Mapping[str, Any], *, actor: events.Actor) -> Offer:
    """Create or update the offer at ``location`` from console form data."""
    location = (location or "").strip()
    if not LOCATION_RE.fullmatch(location):
        raise ValidationError(
            "Please correct the highlighted fields.",
            fields={
                "location": "Letters, digits, '.', '_' or '-', at most 40 (e.g. pdp, cart, or)."
            },
        )
    offer = _by_location(merchant_id, location)
    before = _snapshot(offer) if offer else None
    attrs = validated(merchant_id, data)
    if offer is None:
        offer = Offer(merchant_id=merchant_id, location=location)
        db.session.add(offer)
    for key, value in attrs.items():
        setattr(offer, key, value)
    db.session.flush()
    if before is None:
        events.record(
            merchant_id,
            "offer.create",
            actor,
            object_type="offer",
            object_id=offer.public_id,
            after=_snapshot(offer),
        )
    else:
        old, new = events.diff(before, _snapshot(offer))
        if new:
            events.record(
                merchant_id,
                "offer.update",
                actor,
                object_type="offer",
                object_id=offer.public_id,
                before=old,
                after=new,
            )
    db.session.commit()
    return offer


def _snapshot(offer: Offer) -> dict[str, Any]:
    return {key: getattr(offer, key) for key in SNAPSHOT_FIELDS}


def validated(merchant_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    attrs: dict[str, Any] = {}
    offer_type = data.get("offer_type") or "radio"
    if offer_type not in OFFER_TYPES:
        errors["offer_type"] = f"Choose one of: {', '.join(OFFER_TYPES)}."
    attrs["offer_type"] = offer_type
    for key, limit in TEXT_FIELDS.items():
        text = (
            " ".join(str(data.get(key) or "").split())
            if key != "tooltip"
            else str(data.get(key) or "").strip()
        )
        if not text:
            errors[key] = "This field is required."
        elif len(text) > limit:
            errors[key] = f"At most {limit} characters."
        attrs[key] = text
    codes = str(data.get("frequencies") or "").replace(",", " ").split()
    try:
        parsed = [frequency_choice(code).code for code in codes]
        if not parsed:
            raise ValueError("List at least one frequency, such as 2_2 4_2 1_3.")
        if len(parsed) > 99:
            raise ValueError("At most 99 frequencies.")
        attrs["frequencies"] = list(dict.fromkeys(parsed))
    except ValueError as exc:
        errors["frequencies"] = str(exc)
    default = str(data.get("default_frequency") or "").strip()
    if "frequencies" not in errors and default not in attrs.get("frequencies", []):
        errors["default_frequency"] = "The default must be one of the frequencies."
    attrs["default_frequency"] = default
    attrs["incentive_ids"] = _incentive_ids(merchant_id, data.get("incentive_ids"), errors)
    attrs["show_tooltip"] = _flag(data.get("show_tooltip"))
    attrs["active"] = _flag(data.get("active"))
    if errors:
        raise ValidationError("Please correct the highlighted fields.", fields=errors)
    return attrs


def _incentive_ids(merchant_id: int, value: Any, errors: dict[str, str]) -> list[str] | None:
    """None (advertise every live incentive) unless specific incentives are chosen."""
    wanted = [v for v in (value if isinstance(value, list | tuple) else [value]) if v]
    if not wanted or "all" in wanted:
        return None
    if len(wanted) > MAX_CHOSEN_INCENTIVES:
        errors["incentive_ids"] = f"Choose at most {MAX_CHOSEN_INCENTIVES} incentives."
        return None
    known = set(
        db.session.scalars(
            select(Incentive.public_id).where(
                Incentive.merchant_id == merchant_id, Incentive.public_id.in_(wanted)
            )
        )
    )
    if set(wanted) - known:
        errors["incentive_ids"] = "Choose among your incentives."
    return list(dict.fromkeys(wanted))


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("on", "1", "true", "yes")
