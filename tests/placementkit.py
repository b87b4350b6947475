"""Subscribers with due orders, for placement tests: the T4 subscription (2 × 12.99, 10% off on
every recurring order), its customer, address and card, and an order due on a given date."""

from __future__ import annotations

import itertools
from datetime import date, datetime

from app.extensions import db
from app.integrations import signing
from app.models import (
    Address,
    Customer,
    Merchant,
    Order,
    OrderItem,
    OrderStatus,
    PaymentMethod,
    Product,
    Subscription,
)
from app.models.types import utcnow
from app.services import events, incentives, orders
from tests.factories import make_merchant, make_product

T1_KEY = "Mt!ZQ45q&GHsgiRD8{NB-_h87#rjvbn0"
EXP_12_2099 = "kwWZ/53+x32tmofPBfCppQzDFDlnWL9lCXQ/q5nFNdk="
ACTOR = events.Actor("staff", "1", "test")
_seq = itertools.count(1)


def make_placing_merchant(url: str, **overrides) -> Merchant:
    """A merchant that places at 06:00 New York time, to ``url``, with a 10% recurring offer."""
    values = {
        "hash_key": T1_KEY,
        "timezone": "America/New_York",
        "order_endpoint_url": url,
        "placement_hour": 6,
        "order_timeout_seconds": 2,
        **overrides,
    }
    merchant = make_merchant(**values)
    incentives.create(
        merchant.id,
        {"name": "Ten", "kind": "percent_off", "percent": "10", "applies_to": "ongoing"},
        actor=ACTOR,
    )
    return merchant


def make_due_order(
    merchant: Merchant,
    place_date: date,
    *,
    product: Product | None = None,
    user_id: str | None = None,
    quantity: int = 2,
    every: int = 4,
    period: int = 2,
    token: str = "7654321",  # noqa: S107 - a gateway token
    now: datetime | None = None,
    order_id: int | None = None,
) -> Order:
    """A live subscription (its checkout counted) and its upcoming order on ``place_date``."""
    n = next(_seq)
    product = product or make_product(
        merchant, f"12345678{n}", name="Dog Food", price_minor=1299, sku=f"SKU-{n}"
    )
    customer = Customer(
        merchant_id=merchant.id,
        merchant_user_id=user_id or f"DC{n:08d}",
        email=f"buyer{n}@example.com",
        first_name="Nicholas",
        last_name="Bundy",
    )
    db.session.add(customer)
    db.session.flush()
    address = Address(
        merchant_id=merchant.id,
        customer_id=customer.id,
        first_name="Nicholas",
        last_name="Bundy",
        address="75 Broad Street",
        address2="23rd Floor",
        city="New York",
        state_province_code="NY",
        zip_postal_code="10004",
        country_code="US",
        fingerprint=f"fp{n}",
    )
    payment = PaymentMethod(
        merchant_id=merchant.id,
        customer_id=customer.id,
        token_id=token,
        cc_type=1,
        cc_exp_date_enc=signing.encrypt_field(merchant.hash_key, "12/2099"),
        expiry_month=12,
        expiry_year=2099,
    )
    db.session.add_all([address, payment])
    db.session.flush()
    sub = Subscription(
        merchant_id=merchant.id,
        customer_id=customer.id,
        product_id=product.id,
        quantity=quantity,
        every=every,
        every_period=period,
        shipping_address_id=address.id,
        payment_id=payment.id,
        start_date=place_date,
        iteration=1,
        currency=merchant.currency,
        merchant_order_id=f"co-{n}",
        incentive_ids=[i.public_id for i in incentives.list_for(merchant.id)],
    )
    db.session.add(sub)
    db.session.flush()
    order = Order(
        id=order_id,
        merchant_id=merchant.id,
        customer_id=customer.id,
        place_date=place_date,
        shipping_address_id=address.id,
        payment_id=payment.id,
        status=OrderStatus.UNSENT,
        currency=merchant.currency,
    )
    order.items.append(
        OrderItem(subscription_id=sub.id, product_id=product.id, quantity=quantity, cycle=2)
    )
    db.session.add(order)
    db.session.flush()
    orders.reprice(order, now=now or utcnow())
    db.session.commit()
    return order
