"""Subscribers as the console shows them: a searchable list, and one customer in full."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, or_, select

from app.extensions import db
from app.models import (
    Address,
    Customer,
    Event,
    Order,
    PaymentMethod,
    Product,
    ProductGroup,
    Subscription,
)
from app.models.types import utcnow
from app.services import subscriptions
from app.services.errors import NotFound

PAGE_SIZE = 50
MAX_ORDERABLE = 500  # products offered as one-time items on the detail page
ACTIVITY_DAYS = 30
CARD_TYPES = {1: "Visa", 2: "Mastercard", 3: "Amex", 4: "Discover", 5: "Diners", 6: "JCB"}


@dataclass(frozen=True)
class Row:
    customer: Customer
    live: int  # live subscriptions
    total: int  # every subscription


def page(merchant_id: int, search: str = "", *, before: int | None = None) -> list[Row]:
    """Customers with at least one subscription, newest first, ``PAGE_SIZE`` at a time."""
    counts = (
        select(
            Subscription.customer_id,
            func.count().label("total"),
            func.sum(cast(Subscription.live, Integer)).label("live"),
        )
        .where(Subscription.merchant_id == merchant_id)
        .group_by(Subscription.customer_id)
        .subquery()
    )
    query = (
        select(Customer, counts.c.live, counts.c.total)
        .join(counts, counts.c.customer_id == Customer.id)
        .where(Customer.merchant_id == merchant_id)
    )
    term = " ".join((search or "").split()).lower()
    if term:
        columns = (
            Customer.merchant_user_id,
            Customer.email,
            Customer.first_name,
            Customer.last_name,
        )
        query = query.where(or_(*(func.lower(c).contains(term, autoescape=True) for c in columns)))
    if before:
        query = query.where(Customer.id < before)
    rows = db.session.execute(query.order_by(Customer.id.desc()).limit(PAGE_SIZE))
    return [Row(customer, int(live or 0), int(total)) for customer, live, total in rows]


@dataclass(frozen=True)
class Detail:
    customer: Customer
    subscriptions: list[tuple[Subscription, Order | None]]
    addresses: list[Address]
    payments: list[PaymentMethod]
    events: list[Event]


def detail(merchant_id: int, user_id: str) -> Detail:
    customer = db.session.scalar(
        select(Customer).where(
            Customer.merchant_id == merchant_id, Customer.merchant_user_id == user_id
        )
    )
    if customer is None:
        raise NotFound()
    subs = subscriptions.for_customer(merchant_id, customer.id)
    addresses = list(
        db.session.scalars(
            select(Address).where(Address.customer_id == customer.id).order_by(Address.id)
        )
    )
    payments = list(
        db.session.scalars(
            select(PaymentMethod)
            .where(PaymentMethod.customer_id == customer.id)
            .order_by(PaymentMethod.id)
        )
    )
    history = list(
        db.session.scalars(
            select(Event)
            .where(Event.merchant_id == merchant_id, Event.customer_id == customer.id)
            .order_by(Event.id.desc())
            .limit(100)
        )
    )
    return Detail(
        customer, [(s, subscriptions.upcoming_order(s)) for s in subs], addresses, payments, history
    )


def card_label(payment: PaymentMethod) -> str:
    """ "Visa · expires 12/2099": never the token or the encrypted fields."""
    kind = CARD_TYPES.get(payment.cc_type or 0) or payment.payment_method.title()
    if payment.expiry_month:
        return f"{kind} · expires {payment.expiry_month:02d}/{payment.expiry_year}"
    return kind


def address_lines(address: Address) -> list[str]:
    name = " ".join(p for p in (address.first_name, address.last_name) if p)
    city = " ".join(
        p for p in (address.city, address.state_province_code, address.zip_postal_code) if p
    )
    street = ", ".join(p for p in (address.address, address.address2) if p)
    return [
        line for line in (name, address.company_name, street, city, address.country_code) if line
    ]


def change_summary(event: Event) -> str:
    """A short before -> after of an event, for the history table."""
    after: dict[str, Any] = event.after or {}
    before: dict[str, Any] = event.before or {}
    parts = []
    for key in list(after)[:4]:
        if key in before:
            parts.append(f"{key}: {before[key]} → {after[key]}")
        else:
            parts.append(f"{key}: {after[key]}")
    return "; ".join(parts)


def swap_choices(sub: Subscription) -> list[Product]:
    """The products the subscription may swap to: its ``sku_swap`` groups' other products,
    not discontinued, in its currency."""
    own = select(ProductGroup.name).where(
        ProductGroup.product_id == sub.product_id, ProductGroup.group_type == "sku_swap"
    )
    # IN, not a join with DISTINCT: PostgreSQL cannot compare the products' JSON columns
    members = select(ProductGroup.product_id).where(
        ProductGroup.merchant_id == sub.merchant_id,
        ProductGroup.group_type == "sku_swap",
        ProductGroup.name.in_(own),
    )
    query = (
        select(Product)
        .where(
            Product.id.in_(members),
            Product.id != sub.product_id,
            Product.discontinued.is_(False),
            Product.currency == sub.currency,
        )
        .order_by(Product.name, Product.id)
    )
    return list(db.session.scalars(query))


def orderable_products(merchant_id: int) -> list[Product]:
    """Products that can be added to an order as one-time items (in stock, not discontinued)."""
    query = (
        select(Product)
        .where(
            Product.merchant_id == merchant_id,
            Product.discontinued.is_(False),
            Product.in_stock.is_(True),
        )
        .order_by(Product.name, Product.id)
        .limit(MAX_ORDERABLE)
    )
    return list(db.session.scalars(query))


# What the console calls each subscriber action (event types of the action services).
ACTION_LABELS = {
    "subscription.change_quantity": "Changed quantity",
    "subscription.change_frequency": "Changed frequency",
    "subscription.change_next_order_date": "Changed next order date",
    "order.change_next_order_date": "Moved an order",
    "order.skip_order": "Skipped a subscription's order",
    "order.cancel": "Skipped a whole order",
    "order.send_now": "Sent an order now",
    "subscription.sku_swap": "Swapped product",
    "item.create": "Added a one-time item",
    "item.change_quantity": "Changed an item's quantity",
    "item.remove": "Removed an item",
    "subscription.create": "Subscribed to a one-time item",
    "subscription.pause": "Paused",
    "subscription.resume": "Resumed",
    "subscription.cancel": "Cancelled",
    "subscription.reactivate": "Reactivated",
    "subscription.change_shipping_address": "Changed shipping address",
    "order.change_shipping_address": "Changed an order's address",
    "subscription.change_payment": "Changed payment method",
    "order.change_payment": "Changed an order's payment",
    "subscription.change_email_reminder": "Changed reminder days",
}


@dataclass(frozen=True)
class Activity:
    type: str  # the event type, e.g. "subscription.pause"
    count: int

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self.type, self.type)


def activity(
    merchant_id: int, *, days: int = ACTIVITY_DAYS, now: datetime | None = None
) -> list[Activity]:
    """What subscribers did themselves (events with actor ``subscriber``) in the last ``days``
    days, most frequent first."""
    since = (now or utcnow()) - timedelta(days=days)
    count = func.count().label("n")
    query = (
        select(Event.type, count)
        .where(
            Event.merchant_id == merchant_id,
            Event.actor_type == "subscriber",
            Event.created_at >= since,
        )
        .group_by(Event.type)
        .order_by(count.desc(), Event.type)
    )
    return [Activity(type, int(n)) for type, n in db.session.execute(query)]
