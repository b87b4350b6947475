"""What a placement attempt came to, and what Perennial does next (contracts §6.4, §6.5, T7).

* ``SUCCESS``: status 5; the store's ``orderId`` kept; each subscription's next order made at
  place date + frequency (today + frequency after "send now").
* ``SUCCESS`` with ``responseCode 010``: status 10 until the store calls ``POST /order/verify``.
* ``ERROR 140`` (card declined): status 18, tried again ``cc_retry_days`` later,
  ``cc_retries`` times, an "update your payment" email each time; then 3 (rejected), emailed.
* ``ERROR 160`` (declined, do not retry): 3 at once, emailed.
* ``ERROR 100/110/120/130/150/170/180``: 3, with the matching email.
* ``ERROR 999`` or ``020`` (temporary): status 15, tried at the next ``generic_retries`` runs,
  then 3, emailed.
* ``ERROR`` with another code, or a reply that is not the contract's XML (any HTTP status but
  502/503/504): status 14, no retry, no email: the merchant must look.
* Nothing sent (refused connection, DNS, connect timeout): status 13, tried at the next run
  for at most min(``connection_retry_days``, the frequency), then 3.
* Sent, no reply (read timeout, connection dropped, HTTP 502/503/504 without XML): status 13
  if the endpoint deduplicates, else 16 (outcome unknown), which waits for staff to confirm it
  placed or send it again.

In batch mode (``placement_batch``) an order waits in status 9 once its file is written, and
each record of the store's response file is applied by ``apply_batch_reply`` exactly as the same
reply over HTTP would be. Emails are queued once per (order, attempt), whatever applies twice.

A rejected order's subscriptions stay live and get their next order, as Ordergroove does.
Every transition is an event ``order.<what>`` carrying the store's code and message. An outcome
is applied only while the attempt is still the order's latest and its claim (or an "unknown"
that this very reply resolves) holds, so a late reply never overrides a newer decision.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from app.domain.frequency import Frequency
from app.extensions import db
from app.integrations import orders_http
from app.integrations.xml import order_reply
from app.models import (
    Merchant,
    Order,
    OrderStatus,
    Outcome,
    PlacementAttempt,
    Subscription,
)
from app.models.types import utcnow
from app.services import claims, events, next_orders, notifications, orders

CARD_RETRY, NO_RETRY = "140", "160"
TEMPORARY = ("999", "020")
REJECTED = {
    "100": "order.rejected_card_type",
    "110": "order.rejected_card_number",
    "120": "order.rejected_card_expiry",
    "130": "order.rejected_billing_address",
    "150": "order.rejected_paypal",
    "170": "order.rejected_no_card",
    "180": "order.rejected_authentication",
    NO_RETRY: "order.rejected_payment",
}
GATEWAY_STATUSES = (502, 503, 504)
REPLY_CODES = {"success": "SUCCESS", "pending_verification": "SUCCESS", "error": "ERROR"}
KEEP_REPLY = 4000  # characters of the store's reply kept in the ledger
ACTOR = events.Actor("system", "placement", "placement")


def apply(
    order_id: int,
    token: str,
    attempt_id: int,
    delivery: orders_http.Delivery,
    *,
    now: datetime | None = None,
    follow_up: bool = True,
) -> str:
    """Record what the store answered and move the order on; return the attempt's outcome.

    A settled order's next orders are made by ``next_orders.follow_up``: here at once, or,
    with ``follow_up=False``, by the caller for a group of orders (``placement_send``)."""
    outcome = _apply(order_id, token, attempt_id, delivery, now=now)
    if follow_up:
        next_orders.follow_up([order_id], now or utcnow())
    return outcome


def _apply(
    order_id: int,
    token: str,
    attempt_id: int,
    delivery: orders_http.Delivery,
    *,
    now: datetime | None,
) -> str:
    now = now or utcnow()
    attempt = db.session.get(PlacementAttempt, attempt_id)
    attempt.finished_at, attempt.elapsed_ms = now, delivery.elapsed_ms
    attempt.http_status = delivery.status
    if delivery.outcome == "not_sent":
        attempt.outcome, attempt.message = Outcome.NOT_SENT, delivery.reason
        return _connection_failed(order_id, token, attempt, now)
    reply = None
    if delivery.outcome == "replied":
        attempt.reply_body = delivery.body[:KEEP_REPLY].decode("utf-8", "replace")
        reply = order_reply.parse_reply(delivery.body, content_type=delivery.content_type)
    if reply is None or (reply.kind == "unreadable" and delivery.status in GATEWAY_STATUSES):
        attempt.outcome = Outcome.UNKNOWN
        attempt.message = delivery.reason or f"HTTP {delivery.status} without a reply"
        return _unknown(order_id, token, attempt, now)
    return _answered(order_id, token, attempt, reply, now)


def apply_batch_reply(
    order_id: int,
    attempt_id: int,
    reply: order_reply.Reply,
    *,
    source: str | None = None,
    now: datetime | None = None,
) -> str | None:
    """Apply one record of a batch response file to an order waiting for it (status 9, its
    latest attempt); return the attempt's outcome, or None when the order is not waiting.

    There is no lease to hold: the order decides by being in status 9 with this attempt as
    its latest, and the first UPDATE here locks the row until ``_settle`` commits, so a
    staff action or a second sweep either happened before (None) or waits for this one.
    """
    now = now or utcnow()
    attempt = db.session.get(PlacementAttempt, attempt_id)
    if attempt is None or not claims.take(Order, order_id, *_awaits_batch(attempt), updated_at=now):
        db.session.rollback()
        return None
    attempt.finished_at = now
    attempt.reply_body = source
    outcome = _answered(order_id, None, attempt, reply, now)
    next_orders.follow_up([order_id], now)
    return outcome


def _awaits_batch(attempt: PlacementAttempt) -> tuple:
    """SQL for "the order waits in status 9 for this attempt's answer"."""
    return (
        Order.status == OrderStatus.PENDING_BATCH_RESPONSE,
        Order.lease_token.is_(None),
        Order.tries == attempt.attempt,
        Order.id == attempt.order_id,
    )


def _answered(
    order_id: int,
    token: str | None,
    attempt: PlacementAttempt,
    reply: order_reply.Reply,
    now: datetime,
) -> str:
    """Act on a reply the store gave (over HTTP, or in a batch response file)."""
    attempt.reply_code = REPLY_CODES.get(reply.kind)
    attempt.error_code, attempt.store_order_id = reply.error_code, reply.order_id
    attempt.message = reply.error_msg or reply.problem
    if reply.kind == "success":
        attempt.outcome = Outcome.SUCCESS
        return _succeeded(order_id, token, attempt, reply.order_id, now)
    if reply.kind == "pending_verification":
        attempt.outcome = Outcome.PENDING_VERIFICATION
        _settle(
            order_id,
            token,
            attempt,
            "order.pending_verification",
            status=OrderStatus.PENDING_VERIFICATION,
            order_merchant_id=reply.order_id,
        )
        return attempt.outcome
    if reply.kind == "error":
        attempt.outcome = Outcome.DECLINED
        return _declined(order_id, token, attempt, reply.error_code or "", now)
    attempt.outcome = Outcome.UNREADABLE
    attempt.message = attempt.message or "The reply is not the order reply XML."
    _settle(
        order_id,
        token,
        attempt,
        "order.response_processing_error",
        status=OrderStatus.RESPONSE_PROCESSING_ERROR,
    )
    return attempt.outcome


def batched(order_id: int, token: str, attempt_id: int, *, now: datetime | None = None) -> str:
    """The order went into the merchant's batch file: it waits for the response file."""
    attempt = db.session.get(PlacementAttempt, attempt_id)
    attempt.outcome, attempt.finished_at = Outcome.BATCHED, now or utcnow()
    _settle(order_id, token, attempt, "order.batched", status=OrderStatus.PENDING_BATCH_RESPONSE)
    return attempt.outcome


