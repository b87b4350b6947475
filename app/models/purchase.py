"""Purchase POST requests: every checkout the store reports, with what it created.

One row per accepted ``merchant_order_id`` (unique per merchant: the idempotency key, and the
guard that makes two identical requests arriving together create things once). Refused
requests (400) leave no row, so the store can fix and resend the same order id.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

STATUSES = ("held", "processed", "partial", "declined")


def new_request_id() -> str:
    """24 hex digits, the shape of Ordergroove's ``subs_req_id``."""
    return secrets.token_hex(12)


class PurchaseRequest(db.Model):
    __tablename__ = "purchase_requests"
    __table_args__ = (UniqueConstraint("merchant_id", "merchant_order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True, default=new_request_id)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    merchant_order_id: Mapped[str] = mapped_column(String(200))
    session_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # one of STATUSES
    http_status: Mapped[int] = mapped_column(Integer)
    # The checkout had at least one subscription line (conversion reporting).
    subscription_checkout: Mapped[bool] = mapped_column(Boolean, default=False)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    subscriptions_created: Mapped[int] = mapped_column(Integer, default=0)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    # Held requests (``processed: false``) keep the payload until verified; then it is dropped.
    payload: Mapped[dict | None] = mapped_column(JSON)
    response: Mapped[dict] = mapped_column(JSON, default=dict)  # GET .../response body
    source: Mapped[str | None] = mapped_column(String(64))  # "api_key" or "signature"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
