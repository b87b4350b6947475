"""Checkouts reported by the purchase POST: subscription vs one-time, and offer conversion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, func, select

from app.extensions import db
from app.models import Customer, PurchaseRequest
from app.models.types import utcnow

ACCEPTED = ("processed", "partial")


@dataclass(frozen=True)
class Summary:
    days: int
    checkouts: int  # accepted checkouts in the window
    with_subscriptions: int
    without_subscriptions: int
    subscriptions_created: int
    held: int
    declined: int

    @property
    def conversion(self) -> float | None:
        """Share of checkouts that started at least one subscription (None: no checkouts)."""
        return self.with_subscriptions / self.checkouts if self.checkouts else None


def summary(merchant_id: int, days: int = 30) -> Summary:
    since = utcnow() - timedelta(days=days)
    accepted = PurchaseRequest.status.in_(ACCEPTED)
    row = db.session.execute(
        select(
            func.count().filter(accepted),
            func.count().filter(accepted, PurchaseRequest.subscription_checkout.is_(True)),
            func.coalesce(
                func.sum(case((accepted, PurchaseRequest.subscriptions_created), else_=0)), 0
            ),
            func.count().filter(PurchaseRequest.status == "held"),
            func.count().filter(PurchaseRequest.status == "declined"),
        ).where(PurchaseRequest.merchant_id == merchant_id, PurchaseRequest.created_at >= since)
    ).one()
    total, subs, created, held, declined = (int(v or 0) for v in row)
    return Summary(days, total, subs, total - subs, created, held, declined)


def recent(merchant_id: int, limit: int = 50) -> list[tuple[PurchaseRequest, str | None]]:
    """The latest checkouts with their customer's user id (None while held)."""
    rows = db.session.execute(
        select(PurchaseRequest, Customer.merchant_user_id)
        .outerjoin(Customer, Customer.id == PurchaseRequest.customer_id)
        .where(PurchaseRequest.merchant_id == merchant_id)
        .order_by(PurchaseRequest.id.desc())
        .limit(limit)
    )
    return [(row, user_id) for row, user_id in rows]
