"""The event log as an API (``GET /events/``, Application scope): every change Perennial
recorded for a merchant, oldest first, filtered by type, object, customer and time.

``types`` is one or more types separated by ``|``, each exact (``subscription.cancel``) or a
family (``order.*``), as webhook filters are written. An event reads as ``{"id", "type",
"created", "actor": {"type", "id", "source"}, "object": {"type", "id"}, "customer", "before",
"after"}``, ``customer`` the merchant's user id.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Customer, Event
from app.services import pagination
from app.services.errors import ValidationError

TYPE_RE = re.compile(r"[a-z_]{1,32}(?:\.(?:[a-z_]{1,32}|\*))?|\*")
MAX_TYPES = 20


def page(
    merchant_id: int,
    *,
    request: pagination.PageRequest,
    types: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    customer_id: int | None = None,
    created_start: datetime | None = None,
    created_end: datetime | None = None,
) -> pagination.Page[Event]:
    query = select(Event).where(Event.merchant_id == merchant_id)
    if types:
        query = query.where(or_(*_type_clauses(types)))
    if object_type:
        query = query.where(Event.object_type == object_type)
    if object_id:
        query = query.where(Event.object_id == object_id)
    if customer_id is not None:
        query = query.where(Event.customer_id == customer_id)
    if created_start is not None:
        query = query.where(Event.created_at >= created_start)
    if created_end is not None:
        query = query.where(Event.created_at <= created_end)
    return pagination.paginate(query, Event.id, scope=f"events:{merchant_id}", request=request)


def _type_clauses(types: str) -> list:
    patterns = [p.strip() for p in types.split("|") if p.strip()]
    if not patterns or len(patterns) > MAX_TYPES or not all(TYPE_RE.fullmatch(p) for p in patterns):
        message = "Event types such as subscription.cancel or order.*, separated by |."
        raise ValidationError(message, fields={"type": message})
    clauses = []
    for pattern in patterns:
        if pattern == "*":
            return [Event.id.is_not(None)]
        if pattern.endswith(".*"):
            clauses.append(Event.type.startswith(pattern[:-1], autoescape=True))
        else:
            clauses.append(Event.type == pattern)
    return clauses


def event_dict(event: Event) -> dict[str, Any]:
    customer = db.session.get(Customer, event.customer_id) if event.customer_id else None
    return {
        "id": event.id,
        "type": event.type,
        "created": event.created_at.isoformat(),
        "actor": {"type": event.actor_type, "id": event.actor_id, "source": event.source},
        "object": {"type": event.object_type, "id": event.object_id},
        "customer": customer.merchant_user_id if customer else None,
        "before": event.before,
        "after": event.after,
    }
