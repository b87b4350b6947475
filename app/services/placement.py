"""Recurring order placement (contracts §6): find the due orders, send each exactly once.

A run is one pass over one merchant's due orders, at the merchant's placement hour or later in
the merchant's own timezone (the hourly cron), or now (``flask placement run``). Due: upcoming
orders whose place date (merchant-local) is the run's date or earlier, orders in SEND_NOW, and
retries whose time has come. Each order is then placed by ``place`` in whatever worker picks its
batch up, and the exactly-once rules live there:

1. **Claim** with a conditional UPDATE (``services.claims``): the order must still be due; it
   becomes PENDING_PLACEMENT with a lease token and a lease end, and its ``tries`` goes up.
   Any number of workers, runs or cron fires may try; one wins.
2. **Ledger first**: the attempt row (order, attempt number, XML with card fields masked) is
   committed before the request leaves, in one transaction with what got the order ready and
   a conditional UPDATE that the claim is still ours (renewing its lease from that moment): a
   worker that stalled past its lease sends nothing. ``(order, attempt)`` is unique.
3. **Send** with a bounded timeout (``integrations.orders_http``), always with the order's one
   public id, so a store that deduplicates can.
4. **Act on the reply** (``placement_outcomes``) only while our lease token is still the
   order's: whoever recovered the order after our lease ran out decides instead.
5. **Recovery**: an order still PENDING_PLACEMENT after its lease was claimed by a worker that
   died. If its last attempt never left (no ledger row) it is due again. If it may have reached
   the store, it goes again by itself only where the merchant declared that its endpoint
   deduplicates on the public id; otherwise it waits as OUTCOME_UNKNOWN until staff confirm it
   placed or send it again (the official receivers do not deduplicate). Each run starts
   with it (``placement_recovery``).

In batch mode (contracts §6.6) a run's due orders are placed by one job that writes them to one
file in the merchant's SFTP ``outgoing/`` (``placement_batch``; a run of more than
``BATCH_FILE_ORDERS`` orders writes one file per as many); the store's response files are
applied by ``placement_responses``.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from rq import Callback
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.jobs import queue
from app.models import Merchant, Order, OrderStatus, PlacementAttempt, PlacementRun
from app.models.types import utcnow
from app.services import claims, events, placement_recovery
from app.services.errors import ValidationError

# Orders per RQ job: enough to amortise a job (a forked work-horse starts with the statement
# cache empty: ~0.2 s of CPU), small enough to spread a run over the workers.
BATCH_SIZE = 500
# Batch mode: a run's due orders go in one file, written by one job, up to BATCH_FILE_ORDERS
# (then one more file per as many): at ~50-100 ms an order that job ends well within its time.
BATCH_FILE_ORDERS = 5000
BATCH_FILE_TIMEOUT = 3600  # seconds
LEASE_MARGIN = 60.0  # seconds beyond the request's own timeout (PLACEMENT_LEASE_MARGIN_SECONDS)
RETRY_STATUSES = (
    OrderStatus.CONNECTION_ERROR,
    OrderStatus.GENERIC_ERROR,
    OrderStatus.CREDIT_CARD_RETRY,
)
SYSTEM = events.Actor("system", "placement", "placement")
ON_FAILURE = Callback("app.jobs.placement.batch_failed")  # see batch_stopped


@dataclass(frozen=True)
class Report:
    """What a run did, by outcome (for the CLI, the console and the benchmark)."""

    run: PlacementRun
    due: int
    outcomes: dict[str, int]

    def lines(self) -> list[str]:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())) or "nothing"
        return [
            f"run {self.run.public_id} for {self.run.as_of.isoformat()}: {self.due} due; {counts}"
        ]


def worker_name() -> str:
    """Who holds a claim, for the ledger: host and process."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


# -- which merchants, which orders -----------------------------------------------------------


def local_today(merchant: Merchant, now: datetime) -> date:
    return now.astimezone(merchant.tz).date()


