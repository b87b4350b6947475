"""Orders as the console finds them: filtered lists, one order's attempts, the day's figures.

Status groups, as a merchant reads them:

* upcoming: not sent yet (1);
* placed: the store accepted it (5);
* needs attention: it failed and is waiting for a retry or for staff (13, 14, 15, 16, 18), or
  it was rejected in the last ``ATTENTION_DAYS`` days (3);
* in progress: queued to send now, being sent, or waiting for the store to confirm it
  (6, 9, 10, 11);
* rejected (3) and cancelled (4, and 17: merged into another order).

Place dates are the merchant's own calendar dates; "today" is the merchant's today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from app.domain import money
from app.extensions import db
from app.integrations import wire
from app.models import (
    Customer,
    Merchant,
    Order,
    OrderItem,
    OrderStatus,
    Outcome,
    PlacementAttempt,
    PlacementRun,
    Product,
)
from app.models.types import utcnow
from app.services import pagination
from app.services.errors import ValidationError

S = OrderStatus
ATTENTION_DAYS = 7
FAILED = (
    S.CONNECTION_ERROR,
    S.RESPONSE_PROCESSING_ERROR,
    S.GENERIC_ERROR,
    S.OUTCOME_UNKNOWN,
    S.CREDIT_CARD_RETRY,
)
IN_PROGRESS = (S.SEND_NOW, S.PENDING_BATCH_RESPONSE, S.PENDING_VERIFICATION, S.PENDING_PLACEMENT)
SENDING = (S.SEND_NOW, S.PENDING_PLACEMENT)  # moments away from settling: pages poll
GROUPS = {
    "upcoming": "Upcoming",
    "placed": "Placed",
    "attention": "Needs attention",
    "in_progress": "In progress",
    "rejected": "Rejected",
    "cancelled": "Cancelled",
}
SORTS = {
    "newest": "Newest first",
    "place_desc": "Latest date first",
    "place_asc": "Soonest date first",
}
LABELS = {
    S.UNSENT: "Upcoming",
    S.REJECTED: "Rejected",
    S.CANCELLED: "Cancelled",
    S.SUCCESS: "Placed",
    S.SEND_NOW: "Sending soon",
    S.PENDING_BATCH_RESPONSE: "Awaiting batch response",
    S.PENDING_VERIFICATION: "Awaiting verification",
    S.PENDING_PLACEMENT: "Sending",
    S.EXCEPTION_DURING_PREPARATION: "Could not be prepared",
    S.CONNECTION_ERROR: "Store unreachable",
    S.RESPONSE_PROCESSING_ERROR: "Unreadable reply",
    S.GENERIC_ERROR: "Store error, retrying",
    S.OUTCOME_UNKNOWN: "Outcome unknown",
    S.MERGED: "Merged",
    S.CREDIT_CARD_RETRY: "Card declined, retrying",
}
TONES = {
    S.SUCCESS: "ok",
    S.REJECTED: "bad",
    S.CANCELLED: "",
    S.MERGED: "",
    S.UNSENT: "",
    **{s: "warn" for s in IN_PROGRESS},
    **{s: "bad" for s in FAILED},
}
OUTCOMES = {  # PlacementAttempt.outcome, as the attempts table reads it
    Outcome.SENDING: "Sending",
    Outcome.SUCCESS: "Placed",
    Outcome.PENDING_VERIFICATION: "Accepted, to verify",
    Outcome.DECLINED: "Declined",
    Outcome.UNREADABLE: "Unreadable reply",
    Outcome.NOT_SENT: "Not sent",
    Outcome.UNKNOWN: "No reply",
    Outcome.BATCHED: "In batch file",
}
OUTCOME_TONES = {
    Outcome.SUCCESS: "ok",
    Outcome.PENDING_VERIFICATION: "ok",
    Outcome.SENDING: "warn",
    Outcome.BATCHED: "warn",
    Outcome.DECLINED: "bad",
    Outcome.UNREADABLE: "bad",
    Outcome.NOT_SENT: "bad",
    Outcome.UNKNOWN: "bad",
}
PAGE_SIZE = 25
MAX_SEARCH = 200


@dataclass(frozen=True)
class Filters:
    """What the orders list shows: a status group, a place-date range, a search term."""

    status: str = ""
    since: date | None = None
    until: date | None = None
    q: str = ""
    sort: str = "newest"


def filters(
    status: str = "", since: str = "", until: str = "", q: str = "", sort: str = ""
) -> Filters:
    """Read the list's query parameters; an unknown group or sort shows everything, newest
    first; a date that is not YYYY-MM-DD is a ValidationError naming it."""
    term = " ".join((q or "").split())
    if len(term) > MAX_SEARCH:
        raise ValidationError(
            f"Search for at most {MAX_SEARCH} characters.",
            fields={"q": f"At most {MAX_SEARCH} characters."},
        )
    return Filters(
        status=status if status in GROUPS else "",
        since=_day("from", since),
        until=_day("to", until),
        q=term,
        sort=sort if sort in SORTS else "newest",
    )


def _day(name: str, text: str) -> date | None:
    if not text:
        return None
    try:
        return wire.parse_date(text, label=f"The place date {name!r}")
    except wire.WireError as exc:
        raise ValidationError(f"{exc} For example 2030-03-15.", fields={name: str(exc)}) from None


def group_condition(group: str, now: datetime):
    """SQL for "the order is in this status group" (see the module docstring)."""
    if group == "upcoming":
        return Order.status == S.UNSENT
    if group == "placed":
        return Order.status == S.SUCCESS
    if group == "attention":
        return or_(
            Order.status.in_(FAILED),
            and_(
                Order.status == S.REJECTED, Order.updated_at >= now - timedelta(days=ATTENTION_DAYS)
            ),
        )
    if group == "in_progress":
        return Order.status.in_(IN_PROGRESS)
    if group == "rejected":
        return Order.status == S.REJECTED
    return Order.status.in_((S.CANCELLED, S.MERGED))


def _query(merchant_id: int, chosen: Filters, now: datetime) -> Select:
    query = select(Order).where(Order.merchant_id == merchant_id)
    if chosen.status:
        query = query.where(group_condition(chosen.status, now))
    if chosen.since:
        query = query.where(Order.place_date >= chosen.since)
    if chosen.until:
        query = query.where(Order.place_date <= chosen.until)
    if chosen.q:
        query = query.where(_matches(merchant_id, chosen.q))
    return query


def _matches(merchant_id: int, term: str):
    """The order's public id or the store's order id, its customer's user id or email
    (containing ``term``, any case), or one of its products' ids."""
    lowered = term.lower()
    customer = select(Customer.id).where(
        Customer.merchant_id == merchant_id,
        or_(
            func.lower(Customer.merchant_user_id).contains(lowered, autoescape=True),
            func.lower(Customer.email).contains(lowered, autoescape=True),
        ),
    )
    product = exists().where(
        OrderItem.order_id == Order.id,
        OrderItem.product_id == Product.id,
        Product.merchant_id == merchant_id,
        Product.product_id == term,
    )
    return or_(
        Order.public_id == lowered,
        Order.order_merchant_id == term,
        Order.customer_id.in_(customer),
        product,
    )


