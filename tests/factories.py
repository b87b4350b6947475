"""Plain functions that add a row, commit and return it (CTFd ``gen_*`` style)."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

from app.extensions import db
from app.models import (
    Customer,
    Merchant,
    Order,
    OrderItem,
    OutboundEmail,
    Product,
    StaffUser,
    Subscription,
)
from app.services import accounts, api_keys, events, merchants, notifications

PASSWORD = "correct-horse-battery"
HX = {"HX-Request": "true"}  # the header htmx sends with its requests
_seq = itertools.count(1)


def make_merchant(**overrides) -> Merchant:
    merchant = merchants.create(overrides.pop("name", f"Shop {next(_seq)}"))
    for key, value in overrides.items():
        setattr(merchant, key, value)
    db.session.commit()
    return merchant


def make_staff(
    merchant: Merchant | None = None,
    *,
    role: str = "owner",
    email: str | None = None,
    password: str = PASSWORD,
) -> StaffUser:
    merchant = merchant or make_merchant()
    user = accounts.create_staff(
        merchant.id, email or f"user{next(_seq)}@example.com", password, role=role
    )
    db.session.commit()
    return user


def make_api_key(merchant: Merchant, name: str = "test key") -> str:
    return api_keys.create(merchant.id, name, actor=events.Actor("system"))[1]


def csrf_token(client, path: str = "/console/login") -> str:
    """Read the CSRF token the way a browser would: from a rendered form."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, user: StaffUser, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post(
        "/console/login", data={"email": user.email, "password": password, "csrf_token": token}
    )


def make_product(merchant: Merchant, product_id: str | None = None, **overrides) -> Product:
    """A subscription-eligible, in-stock catalog product ($20.00 unless told otherwise)."""
    values = {
        "name": "Trail Coffee",
        "price_minor": 2000,
        "currency": merchant.currency,
        "autoship_eligible": True,
        "in_stock": True,
        **overrides,
    }
    product = Product(merchant_id=merchant.id, product_id=product_id or f"P{next(_seq)}", **values)
    db.session.add(product)
    db.session.commit()
    return product


def make_customer(merchant: Merchant, user_id: str | None = None) -> Customer:
    user_id = user_id or f"cust-{next(_seq)}"
    customer = Customer(
        merchant_id=merchant.id,
        merchant_user_id=user_id,
        email=f"{user_id}@example.com",
        first_name="Sam",
    )
    db.session.add(customer)
    db.session.commit()
    return customer


def make_subscription(
    merchant: Merchant,
    product: Product,
    customer: Customer | None = None,
    *,
    place_in_days: int = 7,
) -> Subscription:
    """A live subscription with its one upcoming (unsent) order."""
    customer = customer or make_customer(merchant)
    sub = Subscription(
        merchant_id=merchant.id,
        customer_id=customer.id,
        product_id=product.id,
        quantity=1,
        every=4,
        every_period=2,
        start_date=date.today(),
    )
    db.session.add(sub)
    db.session.flush()
    order = Order(
        merchant_id=merchant.id,
        customer_id=customer.id,
        place_date=date.today() + timedelta(days=place_in_days),
    )
    order.items.append(
        OrderItem(
            subscription_id=sub.id,
            product_id=product.id,
            quantity=1,
            price_minor=product.price_minor,
            total_price_minor=product.price_minor,
        )
    )
    db.session.add(order)
    db.session.commit()
    return sub


def make_email(
    merchant: Merchant,
    customer: Customer | None = None,
    *,
    template: str = "subscription.discontinued_cancel",
    dedupe_key: str | None = None,
    **overrides,
) -> OutboundEmail:
    """An email queued in the merchant's outbox, the way services queue them."""
    customer = customer or make_customer(merchant)
    email = notifications.queue_email(
        merchant.id,
        customer,
        template,
        dedupe_key=dedupe_key,
        product="Trail Coffee",
        replacement="Decaf",
        subscription="sub-1",
    )
    for key, value in overrides.items():
        setattr(email, key, value)
    db.session.commit()
    return email