# -- the transitions -----------------------------------------------------------------------


def _settle(
    order_id: int,
    token: str | None,
    attempt: PlacementAttempt,
    event: str,
    *,
    extra: dict[str, Any] | None = None,
    email: tuple[str, dict] | None = None,
    **values: Any,
) -> bool:
    """Move the order on if this attempt still decides, with its event and email; commit once.
    Returns whether it decided (a late reply records itself in the ledger, nothing more).

    ``token`` is the claim of the worker that sent the order; None for an answer in a batch
    response file, which decides while the order waits in status 9 for it. Each email is
    queued once per (order, attempt), however often an outcome is applied. A placed or
    rejected order is marked for ``next_orders.follow_up`` in the same UPDATE.
    """
    order = db.session.get(Order, order_id)
    if token is None:
        decides = and_(*_awaits_batch(attempt))
    else:
        decides = or_(
            Order.lease_token == token,
            and_(
                Order.lease_token.is_(None),
                Order.retry_reason == "unknown",
                Order.status.in_((OrderStatus.OUTCOME_UNKNOWN, OrderStatus.CONNECTION_ERROR)),
            ),
        )
    values.setdefault("retry_reason", None)
    values.setdefault("next_attempt_at", None)
    with db.session.no_autoflush:  # the attempt's row is written with what follows
        won = claims.take(
            Order,
            order_id,
            Order.tries == attempt.attempt,
            decides,
            lease_token=None,
            lease_until=None,
            **values,
        )
    if won:
        events.record(
            order.merchant_id,
            event,
            ACTOR,
            object_type="order",
            object_id=order.public_id,
            customer_id=order.customer_id,
            after={
                "status": values.get("status"),
                "attempt": attempt.attempt,
                "code": attempt.error_code or attempt.reply_code,
                "message": attempt.message,
                **(extra or {}),
            },
        )
        if email is not None:
            template, context = email
            notifications.queue_email(
                order.merchant_id,
                order.customer,
                template,
                dedupe_key=f"order.dunning:{order.public_id}:{attempt.attempt}",
                **orders.email_context(order),
                **context,
            )
    db.session.commit()
    return won


