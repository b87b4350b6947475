"""The merchant's catalog, as the feed says it plus the merchant's overrides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("merchant_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the (merchant_id, product_id) unique key, whose first column it is.
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    product_id: Mapped[str] = mapped_column(String(64))  # the merchant's id (feed product_id)
    sku: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(1024))
    price_minor: Mapped[int] = mapped_column(BigInteger)  # up to 99999999.99 (contracts §1.3)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    details_url: Mapped[str | None] = mapped_column(String(2000))
    image_url: Mapped[str | None] = mapped_column(String(2000))
    autoship_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    in_stock: Mapped[bool] = mapped_column(Boolean, default=True)
    discontinued: Mapped[bool] = mapped_column(Boolean, default=False)
    every: Mapped[int | None] = mapped_column(Integer)
    every_period: Mapped[int | None] = mapped_column(Integer)  # 1 day, 2 week, 3 month
    product_type: Mapped[str | None] = mapped_column(String(32))
    extra_data: Mapped[dict] = mapped_column(JSON, default=dict)
    replacement_product_id: Mapped[str | None] = mapped_column(String(64))
    replacement_silent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Merchant overrides from the console (None = follow the feed).
    eligible_override: Mapped[bool | None] = mapped_column(Boolean)
    upsell_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    default_every: Mapped[int | None] = mapped_column(Integer)
    default_every_period: Mapped[int | None] = mapped_column(Integer)
    allowed_frequencies: Mapped[list | None] = mapped_column(JSON)
    in_latest_feed: Mapped[bool] = mapped_column(Boolean, default=True)
    # Digest of the feed values last ingested, so an unchanged product costs no write.
    feed_hash: Mapped[str | None] = mapped_column(String(40))
    last_feed_run_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    groups: Mapped[list[ProductGroup]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductGroup.id"
    )  # in feed order

    @property
    def subscription_eligible(self) -> bool:
        override = self.eligible_override
        eligible = self.autoship_eligible if override is None else override
        return bool(eligible) and not self.discontinued


class ProductGroup(db.Model):
    """Membership of a product in a named group (``sku_swap``, ``incentive``)."""

    __tablename__ = "product_groups"
    __table_args__ = (UniqueConstraint("product_id", "group_type", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    group_type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))

    product: Mapped[Product] = relationship(back_populates="groups")
