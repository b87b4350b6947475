"""Orders the platform places for subscribers, and their items."""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.customer import Address, Customer, PaymentMethod
from app.models.product import Product
from app.models.types import UTCDateTime, new_public_id, utcnow


class OrderStatus(IntEnum):
    """Ordergroove's order status codes (contracts §4.3)."""

    UNSENT = 1
    REJECTED = 3
    CANCELLED = 4
    SUCCESS = 5
    SEND_NOW = 6
    PENDING_BATCH_RESPONSE = 9
    PENDING_VERIFICATION = 10
    PENDING_PLACEMENT = 11
    EXCEPTION_DURING_PREPARATION = 12
    CONNECTION_ERROR = 13
    RESPONSE_PROCESSING_ERROR = 14
    GENERIC_ERROR = 15
    OUTCOME_UNKNOWN = 16  # Perennial's: sent, no reply, and the store does not dedupe
    MERGED = 17
    CREDIT_CARD_RETRY = 18


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_merchant_status_place", "merchant_id", "status", "place_date"),
        Index(
            "ix_orders_next_order_pending",
            "merchant_id",
            sqlite_where=text("next_order_pending"),
            postgresql_where=text("next_order_pending"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    shipping_address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment_methods.id"))
    place_date: Mapped[date] = mapped_column(Date, index=True)  # merchant-local calendar date
    status: Mapped[int] = mapped_column(Integer, default=OrderStatus.UNSENT, index=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    sub_total_minor: Mapped[int] = mapped_column(Integer, default=0)
    tax_total_minor: Mapped[int] = mapped_column(Integer, default=0)
    shipping_total_minor: Mapped[int] = mapped_column(Integer, default=0)
    discount_total_minor: Mapped[int] = mapped_column(Integer, default=0)
    total_minor: Mapped[int] = mapped_column(Integer, default=0)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    generic_error_count: Mapped[int] = mapped_column(Integer, default=0)
    order_merchant_id: Mapped[str | None] = mapped_column(String(200))
    rejected_message: Mapped[str | None] = mapped_column(Text)
    extra_data: Mapped[dict] = mapped_column(JSON, default=dict)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While a worker sends it (status PENDING_PLACEMENT): whose claim it is and until when. A
    # claim whose lease ran out belongs to a worker that died mid-request (see placement).
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retry_reason: Mapped[str | None] = mapped_column(String(24))  # why next_attempt_at is set
    # Settled (placed or rejected) and its subscriptions not yet counted nor given their next
    # order: set by the UPDATE that settles it, cleared by ``next_orders.follow_up``.
    next_order_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship()
    shipping_address: Mapped[Address | None] = relationship()
    payment: Mapped[PaymentMethod | None] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )


class OrderItem(db.Model):
    __tablename__ = "order_items"
    # A subscription's nth order holds its item for cycle n: never two orders for one cycle.
    __table_args__ = (UniqueConstraint("subscription_id", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    offer_id: Mapped[str | None] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    price_minor: Mapped[int] = mapped_column(Integer, default=0)
    extra_cost_minor: Mapped[int] = mapped_column(Integer, default=0)
    total_price_minor: Mapped[int] = mapped_column(Integer, default=0)
    one_time: Mapped[bool] = mapped_column(Boolean, default=False)
    cycle: Mapped[int | None] = mapped_column(Integer)  # the subscription's order number
    first_placed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()