def placing_now(merchant: Merchant, now: datetime) -> bool:
    """Whether the merchant's placement hour has come today, in its own timezone."""
    if merchant.placement_hour is None:
        return False  # "never": placement is switched off
    return now.astimezone(merchant.tz).hour >= merchant.placement_hour


def due_condition(merchant_id: int, as_of: date, now: datetime):
    """SQL for "this order is due on ``as_of`` at ``now``" (the claim re-checks it)."""
    return and_(
        Order.merchant_id == merchant_id,
        or_(
            and_(Order.status == OrderStatus.UNSENT, Order.place_date <= as_of),
            Order.status == OrderStatus.SEND_NOW,
            and_(
                Order.status.in_(RETRY_STATUSES),
                or_(Order.next_attempt_at.is_(None), Order.next_attempt_at <= now),
            ),
        ),
    )


def due_orders(merchant_id: int, as_of: date, now: datetime) -> list[int]:
    query = (
        select(Order.id)
        .where(due_condition(merchant_id, as_of, now))
        .order_by(Order.place_date, Order.id)
    )
    return list(db.session.scalars(query))


def placing_merchants(*, as_of: date | None, now: datetime | None = None) -> list[Merchant]:
    """The merchants a run covers now: placing switched on, somewhere to send orders, and
    (unless rehearsing a date) their placement hour come."""
    now = now or utcnow()
    found = db.session.scalars(
        select(Merchant).where(Merchant.placement_hour.is_not(None)).order_by(Merchant.id)
    )
    return [
        m
        for m in found
        if (m.order_endpoint_url or m.placement_mode == "batch")
        and (as_of is not None or placing_now(m, now))
    ]


# -- runs ------------------------------------------------------------------------------------


def schedule_all(now: datetime | None = None) -> list[PlacementRun]:
    """The hourly cron: start a run for every merchant whose placement hour has come."""
    now = now or utcnow()
    slot = now.strftime("%Y-%m-%dT%H")
    runs = []
    for merchant in placing_merchants(as_of=None, now=now):
        run = start(
            merchant.id, trigger="cron", slot=slot, as_of=local_today(merchant, now), now=now
        )
        if run is not None:
            runs.append(run)
    return runs


def start(
    merchant_id: int, *, trigger: str, as_of: date, now: datetime, slot: str | None = None
) -> PlacementRun | None:
    """Record a run, recover stale claims, and queue the due orders in batches.

    None when this slot already has its run (a second cron fire in the same hour).
    """
    begun = _begin(merchant_id, trigger=trigger, as_of=as_of, now=now, slot=slot)
    if begun is None:
        return None
    run, due = begun
    merchant = db.session.get(Merchant, merchant_id)
    if merchant.placement_mode == "batch":  # one job writes one file
        for chunk in _chunks(due, BATCH_FILE_ORDERS):
            queue.enqueue(
                "app.jobs.placement.place_batch",
                run.id,
                chunk,
                as_of.isoformat(),
                job_timeout=BATCH_FILE_TIMEOUT,
                on_failure=ON_FAILURE,
            )
        return run
    for chunk in _chunks(due, BATCH_SIZE):
        queue.enqueue(
            "app.jobs.placement.place_batch",
            run.id,
            chunk,
            as_of.isoformat(),
            job_timeout=job_timeout(merchant, len(chunk)),
            on_failure=ON_FAILURE,
        )
    return run


def run_now(
    merchant_id: int,
    *,
    as_of: date | None = None,
    trigger: str = "cli",
    now: datetime | None = None,
) -> Report:
    """Place the merchant's due orders in this process (``flask placement run``)."""
    now = now or utcnow()
    merchant = db.session.get(Merchant, merchant_id)
    as_of = as_of or local_today(merchant, now)
    run, due = _begin(merchant_id, trigger=trigger, as_of=as_of, now=now)
    place_batch(run.id, due, as_of, now=now)  # the orders it counted: then it finishes
    return report(run.id)


