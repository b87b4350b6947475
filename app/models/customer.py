"""Subscribers as the merchant knows them, with their addresses and payment tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, new_public_id, utcnow


class Customer(db.Model):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("merchant_id", "merchant_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    merchant_user_id: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone_number: Mapped[str | None] = mapped_column(String(50))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    live: Mapped[bool] = mapped_column(Boolean, default=True)
    extra_data: Mapped[dict] = mapped_column(JSON, default=dict)  # the store's, as sent
    locale: Mapped[str | None] = mapped_column(String(16))  # e.g. "en-us" (contracts §7.3)
    price_code: Mapped[str | None] = mapped_column(String(64))  # the store's, kept as sent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    addresses: Mapped[list[Address]] = relationship(back_populates="customer")
    payments: Mapped[list[PaymentMethod]] = relationship(back_populates="customer")


class Address(db.Model):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    company_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    address2: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(200))
    state_province_code: Mapped[str | None] = mapped_column(String(50))
    zip_postal_code: Mapped[str | None] = mapped_column(String(20))
    country_code: Mapped[str | None] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(50))
    # A digest of the normalised fields, so a repeated address is matched, not duplicated.
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    live: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="addresses")


class PaymentMethod(db.Model):
    """A gateway token plus AES-encrypted card fields; a card number is never stored."""

    __tablename__ = "payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    token_id: Mapped[str] = mapped_column(String(500))
    cc_type: Mapped[int | None] = mapped_column(Integer)  # 1 Visa, 2 MC, 3 Amex, 4 Discover...
    payment_method: Mapped[str] = mapped_column(String(32), default="credit card")
    cc_exp_date_enc: Mapped[str | None] = mapped_column(String(200))
    cc_holder_enc: Mapped[str | None] = mapped_column(String(400))
    cc_last4_enc: Mapped[str | None] = mapped_column(String(200))
    # Plain month/year of expiry, for expiring-card notices without decrypting.
    expiry_month: Mapped[int | None] = mapped_column(Integer)
    expiry_year: Mapped[int | None] = mapped_column(Integer)
    billing_address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    live: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="payments")
