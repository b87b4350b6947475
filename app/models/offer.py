"""Offers (how subscribe-and-save is presented at each page location) and shoppers' opt-ins.

An ``Offer`` is the merchant's configuration for one ``location`` of the page tag
(``<og-offer location="pdp">``): the UI type, the copy, the frequencies and which incentives it
advertises. Every merchant has a ``default`` offer, used where no location-specific one exists.

An ``OptIn`` is a shopper's choice, tracked server-side per storefront session
(``og_session_id``) and product, so the purchase POST only needs the session id (contracts §2.3).
Frequencies are ``"<every>_<every_period>"`` strings (period 1 day, 2 week, 3 month, 4 year).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, new_public_id, utcnow

OFFER_TYPES = ("radio", "toggle", "select")
DEFAULT_LOCATION = "default"
DEFAULT_FREQUENCIES = ["2_2", "4_2", "6_2", "2_3"]
DEFAULT_FREQUENCY = "4_2"


class Offer(db.Model):
    __tablename__ = "offers"
    __table_args__ = (UniqueConstraint("merchant_id", "location"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    location: Mapped[str] = mapped_column(String(40))
    offer_type: Mapped[str] = mapped_column(String(8), default="radio")
    optin_label: Mapped[str] = mapped_column(String(200), default="Subscribe and save")
    optout_label: Mapped[str] = mapped_column(String(200), default="One-time purchase")
    every_label: Mapped[str] = mapped_column(String(100), default="Deliver every")
    tooltip_trigger: Mapped[str] = mapped_column(String(100), default="How subscriptions work")
    tooltip: Mapped[str] = mapped_column(
        Text,
        default=(
            "Get this delivered on your schedule. Skip, change or cancel any time from your "
            "account; no commitment."
        ),
    )
    show_tooltip: Mapped[bool] = mapped_column(Boolean, default=True)
    frequencies: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_FREQUENCIES))
    default_frequency: Mapped[str] = mapped_column(String(16), default=DEFAULT_FREQUENCY)
    # Public ids of the incentives the offer advertises; None = every live one for the product.
    incentive_ids: Mapped[list | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Offer {self.location} {self.public_id}>"


class OptIn(db.Model):
    __tablename__ = "opt_ins"
    __table_args__ = (UniqueConstraint("merchant_id", "session_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    session_id: Mapped[str] = mapped_column(String(80))
    product_id: Mapped[str] = mapped_column(String(64))  # the merchant's product id
    offer_id: Mapped[str] = mapped_column(String(32))  # the offer's public id
    every: Mapped[int] = mapped_column(Integer)
    every_period: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def frequency(self) -> str:
        return f"{self.every}_{self.every_period}"
