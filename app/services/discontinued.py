"""Discontinued products: swap their live subscriptions to the replacement, or cancel them."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Order, OrderItem, OrderStatus, Product, Subscription
from app.models.types import utcnow
from app.services import events, notifications

CANCEL_REASON = "Product discontinued"


def apply(merchant_id: int, product_ids: list[int], run_public_id: str) -> int:
    """Handle every live subscription to the given products; return how many were touched."""
    if not product_ids:
        return 0
    actor = events.Actor("system", "feed", f"feed run {run_public_id}")
    touched = 0
    for start in range(0, len(product_ids), 500):
        chunk = product_ids[start : start + 500]
        subs = db.session.scalars(
            select(Subscription).where(
                Subscription.merchant_id == merchant_id,
                Subscription.product_id.in_(chunk),
                Subscription.live.is_(True),
            )
        ).all()
        for sub in subs:
            target = _replacement(merchant_id, sub.product)
            if target is not None:
                _swap(sub, target, actor)
            else:
                _cancel(sub, actor)
            touched += 1
    return touched


def _replacement(merchant_id: int, product: Product) -> Product | None:
    if not product.replacement_product_id:
        return None
    target = db.session.scalar(
        select(Product).where(
            Product.merchant_id == merchant_id, Product.product_id == product.replacement_product_id
        )
    )
    if target is None or target.discontinued or target.id == product.id:
        return None
    return target


def _upcoming_items(sub: Subscription) -> list[OrderItem]:
    return list(
        db.session.scalars(
            select(OrderItem)
            .join(Order)
            .where(OrderItem.subscription_id == sub.id, Order.status == OrderStatus.UNSENT)
        )
    )


def _swap(sub: Subscription, target: Product, actor: events.Actor) -> None:
    old = sub.product
    sub.product_id = target.id
    for item in _upcoming_items(sub):
        item.product_id = target.id
    events.record(
        sub.merchant_id,
        "subscription.sku_swap",
        actor,
        object_type="subscription",
        object_id=sub.public_id,
        customer_id=sub.customer_id,
        before={"product": old.product_id},
        after={"product": target.product_id, "reason": CANCEL_REASON},
    )
    if not old.replacement_silent:
        notifications.queue_email(
            sub.merchant_id,
            sub.customer,
            "subscription.discontinued_swap",
            product=old.name,
            replacement=target.name,
            subscription=sub.public_id,
        )


def _cancel(sub: Subscription, actor: events.Actor) -> None:
    sub.live = False
    sub.cancelled_at = utcnow()
    sub.cancel_reason = CANCEL_REASON
    for item in _upcoming_items(sub):
        order = item.order
        db.session.delete(item)
        db.session.flush()
        db.session.refresh(order)  # another subscription may have left this order already
        if not order.items:
            order.status = OrderStatus.CANCELLED
    events.record(
        sub.merchant_id,
        "subscription.cancel",
        actor,
        object_type="subscription",
        object_id=sub.public_id,
        customer_id=sub.customer_id,
        before={"live": True},
        after={"live": False, "cancel_reason": CANCEL_REASON},
    )
    notifications.queue_email(
        sub.merchant_id,
        sub.customer,
        "subscription.discontinued_cancel",
        product=sub.product.name,
        subscription=sub.public_id,
    )
