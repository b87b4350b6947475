"""Recovery: orders whose claim outlived its lease, because the worker holding it died or
stalled (rule 5 of ``placement``'s docstring). Each run starts with it.

If the order's last attempt never left (no ledger row for it) it is due again. If it may have
reached the store, it goes again by itself only where the merchant declared that its endpoint
deduplicates on the public id; otherwise it waits as OUTCOME_UNKNOWN until staff confirm it
placed or send it again (the official receivers do not deduplicate). An attempt written to a
batch file asks the file (``placement_batch.recover``). Settled orders a worker had not yet
followed up (``next_orders``) are followed up first. Each settlement is a conditional
UPDATE that the claim is still the stale one, so a worker that renewed it meanwhile keeps it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from app.extensions import db
from app.models import Merchant, Order, OrderStatus, Outcome, PlacementAttempt
from app.services import claims, events, next_orders, placement, placement_batch


def recover(merchant: Merchant, now: datetime) -> int:
    """Settle the merchant's orders whose claim outlived its lease (see the module docstring)."""
    next_orders.follow_up_all(merchant.id, now)
    stale = list(
        db.session.scalars(
            select(Order).where(
                Order.merchant_id == merchant.id,
                Order.status == OrderStatus.PENDING_PLACEMENT,
                Order.lease_until < now,
            )
        )
    )
    for order in stale:
        last = db.session.scalar(
            select(PlacementAttempt).where(
                PlacementAttempt.order_id == order.id, PlacementAttempt.attempt == order.tries
            )
        )
        if last is not None and last.batch_file_id is not None:
            placement_batch.recover(order, last, now)  # its file tells whether it went
            continue
        if last is None:  # claimed, but died before the request left: nothing was sent
            values = {
                "status": OrderStatus.CONNECTION_ERROR,
                "retry_reason": "not_sent",
                "next_attempt_at": now,
            }
        elif merchant.endpoint_dedupes:
            values = {
                "status": OrderStatus.CONNECTION_ERROR,
                "retry_reason": "unknown",
                "next_attempt_at": now,
            }
        else:
            values = {
                "status": OrderStatus.OUTCOME_UNKNOWN,
                "retry_reason": "unknown",
                "next_attempt_at": None,
            }
        won = claims.claim(
            Order,
            order.id,
            Order.status == OrderStatus.PENDING_PLACEMENT,
            Order.lease_token == order.lease_token,
            Order.lease_until < now,
            lease_token=None,
            lease_until=None,
            **values,
        )
        if won and last is not None:
            db.session.execute(
                update(PlacementAttempt)
                .where(PlacementAttempt.id == last.id, PlacementAttempt.outcome == Outcome.SENDING)
                .values(
                    outcome=Outcome.UNKNOWN,
                    finished_at=now,
                    message="The worker stopped while the order was being sent.",
                )
            )
            events.record(
                merchant.id,
                "order.outcome_unknown",
                placement.SYSTEM,
                object_type="order",
                object_id=order.public_id,
                customer_id=order.customer_id,
                after={"attempt": order.tries, "status": values["status"]},
            )
            db.session.commit()
    return len(stale)
