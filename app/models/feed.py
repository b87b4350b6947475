"""Product feed runs and the SFTP credentials merchants upload them with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, new_public_id, utcnow

RUN_STATES = ("claiming", "queued", "running", "succeeded", "rejected", "failed")


class SftpAccount(db.Model):
    """A merchant's login to the SFTP drop site; the home is ``<SFTP_ROOT>/<username>``."""

    __tablename__ = "sftp_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    authorized_keys: Mapped[str | None] = mapped_column(Text)  # OpenSSH public key lines
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FeedRun(db.Model):
    """One ingestion of one file: its outcome, counts, timing and error report."""

    __tablename__ = "feed_runs"
    __table_args__ = (Index("ix_feed_runs_merchant_created", "merchant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | console | cli
    requested_by: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    file_name: Mapped[str | None] = mapped_column(String(300))
    file_bytes: Mapped[int | None] = mapped_column(Integer)
    archive_path: Mapped[str | None] = mapped_column(String(1000))
    report_path: Mapped[str | None] = mapped_column(String(1000))
    error: Mapped[str | None] = mapped_column(Text)  # why a whole file was rejected
    received: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    discontinued: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    job_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    errors: Mapped[list[FeedRunError]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="FeedRunError.line"
    )

    @property
    def active(self) -> bool:
        return self.status in ("claiming", "queued", "running")


class FeedRunError(db.Model):
    """A rejected product (the first ``MAX_STORED_ERRORS`` of a run; the CSV has all)."""

    __tablename__ = "feed_run_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("feed_runs.id", ondelete="CASCADE"), index=True)
    line: Mapped[int | None] = mapped_column(Integer)
    product_id: Mapped[str | None] = mapped_column(String(200))
    field: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)

    run: Mapped[FeedRun] = relationship(back_populates="errors")
