"""A subscription: one product, a frequency, and exactly one upcoming order."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain import frequency
from app.extensions import db
from app.models.customer import Address, Customer, PaymentMethod
from app.models.product import Product
from app.models.types import UTCDateTime, new_public_id, utcnow


class Subscription(db.Model):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    offer_id: Mapped[str | None] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    # A locked price in minor units; None means the product's current price applies.
    price_minor: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    every: Mapped[int] = mapped_column(Integer)
    every_period: Mapped[int] = mapped_column(Integer)
    shipping_address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment_methods.id"))
    start_date: Mapped[date] = mapped_column(Date)
    live: Mapped[bool] = mapped_column(Boolean, default=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancel_reason_code: Mapped[int | None] = mapped_column(Integer)
    iteration: Mapped[int] = mapped_column(Integer, default=0)
    reminder_days: Mapped[int | None] = mapped_column(Integer)
    subscription_type: Mapped[str] = mapped_column(String(32), default="standard")
    merchant_order_id: Mapped[str | None] = mapped_column(String(200), index=True)
    session_id: Mapped[str | None] = mapped_column(String(200))
    extra_data: Mapped[dict] = mapped_column(JSON, default=dict)
    # The ongoing incentives the shopper was promised at checkout (public ids).
    incentive_ids: Mapped[list] = mapped_column(JSON, default=list)
    # How the purchase POST shaped it (contracts §5.2): legacy ``components`` (product ids),
    # ``bundle`` ([{product, quantity}] of a multi-item bundle) and, for prepaid
    # subscriptions, ``orders_per_billing`` and ``renewal_behavior``.
    plan: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship()
    product: Mapped[Product] = relationship()
    shipping_address: Mapped[Address | None] = relationship()
    payment: Mapped[PaymentMethod | None] = relationship()

    @property
    def frequency_label(self) -> str:
        return frequency.label(self.every, self.every_period)
