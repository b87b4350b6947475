"""Why a subscriber cancels: the merchant's list of reasons, and reading a chosen one.

A reason is ``{"code": int, "reason": str, "requires_text": bool}``; a merchant without its own
list has ``DEFAULT_REASONS`` (``GET /merchant/cancel_reason/``, contracts §4.3). A subscriber's
choice arrives as ``"<code>|<free text>"``, pipe-delimited; a reason that ``requires_text``
("Other") needs the free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.extensions import db
from app.models import Merchant
from app.services import events
from app.services.errors import NotFound, ValidationError

DEFAULT_REASONS: tuple[dict[str, Any], ...] = (
    {"code": 1, "reason": "I have too much product", "requires_text": False},
    {"code": 2, "reason": "It is too expensive", "requires_text": False},
    {"code": 3, "reason": "I no longer need it", "requires_text": False},
    {"code": 4, "reason": "I did not like the product", "requires_text": False},
    {"code": 5, "reason": "I prefer to order when I need it", "requires_text": False},
    {"code": 6, "reason": "Delivery problems", "requires_text": False},
    {"code": 7, "reason": "Other", "requires_text": True},
)
MAX_REASONS = 30
MAX_REASON_LENGTH = 200
MAX_CODE = 9999
MAX_TEXT_LENGTH = 500  # the subscriber's free text


@dataclass(frozen=True)
class Choice:
    code: int
    reason: str  # the merchant's wording
    text: str  # the subscriber's own words ("" when none)

    @property
    def stored(self) -> str:
        """What the subscription keeps as ``cancel_reason``: their words, else the reason."""
        return self.text or self.reason


def reasons(merchant_id: int) -> list[dict[str, Any]]:
    """The merchant's cancel reasons (its own list, else the defaults)."""
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound()
    return [dict(r) for r in (merchant.cancel_reasons or DEFAULT_REASONS)]


def set_reasons(
    merchant_id: int, given: list[dict[str, Any]] | None, *, actor: events.Actor
) -> list[dict[str, Any]]:
    """Replace the merchant's list (None: back to the defaults); committed with its event."""
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound()
    clean = None if given is None else _checked(given)
    before = merchant.cancel_reasons
    merchant.cancel_reasons = clean
    events.record(
        merchant.id,
        "settings.update",
        actor,
        object_type="merchant",
        object_id=merchant.public_id,
        before={"cancel_reasons": before},
        after={"cancel_reasons": clean},
    )
    db.session.commit()
    return reasons(merchant_id)


def _checked(given: Any) -> list[dict[str, Any]]:
    if not isinstance(given, list) or not 1 <= len(given) <= MAX_REASONS:
        raise ValidationError(
            f"Give from 1 to {MAX_REASONS} cancel reasons.",
            fields={"cancel_reasons": f"from 1 to {MAX_REASONS} reasons"},
        )
    clean, errors = [], {}
    for n, entry in enumerate(given):
        code = entry.get("code") if isinstance(entry, dict) else None
        reason = entry.get("reason") if isinstance(entry, dict) else None
        if not isinstance(code, int) or isinstance(code, bool) or not 1 <= code <= MAX_CODE:
            errors[f"cancel_reasons.{n}.code"] = f"a whole number from 1 to {MAX_CODE}"
        elif any(c["code"] == code for c in clean):
            errors[f"cancel_reasons.{n}.code"] = f"code {code} is used twice"
        if not isinstance(reason, str) or not 0 < len(reason.strip()) <= MAX_REASON_LENGTH:
            errors[f"cancel_reasons.{n}.reason"] = f"1 to {MAX_REASON_LENGTH} characters"
        if not errors:
            clean.append(
                {
                    "code": code,
                    "reason": reason.strip(),
                    "requires_text": bool(entry.get("requires_text", False)),
                }
            )
    if errors:
        raise ValidationError("Please correct the cancel reasons.", fields=errors)
    return clean


def parse(merchant_id: int, value: Any) -> Choice:
    """Read ``"<code>|<free text>"`` against the merchant's list (ValidationError on the
    ``cancel_reason`` field otherwise)."""
    if not isinstance(value, str) or not value.strip():
        raise _bad("Please choose a reason for cancelling.")
    code_text, _, text = value.partition("|")
    text = text.strip()
    code_text = code_text.strip()
    if not code_text.isdigit() or len(code_text) > 4:
        raise _bad('The reason is "<code>|<your words>", such as "1|Too much coffee".')
    found = next((r for r in reasons(merchant_id) if r["code"] == int(code_text)), None)
    if found is None:
        raise _bad("Please choose one of the listed reasons.")
    if len(text) > MAX_TEXT_LENGTH:
        raise _bad(f"Please say it in at most {MAX_TEXT_LENGTH} characters.")
    if found["requires_text"] and not text:
        raise _bad(f'Please tell us more for "{found["reason"]}".')
    return Choice(found["code"], found["reason"], text)


def _bad(message: str) -> ValidationError:
    return ValidationError(message, fields={"cancel_reason": message})