def _succeeded(
    order_id: int, token: str | None, attempt: PlacementAttempt, store_id: str | None, now: datetime
) -> str:
    outcome = attempt.outcome  # _settle commits: read it before
    _settle(
        order_id,
        token,
        attempt,
        "order.success",
        status=OrderStatus.SUCCESS,
        order_merchant_id=store_id,
        placed_at=now,
        extra={"order_id": store_id},
        next_order_pending=True,
    )
    return outcome


def _declined(
    order_id: int, token: str | None, attempt: PlacementAttempt, code: str, now: datetime
) -> str:
    order = db.session.get(Order, order_id)
    merchant = db.session.get(Merchant, order.merchant_id)
    if code == CARD_RETRY:
        declines = _count(order_id, error_code=CARD_RETRY)
        if declines <= merchant.cc_retries:
            retry_at = now + timedelta(days=merchant.cc_retry_days)
            retry_on = orders.long_date(retry_at.astimezone(merchant.tz).date())
            _settle(
                order_id,
                token,
                attempt,
                "order.payment_retry",
                status=OrderStatus.CREDIT_CARD_RETRY,
                retry_reason="card",
                next_attempt_at=retry_at,
                email=("order.payment_retry", {"retry_on": retry_on}),
            )
            return attempt.outcome
        return _reject(order, token, attempt, "order.rejected_payment", now=now)
    if code in REJECTED:
        return _reject(order, token, attempt, REJECTED[code], now=now)
    if code in TEMPORARY:
        if order.generic_error_count < merchant.generic_retries:
            _settle(
                order_id,
                token,
                attempt,
                "order.generic_error",
                status=OrderStatus.GENERIC_ERROR,
                retry_reason="generic",
                next_attempt_at=now,
                generic_error_count=Order.generic_error_count + 1,
            )
            return attempt.outcome
        return _reject(order, token, attempt, "order.rejected_generic", now=now)
    _settle(
        order_id,
        token,
        attempt,
        "order.response_processing_error",
        status=OrderStatus.RESPONSE_PROCESSING_ERROR,
    )
    return attempt.outcome


def _reject(
    order: Order,
    token: str | None,
    attempt: PlacementAttempt,
    template: str | None,
    *,
    now: datetime,
) -> str:
    """Rejected: the subscriptions stay live and get their next order, as Ordergroove does."""
    _settle(
        order.id,
        token,
        attempt,
        "order.reject",
        status=OrderStatus.REJECTED,
        rejected_message=attempt.message or "Rejected",
        email=(template, {}) if template else None,
        next_order_pending=True,
    )
    return attempt.outcome


def _connection_failed(order_id: int, token: str, attempt: PlacementAttempt, now: datetime) -> str:
    """Nothing reached the store: try at the next run, within the retry window."""
    order = db.session.get(Order, order_id)
    if _window_over(order, now):
        return _reject(order, token, attempt, None, now=now)
    _settle(
        order_id,
        token,
        attempt,
        "order.retryable_placement_failure",
        status=OrderStatus.CONNECTION_ERROR,
        retry_reason="not_sent",
        next_attempt_at=now,
    )
    return attempt.outcome


def _unknown(order_id: int, token: str, attempt: PlacementAttempt, now: datetime) -> str:
    """The store may have the order: resend only where it deduplicates on the public id."""
    order = db.session.get(Order, order_id)
    merchant = db.session.get(Merchant, order.merchant_id)
    if merchant.endpoint_dedupes and not _window_over(order, now):
        _settle(
            order_id,
            token,
            attempt,
            "order.retryable_placement_failure",
            status=OrderStatus.CONNECTION_ERROR,
            retry_reason="unknown",
            next_attempt_at=now,
        )
    else:
        _settle(
            order_id,
            token,
            attempt,
            "order.outcome_unknown",
            status=OrderStatus.OUTCOME_UNKNOWN,
            retry_reason="unknown",
        )
    return attempt.outcome


def _window_over(order: Order, now: datetime) -> bool:
    """Connection retries last min(connection_retry_days, the shortest frequency)."""
    merchant = db.session.get(Merchant, order.merchant_id)
    days = merchant.connection_retry_days
    for item in order.items:
        sub = db.session.get(Subscription, item.subscription_id) if item.subscription_id else None
        if sub is not None:
            days = min(days, Frequency(sub.every, sub.every_period).days)
    first = order.first_attempt_at or now
    return now - first >= timedelta(days=days)


def _count(order_id: int, **where: Any) -> int:
    query = select(PlacementAttempt.id).where(PlacementAttempt.order_id == order_id)
    for key, value in where.items():
        query = query.where(getattr(PlacementAttempt, key) == value)
    return len(db.session.scalars(query).all())
