"""Order placement: each run of the schedule, and the ledger of every attempt to send an order.

The ledger is what makes "exactly once" checkable: an attempt row is written (and committed)
before the order leaves, so a worker that dies mid-request leaves an attempt whose outcome is
unknown, never a silent gap. ``(order_id, attempt)`` is unique: one attempt number, one send.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.order import Order
from app.models.types import UTCDateTime, new_public_id, utcnow


class Outcome:
    """What one attempt came to (``PlacementAttempt.outcome``)."""

    SENDING = "sending"  # written before the request leaves; stays so if the worker dies
    SUCCESS = "success"
    PENDING_VERIFICATION = "pending_verification"  # SUCCESS + responseCode 010
    DECLINED = "declined"  # an ERROR reply (errorCode says which)
    UNREADABLE = "unreadable"  # a reply that is not the contract's XML
    NOT_SENT = "not_sent"  # refused connection, DNS, connect timeout: nothing reached the store
    UNKNOWN = "unknown"  # the request may have reached the store; no reply was read
    BATCHED = "batched"  # written to the merchant's batch file
    ALL = (SENDING, SUCCESS, PENDING_VERIFICATION, DECLINED, UNREADABLE, NOT_SENT, UNKNOWN, BATCHED)


class PlacementRun(db.Model):
    """One placement pass over a merchant's due orders (cron, CLI or console)."""

    __tablename__ = "placement_runs"
    __table_args__ = (UniqueConstraint("merchant_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    # What makes a scheduled run unique: "2026-12-07T14" (the UTC hour) for cron, a random
    # token for runs started by hand. A second cron fire of the same hour finds its run taken.
    slot: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(16))  # cron | cli | console
    as_of: Mapped[date] = mapped_column(Date)  # the merchant-local date it placed for
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | finished
    due: Mapped[int] = mapped_column(Integer, default=0)  # orders queued for it
    processed: Mapped[int] = mapped_column(Integer, default=0)  # of those, handled by a worker
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlacementAttempt(db.Model):
    """One try at sending one order: when, what was sent (card fields masked), what came back."""

    __tablename__ = "placement_attempts"
    __table_args__ = (
        UniqueConstraint("order_id", "attempt"),
        Index("ix_placement_attempts_run_outcome", "run_id", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("placement_runs.id"))
    attempt: Mapped[int] = mapped_column(Integer)  # 1, 2, …: the order's ``tries`` when sent
    worker: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(24), default=Outcome.SENDING)
    http_status: Mapped[int | None] = mapped_column(Integer)
    reply_code: Mapped[str | None] = mapped_column(String(16))  # SUCCESS | ERROR | …
    error_code: Mapped[str | None] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)  # the store's errorMsg, or what failed
    store_order_id: Mapped[str | None] = mapped_column(String(200))
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    request_xml: Mapped[str | None] = mapped_column(Text)  # as sent, card fields masked
    reply_body: Mapped[str | None] = mapped_column(Text)  # the first few KB of the reply
    # Batch mode: the file the order was written to (its answer comes in a response file).
    batch_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("placement_batch_files.id"), index=True
    )

    order: Mapped[Order] = relationship()


class BatchFile(db.Model):
    """A batch-mode file (contracts §6.6): orders Perennial wrote to the merchant's
    ``outgoing/``, or a response file the store uploaded to ``incoming/``."""

    __tablename__ = "placement_batch_files"
    # Two runs in the same second must not write one name: the second takes the next second.
    # (A store may upload a response under a name it used before: those repeat.)
    __table_args__ = (
        Index(
            "uq_placement_batch_files_orders_name",
            "merchant_id",
            "file_name",
            unique=True,
            sqlite_where=text("kind = 'orders'"),
            postgresql_where=text("kind = 'orders'"),
        ),
        Index("ix_placement_batch_files_merchant_created", "merchant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("placement_runs.id"))
    kind: Mapped[str] = mapped_column(String(16))  # orders | response
    # orders: writing | written | failed;  response: claiming | claimed | applied | rejected
    status: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str | None] = mapped_column(String(300))  # orders: set once named
    orders: Mapped[int] = mapped_column(Integer, default=0)  # orders written, records read
    # A response's records by result (applied, unknown, not_waiting, bad, failed) and the
    # first problems found (line, ogOrderId, reason), for the console and the merchant.
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    problems: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)  # why the whole file failed or was refused
    path: Mapped[str | None] = mapped_column(String(1000))  # published, archived or set aside
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