def page(
    merchant_id: int,
    chosen: Filters,
    *,
    cursor: str | None,
    size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> pagination.Page[Order]:
    """One keyset page of the merchant's orders, with their customer and items loaded."""
    query = _query(merchant_id, chosen, now or utcnow()).options(
        selectinload(Order.customer), selectinload(Order.items).selectinload(OrderItem.product)
    )
    key = Order.id if chosen.sort == "newest" else (Order.place_date, Order.id)
    return pagination.keyset(
        query,
        key,
        scope=f"orders:{merchant_id}:{chosen.sort}",
        cursor=cursor,
        size=size,
        descending=chosen.sort != "place_asc",
    )


def count(merchant_id: int, chosen: Filters, *, now: datetime | None = None) -> int:
    query = _query(merchant_id, chosen, now or utcnow())
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def attempts(merchant_id: int, order_id: int) -> list[PlacementAttempt]:
    """Every send of the order, from the ledger, first attempt first."""
    return list(
        db.session.scalars(
            select(PlacementAttempt)
            .where(
                PlacementAttempt.merchant_id == merchant_id, PlacementAttempt.order_id == order_id
            )
            .order_by(PlacementAttempt.attempt, PlacementAttempt.id)
        )
    )


def for_customer(merchant_id: int, customer_id: int, *, limit: int = 50) -> list[Order]:
    """The customer's orders, latest place date first."""
    return list(
        db.session.scalars(
            select(Order)
            .where(Order.merchant_id == merchant_id, Order.customer_id == customer_id)
            .options(selectinload(Order.items).selectinload(OrderItem.product))
            .order_by(Order.place_date.desc(), Order.id.desc())
            .limit(limit)
        )
    )


# -- the overview ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """The overview's order figures (revenue as display strings, one per currency)."""

    placed_today: int
    attention: int
    in_progress: int
    revenue_today: list[str]
    revenue_week: list[str]


def summary(merchant_id: int, *, now: datetime | None = None) -> Summary:
    now = now or utcnow()
    merchant = db.session.get(Merchant, merchant_id)
    today = _local_midnight(merchant, now)
    placed = and_(Order.merchant_id == merchant_id, Order.status == S.SUCCESS)

    def revenue(since: datetime) -> list[str]:
        rows = db.session.execute(
            select(Order.currency, func.sum(Order.total_minor))
            .where(placed, Order.placed_at >= since)
            .group_by(Order.currency)
            .order_by(Order.currency)
        )
        return [money.display(int(total or 0), currency) for currency, total in rows] or [
            money.display(0, merchant.currency)
        ]

    def number(*conditions) -> int:
        return db.session.scalar(
            select(func.count(Order.id)).where(Order.merchant_id == merchant_id, *conditions)
        )

    return Summary(
        placed_today=number(Order.status == S.SUCCESS, Order.placed_at >= today),
        attention=number(group_condition("attention", now)),
        in_progress=number(group_condition("in_progress", now)),
        revenue_today=revenue(today),
        revenue_week=revenue(today - timedelta(days=6)),
    )


def _local_midnight(merchant: Merchant, now: datetime) -> datetime:
    """The start of the merchant's today, in UTC."""
    local = now.astimezone(merchant.tz).date()
    return datetime.combine(local, time(0), tzinfo=merchant.tz).astimezone(UTC)


# -- placement runs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRow:
    run: PlacementRun
    outcomes: dict[str, int]  # from the ledger: attempts of the run by outcome


def runs(merchant_id: int, *, limit: int = 50) -> list[RunRow]:
    """The merchant's latest placement runs, newest first, with their ledger counts."""
    found = list(
        db.session.scalars(
            select(PlacementRun)
            .where(PlacementRun.merchant_id == merchant_id)
            .order_by(PlacementRun.id.desc())
            .limit(limit)
        )
    )
    counts: dict[int, dict[str, int]] = {run.id: {} for run in found}
    if found:
        rows = db.session.execute(
            select(PlacementAttempt.run_id, PlacementAttempt.outcome, func.count())
            .where(PlacementAttempt.run_id.in_(counts))
            .group_by(PlacementAttempt.run_id, PlacementAttempt.outcome)
        )
        for run_id, outcome, n in rows:
            counts[run_id][outcome] = n
    return [RunRow(run, counts[run.id]) for run in found]
