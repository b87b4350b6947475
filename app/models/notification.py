"""Emails to subscribers, queued in an outbox and delivered by a pluggable backend."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, new_public_id, utcnow


class OutboundEmail(db.Model):
    __tablename__ = "outbound_emails"
    __table_args__ = (
        # "Never two reminders for one order": one email per purpose and merchant, ever.
        UniqueConstraint("merchant_id", "dedupe_key"),
        Index("ix_outbound_emails_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable across attempts: the Message-ID and X-Perennial-Email-Id are made from it.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    to_address: Mapped[str | None] = mapped_column(String(254))
    template: Mapped[str] = mapped_column(String(64))  # e.g. "subscription.discontinued_swap"
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))  # e.g. "order.reminder:<id>"
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # queued | sending | sent | failed; ``sending`` is a claim that lapses at next_attempt_at
    transport: Mapped[str | None] = mapped_column(String(16))  # smtp | outbox, once sent
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # queued: not before this (backoff); sending: the claim's lease ends here
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
