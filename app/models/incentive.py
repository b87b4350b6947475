"""Incentives (promotions): the discounts, shipping rules and gifts a merchant offers subscribers.

Units, so nobody has to guess:

* ``percent_bp`` is a percentage in basis points: 1000 = 10 %, 1250 = 12.5 %, 10000 = 100 %.
* ``amount_minor`` (the fixed discount, or the flat shipping rate) and ``threshold_minor`` (the
  minimum subtotal) are integer minor units of ``currency``.
* Order numbers count every order of a subscription, the initial (checkout) order being 1, so
  ``min_order_number=3`` means "from the 3rd order on". A tier ladder ("10 % on orders 1-2, 15 %
  from the 3rd") is two incentives with adjacent windows; the pricing function picks the best.

How they combine is the pricing function's business (``app.services.pricing``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.product import Product
from app.models.types import UTCDateTime, new_public_id, utcnow

KINDS = ("percent_off", "fixed_off", "free_shipping", "flat_rate_shipping", "gift")
DISCOUNT_KINDS = ("percent_off", "fixed_off")
SHIPPING_KINDS = ("free_shipping", "flat_rate_shipping")
SCOPES = ("item", "order")
APPLIES_TO = ("initial", "ongoing", "both")
TARGETS = ("all", "group", "products")


class Incentive(db.Model):
    __tablename__ = "incentives"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))  # one of KINDS
    scope: Mapped[str] = mapped_column(String(8), default="item")  # discounts only; else "order"
    applies_to: Mapped[str] = mapped_column(String(8), default="both")  # initial|ongoing|both
    percent_bp: Mapped[int | None] = mapped_column(Integer)  # basis points (percent_off)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)  # fixed_off, flat_rate_shipping
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    threshold_minor: Mapped[int | None] = mapped_column(BigInteger)  # minimum subtotal
    gift_product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    target: Mapped[str] = mapped_column(String(8), default="all")  # all | group | products
    target_group: Mapped[str | None] = mapped_column(String(200))  # ProductGroup "incentive" name
    target_product_ids: Mapped[list | None] = mapped_column(JSON)  # merchant product_id strings
    min_order_number: Mapped[int | None] = mapped_column(Integer)  # inclusive; None = from 1
    max_order_number: Mapped[int | None] = mapped_column(Integer)  # inclusive; None = no end
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # inclusive
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # exclusive
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    gift_product: Mapped[Product | None] = relationship()

    def __repr__(self) -> str:
        return f"<Incentive {self.public_id} {self.kind}>"