def _begin(
    merchant_id: int, *, trigger: str, as_of: date, now: datetime, slot: str | None = None
) -> tuple[PlacementRun, list[int]] | None:
    """Record the run (None if its slot is taken), recover stale claims, count the due orders."""
    run = PlacementRun(
        merchant_id=merchant_id,
        trigger=trigger,
        as_of=as_of,
        slot=slot or f"{trigger}:{secrets.token_hex(8)}",
        started_at=now,
    )
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    merchant = db.session.get(Merchant, merchant_id)
    placement_recovery.recover(merchant, now)
    due = due_orders(merchant_id, as_of, now)
    run.due = len(due)
    if not due:  # no batch will come to finish it
        run.status, run.finished_at = "finished", now
    db.session.commit()
    return run, due


def place_batch(
    run_id: int, order_ids: list[int], as_of: date, *, now: datetime | None = None
) -> None:
    """Place each order of a batch (an RQ job's work); the last batch finishes the run."""
    from app.services import placement_send  # it imports this module

    placement_send.place_all(order_ids, run_id=run_id, as_of=as_of, worker=worker_name(), now=now)
    db.session.execute(
        update(PlacementRun)
        .where(PlacementRun.id == run_id)
        .values(processed=PlacementRun.processed + len(order_ids))
    )
    db.session.commit()
    claims.claim(
        PlacementRun,
        run_id,
        PlacementRun.status == "running",
        PlacementRun.processed >= PlacementRun.due,
        status="finished",
        finished_at=utcnow(),
    )


def batch_stopped(run_id: int, order_ids: list[int]) -> None:
    """A batch's job ended without finishing (it raised, ran out of time, or its work-horse or
    worker died): its orders count as handled and the run is "interrupted", so the console
    does not show it running for ever. Its orders are settled as usual: claimed ones by
    recovery once their leases end, the others at the next run."""
    db.session.rollback()  # whatever the job left open
    db.session.execute(
        update(PlacementRun)
        .where(PlacementRun.id == run_id, PlacementRun.status != "finished")
        .values(processed=PlacementRun.processed + len(order_ids), status="interrupted")
    )
    db.session.commit()


def place_one(order_id: int, as_of: date) -> str | None:
    from app.services import placement_send  # it imports this module

    return placement_send.place(order_id, run_id=None, as_of=as_of, worker=worker_name())


def place_soon(order_id: int, *, now: datetime | None = None) -> None:
    """Queue one order to be placed at once, outside any run (the console's "retry now")."""
    order = db.session.get(Order, order_id)
    merchant = db.session.get(Merchant, order.merchant_id)
    queue.enqueue(
        "app.jobs.placement.place_order",
        order_id,
        local_today(merchant, now or utcnow()).isoformat(),
        job_timeout=job_timeout(merchant, 1),
    )


def report(run_id: int) -> Report:
    """The run's counts by outcome, read from the ledger (the one source of truth)."""
    db.session.expire_all()
    run = db.session.get(PlacementRun, run_id)
    rows = db.session.execute(
        select(PlacementAttempt.outcome, func.count())
        .where(PlacementAttempt.run_id == run_id)
        .group_by(PlacementAttempt.outcome)
    )
    return Report(run=run, due=run.due, outcomes={outcome: n for outcome, n in rows})


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def lease_for(merchant: Merchant) -> timedelta:
    """How long a claim holds: twice the request's timeout, plus a margin for the database work
    around it (config ``PLACEMENT_LEASE_MARGIN_SECONDS``: the fault tests shorten it)."""
    margin = float(current_app.config.get("PLACEMENT_LEASE_MARGIN_SECONDS", LEASE_MARGIN))
    return timedelta(seconds=merchant.order_timeout_seconds * 2 + margin)


def job_timeout(merchant: Merchant, orders: int) -> int:
    """Seconds an RQ job placing ``orders`` orders may run: a lease each. RQ's default (180 s)
    would kill a batch to a slow store in the middle of a request, leaving that order's outcome
    unknown and the rest of the batch for the next run."""
    return int(orders * lease_for(merchant).total_seconds()) + 1


def check_as_of(text: str | None) -> date | None:
    """``--as-of YYYY-MM-DD`` for rehearsals (ValidationError otherwise)."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError("--as-of must be a date such as 2026-12-24.") from None
