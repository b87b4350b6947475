"""Deliver the event log to the merchants' webhook targets (contracts §8.4, T11).

Every minute the cron sweep (``deliver_pending``) does two things:

1. **Fan out.** Each enabled target takes the events recorded since its ``last_event_id``
   that match its filters, as queued deliveries, and moves its mark on: one transaction, the
   mark moved by a conditional UPDATE, so two sweeps never fan out the same events, and the
   key on (target, event) makes each delivery once. Only events a little older than the sweep
   (``SETTLE``) are taken: a transaction that committed an earlier id late is not skipped.
   Because delivery follows from the log, an event whose transaction committed is delivered
   even if Redis was down at that moment: nothing needs to have been enqueued.
2. **Send** each due delivery: claimed with a conditional UPDATE (queued and due → sending,
   ``attempts + 1``, a lease), POSTed outside any transaction with a 5-second timeout and the
   ``OrderGroove-Signature`` header, and recorded only if the claim is still this attempt's.
   A 2xx is delivered; anything else is tried again after ``BACKOFF`` (1 minute up to 4 hours:
   about 8 hours in all), and then the delivery is failed and its target flagged failing (the
   console shows it; a delivery later succeeding, or the target re-enabled, clears it). A
   worker that dies mid-send leaves the delivery sending until its lease ends; then it goes
   again.

Receivers get each event at least once (a lost reply means a repeat) and may dedupe on its
``id``; deliveries of one target may arrive out of order.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update

from app.extensions import db
from app.integrations import signing, webhook_http
from app.models import Customer, Event, Merchant, WebhookDelivery, WebhookTarget
from app.models.types import utcnow
from app.services import claims, event_log, webhooks

SETTLE = timedelta(seconds=15)
LEASE = timedelta(minutes=2)
BACKOFF = tuple(
    timedelta(minutes=m) for m in (1, 3, 10, 30, 60, 120, 240)
)  # then failed: about eight hours of trying
MAX_ATTEMPTS = len(BACKOFF) + 1
FAN_OUT_BATCH = 1000
SEND_BATCH = 200


def deliver_pending(now: datetime | None = None) -> dict[str, int]:
    """The sweep: fan out, then send what is due; counts for the log and the tests."""
    fanned = fan_out(now=now)
    counts = {"queued": fanned, "delivered": 0, "retry": 0, "failed": 0, "taken": 0}
    for delivery_id in _due_ids(now or utcnow()):
        counts[attempt(delivery_id, now=now)] += 1
    return counts


def fan_out(*, now: datetime | None = None) -> int:
    now = now or utcnow()
    made = 0
    targets = list(db.session.scalars(select(WebhookTarget).where(WebhookTarget.enabled.is_(True))))
    for target in targets:
        made += _fan_out_one(target.id, now)
    return made


def _fan_out_one(target_id: int, now: datetime) -> int:
    target = db.session.get(WebhookTarget, target_id)
    mark = target.last_event_id
    found = list(
        db.session.scalars(
            select(Event)
            .where(
                Event.merchant_id == target.merchant_id,
                Event.id > mark,
                Event.created_at <= now - SETTLE,
            )
            .order_by(Event.id)
            .limit(FAN_OUT_BATCH)
        )
    )
    if not found:
        db.session.rollback()
        return 0
    if not claims.take(
        WebhookTarget, target.id, WebhookTarget.last_event_id == mark, last_event_id=found[-1].id
    ):
        db.session.rollback()  # another sweep fanned these out
        return 0
    wanted = [e for e in found if webhooks.matches(target, e.type)]
    for event in wanted:
        db.session.add(WebhookDelivery(target_id=target.id, event_id=event.id, next_attempt_at=now))
    db.session.commit()
    return len(wanted)


def attempt(delivery_id: int, *, now: datetime | None = None) -> str:
    """Claim, send and record one attempt: taken | delivered | retry | failed."""
    now = now or utcnow()
    if not claims.claim(
        WebhookDelivery,
        delivery_id,
        *_due(now),
        status="sending",
        attempts=WebhookDelivery.attempts + 1,
        next_attempt_at=now + LEASE,
    ):
        return "taken"
    delivery = db.session.get(WebhookDelivery, delivery_id)
    target = db.session.get(WebhookTarget, delivery.target_id)
    event = db.session.get(Event, delivery.event_id)
    body = json.dumps(payload(event), separators=(",", ":")).encode("utf-8")
    ts = int(utcnow().timestamp())
    header = signing.webhook_header(webhooks.keys(target), ts, body)
    url, target_id, number = target.url, target.id, delivery.attempts
    db.session.commit()  # hold no transaction open across the network
    result = webhook_http.post(url, body, header)
    values: dict[str, Any] = {"response_status": result.status, "latency_ms": result.latency_ms}
    if result.delivered:
        if _record(
            delivery_id,
            number,
            status="delivered",
            delivered_at=utcnow(),
            next_attempt_at=None,
            last_error=None,
            **values,
        ):
            db.session.execute(
                update(WebhookTarget).where(WebhookTarget.id == target_id).values(failing=False)
            )
            db.session.commit()
        return "delivered"
    error = (result.error or "failed")[:500]
    if number >= MAX_ATTEMPTS:
        if _record(
            delivery_id, number, status="failed", next_attempt_at=None, last_error=error, **values
        ):
            db.session.execute(
                update(WebhookTarget).where(WebhookTarget.id == target_id).values(failing=True)
            )
            db.session.commit()
        return "failed"
    _record(
        delivery_id,
        number,
        status="queued",
        last_error=error,
        next_attempt_at=now + BACKOFF[number - 1],
        **values,
    )
    return "retry"


def payload(event: Event) -> dict[str, Any]:
    """The body of contracts §8.4: id, type, created (unix), data.object, context, snapshot."""
    shown = event_log.event_dict(event)
    merchant = db.session.get(Merchant, event.merchant_id)
    customer = db.session.get(Customer, event.customer_id) if event.customer_id else None
    return {
        "id": event.id,
        "type": event.type,
        "created": int(event.created_at.timestamp()),
        "data": {
            "object": {
                "object_type": event.object_type,
                "id": event.object_id,
                "merchant": merchant.public_id,
                "customer": customer.merchant_user_id if customer else None,
                "before": event.before,
                "after": event.after,
            }
        },
        "context": {"actor": shown["actor"]},
        "snapshot": {},
    }


def _due(now: datetime) -> tuple:
    return (
        or_(WebhookDelivery.status == "queued", WebhookDelivery.status == "sending"),
        WebhookDelivery.next_attempt_at <= now,
        WebhookDelivery.attempts < MAX_ATTEMPTS + 1,
    )


def _due_ids(now: datetime) -> list[int]:
    return list(
        db.session.scalars(
            select(WebhookDelivery.id)
            .join(WebhookTarget)
            .where(*_due(now), WebhookTarget.enabled.is_(True))
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(SEND_BATCH)
        )
    )


def _record(delivery_id: int, attempt_number: int, **values: Any) -> bool:
    """Write an attempt's outcome, unless its lease lapsed and another attempt took over."""
    mine = (WebhookDelivery.status == "sending", WebhookDelivery.attempts == attempt_number)
    if claims.claim(WebhookDelivery, delivery_id, *mine, **values):
        return True
    current_app.logger.warning(
        "webhook delivery %s: attempt %d ended after its lease", delivery_id, attempt_number
    )
    return False
