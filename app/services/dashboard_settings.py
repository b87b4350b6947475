"""What the subscriber dashboard offers: the merchant's choices, and their defaults.

``Merchant.dashboard_settings`` holds the merchant's choices as JSON; None (or any key left
out) means the default below. ``DEFAULTS``, the one place they are defined:

* ``quantities``: ``[1, 2, 3, 4, 5, 6]``, the quantities a subscriber picks from (a
  subscription's own quantity is always offered too, so nobody is forced off it);
* ``pause``, ``skip``, ``swap``: ``True``, whether pausing (and resuming), skipping a
  subscription's next shipment and swapping to another product of its ``sku_swap`` group are
  offered;
* ``save_offer``: ``None``, what a subscriber is offered before cancelling, one of
  ``{"kind": "skip"}`` (skip the next shipment instead),
  ``{"kind": "frequency", "every": 8, "every_period": 2}`` (ship less often instead), each
  with an optional ``"text"`` of the merchant's own words.

A value of the wrong shape (the console validates what it saves; a hand-edited row might not)
falls back to its default rather than breaking the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.domain.frequency import Frequency
from app.models import Merchant
from app.services.subscriber_scope import MAX_QUANTITY

DEFAULTS: dict[str, Any] = {
    "quantities": [1, 2, 3, 4, 5, 6],
    "pause": True,
    "skip": True,
    "swap": True,
    "save_offer": None,
}
SAVE_OFFER_KINDS = ("skip", "frequency")
MAX_TEXT = 200


@dataclass(frozen=True)
class SaveOffer:
    kind: str  # "skip" | "frequency"
    text: str  # what the subscriber reads
    frequency: Frequency | None = None  # for "frequency"


@dataclass(frozen=True)
class Settings:
    quantities: tuple[int, ...]
    pause: bool
    skip: bool
    swap: bool
    save_offer: SaveOffer | None


def settings(merchant: Merchant) -> Settings:
    """The merchant's dashboard settings, each missing or malformed one at its default."""
    given = merchant.dashboard_settings if isinstance(merchant.dashboard_settings, dict) else {}
    return Settings(
        quantities=_quantities(given.get("quantities")),
        pause=_flag(given, "pause"),
        skip=_flag(given, "skip"),
        swap=_flag(given, "swap"),
        save_offer=_save_offer(given.get("save_offer")),
    )


def _flag(given: dict[str, Any], name: str) -> bool:
    value = given.get(name, DEFAULTS[name])
    return value if isinstance(value, bool) else DEFAULTS[name]


def _quantities(value: Any) -> tuple[int, ...]:
    if isinstance(value, list):
        chosen = sorted(
            {
                q
                for q in value
                if isinstance(q, int) and not isinstance(q, bool) and 1 <= q <= MAX_QUANTITY
            }
        )
        if chosen:
            return tuple(chosen)
    return tuple(DEFAULTS["quantities"])


def _save_offer(value: Any) -> SaveOffer | None:
    if not isinstance(value, dict) or value.get("kind") not in SAVE_OFFER_KINDS:
        return None
    text = value.get("text") if isinstance(value.get("text"), str) else ""
    text = text.strip()[:MAX_TEXT]
    if value["kind"] == "skip":
        return SaveOffer("skip", text or "Skip your next shipment instead")
    try:
        chosen = Frequency.parse(value.get("frequency") or value)
    except (TypeError, ValueError):
        return None
    return SaveOffer("frequency", text or f"Ship {chosen.label} instead", chosen)
