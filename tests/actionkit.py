"""Subscribers with upcoming orders, for the subscriber action tests: a New York merchant, a
customer with two addresses and two cards, subscriptions made as checkout makes them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Address,
    Customer,
    Event,
    Merchant,
    Order,
    OrderItem,
    PaymentMethod,
    Product,
    ProductGroup,
    Subscription,
)
from app.services import events, subscriptions, upcoming_orders
from tests.factories import make_customer, make_merchant, make_product

# 15:00 UTC on 10 January 2030 is 10:00 in New York: the merchant's today is 2030-01-10.
NOW = datetime(2030, 1, 10, 15, 0, tzinfo=UTC)
TODAY = date(2030, 1, 10)
FIRST = date(2030, 2, 1)  # where checkout put the first upcoming orders
SUBSCRIBER = events.Actor("subscriber", "shopper", "203.0.113.9")
STAFF = events.Actor("staff", "1", "console")
_seq = itertools.count(1)


@dataclass
class Shopper:
    merchant: Merchant
    customer: Customer
    home: Address
    office: Address
    card: PaymentMethod
    other_card: PaymentMethod

    @property
    def ids(self) -> tuple[int, int]:
        """(merchant_id, customer_id): the Storefront scope of this shopper."""
        return self.merchant.id, self.customer.id


def make_shopper(merchant: Merchant | None = None) -> Shopper:
    merchant = merchant or make_merchant(timezone="America/New_York")
    customer = make_customer(merchant)
    n = next(_seq)
    home, office = (
        Address(
            merchant_id=merchant.id,
            customer_id=customer.id,
            address=street,
            city="Albany",
            country_code="US",
            fingerprint=f"fp-{n}-{street}",
        )
        for street in ("9 Elm Row", "1 State St")
    )
    card, other_card = (
        PaymentMethod(merchant_id=merchant.id, customer_id=customer.id, token_id=token)
        for token in (f"tok-{n}-a", f"tok-{n}-b")
    )
    db.session.add_all([home, office, card, other_card])
    db.session.commit()
    return Shopper(merchant, customer, home, office, card, other_card)


def coffee(merchant: Merchant, price: int = 2000, **overrides) -> Product:
    return make_product(merchant, f"COF-{next(_seq)}", price_minor=price, **overrides)


def in_swap_group(name: str, *products: Product) -> None:
    for product in products:
        db.session.add(
            ProductGroup(
                merchant_id=product.merchant_id,
                product_id=product.id,
                group_type="sku_swap",
                name=name,
            )
        )
    db.session.commit()


def subscribe(
    shopper: Shopper,
    product: Product | None = None,
    *,
    on: date = FIRST,
    quantity: int = 1,
    every: int = 4,
    period: int = 2,
    address: Address | None = None,
    payment: PaymentMethod | None = None,
    subscription_type: str = "standard",
) -> Subscription:
    """A live subscription as checkout makes it, its first upcoming order ``on`` (shared with
    the shopper's other order of that date, address and card)."""
    product = product or coffee(shopper.merchant)
    [sub] = subscriptions.create_many(
        shopper.customer,
        [
            subscriptions.NewSubscription(
                product=product,
                quantity=quantity,
                every=every,
                every_period=period,
                offer_id=None,
                first_date=on,
                extra_data={},
                subscription_type=subscription_type,
            )
        ],
        start=TODAY,
        shipping=address or shopper.home,
        payment=payment or shopper.card,
        merchant_order_id=f"co-{next(_seq)}",
        session_id=None,
        currency=shopper.merchant.currency,
        now=NOW,
        actor=STAFF,
        incentives=[],
    )
    db.session.commit()
    return sub


def upcoming(sub: Subscription) -> Order | None:
    db.session.expire_all()
    return upcoming_orders.current(sub)


def item_of(sub: Subscription) -> OrderItem:
    order = upcoming(sub)
    return next(i for i in order.items if i.subscription_id == sub.id)


def last_event(type: str) -> Event:
    found = db.session.scalar(select(Event).where(Event.type == type).order_by(Event.id.desc()))
    assert found is not None, f"no {type} event"
    return found


def count_events(type: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Event).where(Event.type == type))


def snapshot(*rows) -> list[dict]:
    """Every column of the rows as the database has them (to show nothing changed)."""
    db.session.expire_all()
    return [
        {c.key: getattr(row, c.key) for c in row.__table__.columns}
        | (
            {"items": sorted((i.id, i.quantity, i.product_id) for i in row.items)}
            if isinstance(row, Order)
            else {}
        )
        for row in rows
    ]
