"""The merchant (tenant), its staff and its API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, new_public_id, utcnow

HASH_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#&*-_{}"


def new_hash_key() -> str:
    """Return a 32-character secret (32 bytes, so it is also a valid AES-256 key)."""
    return "".join(secrets.choice(HASH_KEY_ALPHABET) for _ in range(32))


class Merchant(db.Model):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(200))
    # The shared secret for HMAC and AES (contracts §0); never logged or rendered unasked.
    hash_key: Mapped[str] = mapped_column(String(64), default=new_hash_key)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    placement_hour: Mapped[int | None] = mapped_column(Integer, default=6)  # None: never
    order_endpoint_url: Mapped[str | None] = mapped_column(String(500))
    # Placement (contracts §6): how orders reach the store and what happens when they fail.
    placement_mode: Mapped[str] = mapped_column(String(8), default="api")  # api | batch
    order_timeout_seconds: Mapped[int] = mapped_column(Integer, default=15)
    # The store declared it deduplicates on orderPublicId, so a send whose outcome is unknown
    # may go again by itself; otherwise it waits for staff.
    endpoint_dedupes: Mapped[bool] = mapped_column(Boolean, default=False)
    reminder_days: Mapped[int] = mapped_column(Integer, default=5)
    card_type_names: Mapped[dict | None] = mapped_column(JSON)  # {"1": "VISA", …} overrides
    cc_retry_days: Mapped[int] = mapped_column(Integer, default=3)
    cc_retries: Mapped[int] = mapped_column(Integer, default=2)
    generic_retries: Mapped[int] = mapped_column(Integer, default=3)
    connection_retry_days: Mapped[int] = mapped_column(Integer, default=90)
    allowed_origins: Mapped[list] = mapped_column(JSON, default=list)
    # [{code, reason, requires_text}] a subscriber picks from to cancel; None: the defaults
    # (``services.cancel_reasons``).
    cancel_reasons: Mapped[list | None] = mapped_column(JSON)
    # The Subscription Manager (contracts §4): the store's authentication page, which msi.js
    # loads in a hidden iframe first when set (it sets og_auth), and what the dashboard offers:
    # {"quantities": [1, 2, ...], "pause": bool, "skip": bool, "swap": bool,
    #  "save_offer": {"kind": "skip" | "frequency" | "discount", ...} | None}; None: defaults.
    auth_page_url: Mapped[str | None] = mapped_column(String(500))
    dashboard_settings: Mapped[dict | None] = mapped_column(JSON)
    # Instant upsell (contracts §2.1): the offer locations where a signed-in subscriber with an
    # upcoming order is offered "add to your next order" instead of the standard offer.
    upsell_locations: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    staff: Mapped[list[StaffUser]] = relationship(back_populates="merchant")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def __repr__(self) -> str:
        return f"<Merchant {self.public_id}>"


class StaffUser(db.Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="staff")  # owner | staff
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    merchant: Mapped[Merchant] = relationship(back_populates="staff")

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


def hash_api_key(raw: str) -> str:
    """API keys are high-entropy, so a plain SHA-256 is the right lookup hash."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiKey(db.Model):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))  # shown in the console to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    merchant: Mapped[Merchant] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None
