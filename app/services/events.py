"""Write the append-only event log; every other service calls ``record``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Event


@dataclass(frozen=True)
class Actor:
    """Who did something and from where (``source`` is an IP, "cron", "cli", ...)."""

    type: str
    id: str | None = None
    source: str | None = None


SYSTEM = Actor("system", None, "system")


def record(
    merchant_id: int,
    type: str,
    actor: Actor,
    *,
    object_type: str,
    object_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    customer_id: int | None = None,
) -> Event:
    """Add an event to the session; the calling service commits it with its own change."""
    event = Event(
        merchant_id=merchant_id,
        type=type,
        actor_type=actor.type,
        actor_id=actor.id,
        source=(actor.source or "")[:200] or None,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        customer_id=customer_id,
    )
    db.session.add(event)
    return event


def recent(merchant_id: int, *, limit: int = 20) -> list[Event]:
    """Return the merchant's latest events, newest first."""
    query = (
        select(Event)
        .where(Event.merchant_id == merchant_id)
        .order_by(Event.created_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Keep only the keys whose value changed, for a compact before/after pair."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
