"""``POST /order/verify`` (contracts §6.4): the store settles orders it answered with 010.

Body ``{"merchant_id": "<id>", "orders": [{"order_id": "…", "status": "000", "message": "…"}]}``.
``order_id`` may be the order's public id, its numeric id (``orderOgId``) or the store's own
``orderId`` from the 010 reply. Status ``000`` places the order (status 5, next orders made);
``020`` (not created) rejects it; ``030`` (cancelled by the store) cancels it; a card or other
error code of §6.5 rejects it with that code's email. Each order answers on its own; the whole
request is ``001`` when any order failed, ``002`` when the request itself is unusable.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from app.extensions import db
from app.integrations import wire
from app.models import Merchant, Order, OrderStatus
from app.models.types import utcnow
from app.services import claims, events, next_orders, notifications, orders, placement_outcomes

MAX_ORDERS = 500
KNOWN = {"000", "020", "030", *placement_outcomes.REJECTED, "140", "999"}


class Fatal(Exception):
    """The request as a whole cannot be read (status ``002``)."""


def verify(merchant: Merchant, body: Any, *, actor: events.Actor) -> dict[str, Any]:
    """Apply each order's verdict; the response body of §6.4."""
    entries = body.get("orders") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not entries or len(entries) > MAX_ORDERS:
        raise Fatal(f"orders must be a list of 1 to {MAX_ORDERS} objects")
    results = [_one(merchant, entry, actor) for entry in entries]
    failed = any(r["result"] == "error" for r in results)
    return {"status": "001" if failed else "000", "orders": results}


def _one(merchant: Merchant, entry: Any, actor: events.Actor) -> dict[str, Any]:
    if not isinstance(entry, dict):
        return {"order_id": None, "result": "error", "message": "Each order must be an object"}
    raw_id, status = entry.get("order_id"), entry.get("status")
    order_id = (
        str(raw_id)[:64] if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
    )
    if order_id is None:
        return {"order_id": raw_id, "result": "error", "message": "Order does not exist"}
    order = _find(merchant.id, order_id)
    if order is None:
        return _error(order_id, "Order does not exist")
    if not isinstance(status, str) or status not in KNOWN:
        return _error(order_id, "Unknown status code provided")
    if order.status != OrderStatus.PENDING_VERIFICATION:
        return _error(order_id, "Order not in 'Processing' status")
    message = str(entry.get("message") or "")[:500] or None
    values: dict[str, Any]
    template = None
    if status == "000":
        values = {"status": OrderStatus.SUCCESS, "placed_at": utcnow()}
    elif status == "030":
        values = {"status": OrderStatus.CANCELLED}
    else:
        values = {"status": OrderStatus.REJECTED, "rejected_message": message or status}
        template = placement_outcomes.REJECTED.get(
            status, "order.rejected_payment" if status == "140" else None
        )
    values["next_order_pending"] = True  # placed or not, the subscriptions get their next order
    if not claims.take(Order, order.id, Order.status == OrderStatus.PENDING_VERIFICATION, **values):
        db.session.rollback()
        return _error(order_id, "Order not in 'Processing' status")
    kind = {"000": "order.success", "030": "order.cancel"}.get(status, "order.reject")
    events.record(
        merchant.id,
        kind,
        actor,
        object_type="order",
        object_id=order.public_id,
        customer_id=order.customer_id,
        after={"status": values["status"], "code": status, "message": message},
    )
    if template:
        notifications.queue_email(
            merchant.id, order.customer, template, **orders.email_context(order)
        )
    db.session.commit()
    next_orders.follow_up([order.id], utcnow())
    return {"order_id": order_id, "result": "success", "message": message or "success"}


def _find(merchant_id: int, order_id: str) -> Order | None:
    conditions = [Order.public_id == order_id, Order.order_merchant_id == order_id]
    try:
        conditions.append(Order.id == wire.parse_int(order_id, low=1, high=wire.DB_INT_MAX))
    except wire.WireError:
        pass  # not a numeric id: the public id or the store's own id
    return db.session.scalar(
        select(Order).where(Order.merchant_id == merchant_id, or_(*conditions)).limit(1)
    )


def _error(order_id: str, message: str) -> dict[str, Any]:
    return {"order_id": order_id, "result": "error", "message": message}
