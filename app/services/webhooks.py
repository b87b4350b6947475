"""Webhook targets (contracts §8.4): where a merchant hears about its events, and which.

A target is an https URL (http only for localhost), ``enabled`` or not, with filters: each a
pattern of event types separated by ``|``, exact (``subscription.cancel``) or a family
(``order.*``); no filter means every event. It signs with its own key (``signing_key``);
``rotate`` makes a new one and keeps the old one signing beside it for ``ROTATION_OVERLAP``
(the header then carries both signatures, the new first), so a receiver can switch keys
without missing a delivery. A new target receives the events recorded after it was made.
Each change to a target is an event ``webhook_target.*`` (never carrying a key).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, WebhookTarget
from app.models.types import utcnow
from app.services import events, merchants
from app.services.errors import NotFound, ValidationError

ROTATION_OVERLAP = timedelta(hours=24)
MAX_TARGETS = 10
MAX_FILTERS = 20
PATTERN_RE = re.compile(r"(?:[a-z_]{1,32}(?:\.(?:[a-z_]{1,32}|\*))?|\*)")


def new_key() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create(
    merchant_id: int, url: Any, *, enabled: Any = True, actor: events.Actor
) -> WebhookTarget:
    checked = _url(url)
    count = db.session.scalar(
        select(func.count(WebhookTarget.id)).where(WebhookTarget.merchant_id == merchant_id)
    )
    if count >= MAX_TARGETS:
        raise ValidationError(
            f"At most {MAX_TARGETS} webhook targets.", fields={"target_url": "Too many targets."}
        )
    last = db.session.scalar(select(func.max(Event.id)).where(Event.merchant_id == merchant_id))
    target = WebhookTarget(
        merchant_id=merchant_id,
        url=checked,
        enabled=_flag(enabled, "enabled"),
        filters=[],
        signing_key=new_key(),
        last_event_id=last or 0,
    )
    db.session.add(target)
    db.session.flush()
    _record(
        target, "webhook_target.create", actor, after={"url": checked, "enabled": target.enabled}
    )
    db.session.commit()
    return target


def update(
    merchant_id: int, public_id: str, values: dict[str, Any], *, actor: events.Actor
) -> WebhookTarget:
    target = get(merchant_id, public_id)
    before = {"url": target.url, "enabled": target.enabled}
    if "target_url" in values:
        target.url = _url(values["target_url"])
    if "enabled" in values:
        target.enabled = _flag(values["enabled"], "enabled")
        if target.enabled:
            target.failing = False
    after = {"url": target.url, "enabled": target.enabled}
    old, new = events.diff(before, after)
    if new:
        _record(target, "webhook_target.update", actor, before=old, after=new)
    db.session.commit()
    return target


def add_filter(
    merchant_id: int, public_id: str, pattern: Any, *, actor: events.Actor
) -> WebhookTarget:
    target = get(merchant_id, public_id)
    checked = check_pattern(pattern)
    if checked not in target.filters:
        if len(target.filters) >= MAX_FILTERS:
            raise ValidationError("Too many filters.", fields={"pattern": "Too many filters."})
        target.filters = [*target.filters, checked]
        _record(target, "webhook_target.filter", actor, after={"pattern": checked})
    db.session.commit()
    return target


def set_filters(
    merchant_id: int, public_id: str, patterns: list[Any], *, actor: events.Actor
) -> WebhookTarget:
    """Replace the target's filters (the console's form)."""
    target = get(merchant_id, public_id)
    checked = list(dict.fromkeys(check_pattern(p) for p in patterns if str(p or "").strip()))
    if len(checked) > MAX_FILTERS:
        raise ValidationError("Too many filters.", fields={"pattern": "Too many filters."})
    if checked != target.filters:
        before = list(target.filters)
        target.filters = checked
        _record(
            target,
            "webhook_target.filter",
            actor,
            before={"filters": before},
            after={"filters": checked},
        )
    db.session.commit()
    return target


def rotate(
    merchant_id: int, public_id: str, *, actor: events.Actor, now: datetime | None = None
) -> WebhookTarget:
    target = get(merchant_id, public_id)
    target.previous_key, target.signing_key = target.signing_key, new_key()
    target.rotated_at = now or utcnow()
    _record(target, "webhook_target.rotate_key", actor, after={"overlap_hours": 24})
    db.session.commit()
    return target


def keys(target: WebhookTarget, now: datetime | None = None) -> list[str]:
    """The keys a delivery is signed with: the current one, and the previous one during the
    overlap after a rotation."""
    now = now or utcnow()
    if target.previous_key and target.rotated_at and now - target.rotated_at < ROTATION_OVERLAP:
        return [target.signing_key, target.previous_key]
    return [target.signing_key]


def matches(target: WebhookTarget, event_type: str) -> bool:
    if not target.filters:
        return True
    for pattern in target.filters:
        for part in pattern.split("|"):
            if part == "*" or part == event_type:
                return True
            if part.endswith(".*") and event_type.startswith(part[:-1]):
                return True
    return False


def check_pattern(value: Any) -> str:
    message = "Event types such as subscription.cancel or order.*, separated by |."
    if not isinstance(value, str) or len(value) > 500:
        raise ValidationError(message, fields={"pattern": message})
    parts = [p.strip() for p in value.split("|")]
    if not parts or not all(PATTERN_RE.fullmatch(p) for p in parts):
        raise ValidationError(message, fields={"pattern": message})
    return "|".join(parts)


def get(merchant_id: int, public_id: Any) -> WebhookTarget:
    found = None
    if isinstance(public_id, str) and 0 < len(public_id) <= 32:
        found = db.session.scalar(
            select(WebhookTarget).where(
                WebhookTarget.merchant_id == merchant_id, WebhookTarget.public_id == public_id
            )
        )
    if found is None:
        raise NotFound()
    return found


def list_for(merchant_id: int) -> list[WebhookTarget]:
    return list(
        db.session.scalars(
            select(WebhookTarget)
            .where(WebhookTarget.merchant_id == merchant_id)
            .order_by(WebhookTarget.id)
        )
    )


def target_dict(target: WebhookTarget, merchant_public_id: str) -> dict[str, Any]:
    """As contracts §8.4 shows a target (never its key)."""
    return {
        "id": target.public_id,
        "merchant": merchant_public_id,
        "target_url": target.url,
        "enabled": target.enabled,
        "filters": list(target.filters),
        "failing": target.failing,
        "created": target.created_at.isoformat(),
        "updated": target.updated_at.isoformat(),
    }


def _url(value: Any) -> str:
    try:
        checked = merchants.check_endpoint(value)
    except ValueError as exc:
        raise ValidationError(str(exc), fields={"target_url": str(exc)}) from None
    if checked is None:
        raise ValidationError("A target URL is required.", fields={"target_url": "Required."})
    return checked


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "1", "on", 1):
        return True
    if value in ("false", "0", "off", 0, "", None):
        return False
    raise ValidationError(f"{name} must be true or false.", fields={name: "true or false"})


def _record(target: WebhookTarget, type_: str, actor: events.Actor, **changes: Any) -> None:
    events.record(
        target.merchant_id,
        type_,
        actor,
        object_type="webhook_target",
        object_id=target.public_id,
        **changes,
    )
