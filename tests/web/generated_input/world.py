"""The two merchants the generated input attacks, seeded once for the module.

A, whose credentials the requests carry, and B, whose ids are thrown at A's routes. Both have
a catalog, offers, incentives, opt-ins, customers with addresses and cards, subscriptions with
upcoming orders, a held purchase request, feed runs, an SFTP login, an API key and an owner.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import quote

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.integrations import signing
from app.models import (
    ApiKey,
    FeedRun,
    Offer,
    Order,
    OrderItem,
    PurchaseRequest,
    StaffUser,
    Subscription,
)
from app.services import events, incentives, offer_views, offers, opt_ins, sftp_accounts
from tests import dbstate
from tests.factories import PASSWORD, csrf_token, login, make_api_key, make_merchant, make_staff
from tests.factories import make_product as _make_product
from tests.web.generated_input.harness import SESSION_COOKIE, ServerLog, World

ACTOR = events.Actor("staff", "1", "test")


@dataclass
class Shop:
    """One seeded merchant and every id a request could name."""

    prefix: str
    id: int
    public_id: str
    hash_key: str
    name: str
    origin: str
    api_key: str = ""
    api_key_id: int = 0
    owner_email: str = ""
    products: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)  # order items' public ids
    purchases: list[str] = field(default_factory=list)  # subs_req_id
    held_orders: list[str] = field(default_factory=list)  # merchant_order_id of held requests
    incentives: list[str] = field(default_factory=list)
    offers: list[str] = field(default_factory=list)
    feed_runs: list[str] = field(default_factory=list)
    session: str = ""  # an og_session_id with an opt-in

    def ids(self) -> list[str]:
        return [
            self.public_id,
            *self.products,
            *self.customers,
            *self.emails,
            *self.subscriptions,
            *self.orders,
            *self.items,
            *self.purchases,
            *self.held_orders,
            *self.incentives,
            *self.offers,
            *self.feed_runs,
            self.session,
            str(self.api_key_id),
        ]

    def secrets(self) -> list[str]:
        """Strings only this merchant's data contains: seeing one elsewhere is a leak."""
        return [
            self.public_id,
            self.hash_key,
            self.name,
            self.api_key,
            self.owner_email,
            *self.products,
            *self.customers,
            *self.emails,
            *self.subscriptions,
            *self.orders,
            *self.items,
            *self.purchases,
            *self.held_orders,
            *self.incentives,
            *self.offers,
            *self.feed_runs,
            f"{self.prefix.title()} Kibble",
        ]


def make_product(merchant, product_id: str, **values):
    return _make_product(merchant, product_id, sku=f"{product_id}-SKU", **values)


def seed_shop(client, prefix: str, scratch: str) -> Shop:
    """A merchant with catalog, offers, incentives, opt-ins, customers, subscriptions,
    upcoming and held orders, feed runs, SFTP login, an API key and an owner."""
    key = (prefix * 32)[:32]
    merchant = make_merchant(
        name=f"{prefix.title()} Secret Supplies",
        hash_key=key,
        timezone="America/New_York",
        allowed_origins=[f"https://{prefix.lower()}.example"],
    )
    shop = Shop(
        prefix,
        merchant.id,
        merchant.public_id,
        key,
        merchant.name,
        f"https://{prefix.lower()}.example",
    )
    staff = [
        make_staff(merchant, email=f"owner@{prefix.lower()}.example"),
        make_staff(merchant, role="staff", email=f"staff@{prefix.lower()}.example"),
    ]
    for user in staff:  # a cheap hash: each generated login would cost 0.1 s of scrypt
        user.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    db.session.commit()
    shop.owner_email = staff[0].email
    p = prefix.upper()
    make_product(merchant, f"{p}-1", name=f"{prefix.title()} Kibble", price_minor=1299)
    make_product(merchant, f"{p}-2", name=f"{prefix.title()} Treats", price_minor=500)
    make_product(merchant, f"{p}-ONCE", name="Gift card", autoship_eligible=False)
    make_product(merchant, f"{p}-OOS", name="Sold out", in_stock=False)
    make_product(merchant, f"{p}/SLASH 1", name="Slash & space")
    shop.products = [f"{p}-1", f"{p}-2", f"{p}-ONCE", f"{p}-OOS", f"{p}/SLASH 1"]
    for data in (
        {"name": "Ten", "kind": "percent_off", "percent": "10"},
        {"name": "Ship", "kind": "free_shipping", "applies_to": "ongoing"},
        {
            "name": "Gift",
            "kind": "gift",
            "gift_product": f"{p}-2",
            "starts_at": "2020-01-01T00:00",
            "ends_at": "2099-01-01T00:00",
        },
    ):
        shop.incentives.append(incentives.create(merchant.id, data, actor=ACTOR).public_id)
    offers.save(
        merchant.id,
        "pdp",
        {
            "offer_type": "radio",
            "optin_label": "Subscribe",
            "optout_label": "Once",
            "every_label": "Every",
            "tooltip_trigger": "How",
            "tooltip": "Details",
            "frequencies": "2_2 4_2 2_3",
            "default_frequency": "4_2",
            "active": "on",
        },
        actor=ACTOR,
    )
    shop.offers = list(
        db.session.scalars(select(Offer.public_id).where(Offer.merchant_id == merchant.id))
    )
    shop.session = f"{merchant.public_id}.42.1596647632"
    opt_ins.choose(
        merchant, shop.session, offer_views.Slot("o0", f"{p}-2"), subscribed=True, frequency="2_3"
    )
    shop.api_key = make_api_key(merchant)
    shop.api_key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.merchant_id == merchant.id))
    sftp_accounts.set_password(merchant.id, merchant.public_id, actor=ACTOR)
    _seed_purchases(client, shop)
    _seed_feed_runs(merchant.id, shop, scratch)
    return shop


def _seed_purchases(client, shop: Shop) -> None:
    for n in (1, 2):
        payload = purchase_payload(
            shop,
            user_id=f"{shop.prefix.upper()}-CUST-{n}",
            order_id=f"{shop.prefix.lower()}-order-{n}",
        )
        response = client.post(
            "/subscription/create", data=whole(payload), headers={"x-api-key": shop.api_key}
        )
        assert response.status_code == 200, response.get_json()
    held = purchase_payload(
        shop,
        user_id=f"{shop.prefix.upper()}-CUST-9",
        order_id=f"{shop.prefix.lower()}-held-1",
        processed=False,
    )
    assert (
        client.post(
            "/subscription/create", data=whole(held), headers={"x-api-key": shop.api_key}
        ).status_code
        == 200
    )
    shop.customers = [f"{shop.prefix.upper()}-CUST-{n}" for n in (1, 2, 9)]
    shop.emails = [f"{c.lower()}@{shop.prefix.lower()}.example" for c in shop.customers]
    shop.held_orders = [f"{shop.prefix.lower()}-held-1"]
    shop.subscriptions = list(
        db.session.scalars(
            select(Subscription.public_id).where(Subscription.merchant_id == shop.id)
        )
    )
    shop.orders = list(
        db.session.scalars(select(Order.public_id).where(Order.merchant_id == shop.id))
    )
    shop.items = list(
        db.session.scalars(
            select(OrderItem.public_id).join(Order).where(Order.merchant_id == shop.id)
        )
    )
    shop.purchases = list(
        db.session.scalars(
            select(PurchaseRequest.public_id).where(PurchaseRequest.merchant_id == shop.id)
        )
    )


def _seed_feed_runs(merchant_id: int, shop: Shop, scratch: str) -> None:
    report = os.path.join(scratch, f"{shop.prefix}.report.csv")
    with open(report, "w") as fh:
        fh.write("line,product_id,field,reason\n3,X,price,not a number\n")
    runs = [
        FeedRun(
            merchant_id=merchant_id,
            trigger="console",
            status="succeeded",
            file_name=f"{shop.public_id}.Products.xml",
            report_path=report,
            received=3,
            created=2,
            rejected=1,
        ),
        FeedRun(merchant_id=merchant_id, trigger="schedule", status="failed", error="not XML"),
    ]
    db.session.add_all(runs)
    db.session.commit()
    shop.feed_runs = [run.public_id for run in runs]


def purchase_payload(shop: Shop, *, user_id: str, order_id: str, **changes) -> dict:
    """A valid purchase POST body (contracts §5.2): three subscription lines (by their own
    override, by a line override naming another product, by the tracking array) and a
    one-time line, with every optional part filled in."""
    p = shop.prefix.upper()
    address = {
        "first_name": "Sam",
        "last_name": "Lee",
        "company_name": "Acme",
        "address": "75 Broad Street",
        "address2": "Floor 2",
        "city": "New York",
        "state_province_code": "NY",
        "zip_postal_code": "10004",
        "phone": "555-555-5555",
        "country_code": "US",
    }
    body = {
        "merchant_id": shop.public_id,
        "merchant_order_id": order_id,
        "og_cart_tracking": False,
        "processed": True,
        "user": {
            "user_id": user_id,
            "first_name": "Sam",
            "last_name": "Lee",
            "email": f"{user_id.lower()}@{shop.prefix.lower()}.example",
            "phone_number": "555-555-5555",
            "shipping_address": address,
            "billing_address": {**address, "address2": ""},
            "extra_data": {"tier": "gold"},
        },
        "payment": {
            "token_id": f"tok-{user_id}",
            "cc_type": "1",
            "cc_exp_date": signing.encrypt_field(shop.hash_key, "12/2099"),
            "cc_holder": signing.encrypt_field(shop.hash_key, "Sam Lee"),
            "cc_last_4": signing.encrypt_field(shop.hash_key, "1111"),
        },
        "products": [
            {
                "product": f"{p}-1",
                "sku": f"{p}-1-SKU",
                "subscription_info": {
                    "quantity": 2,
                    "first_order_place_date": str(date.today() + timedelta(10)),
                    "extra_data": {"engraving": "Rex"},
                    "components": [f"{p}-2"],
                    "tracking_override": {
                        "offer": shop.offers[0] if shop.offers else None,
                        "every": 4,
                        "every_period": 2,
                    },
                },
                "purchase_info": {"quantity": "2", "price": "12.99", "total": "25.98"},
            },
            {
                "product": f"{p}-2",
                "tracking_override": {"every": 2, "every_period": 3, "product": f"{p}-1"},
                "multi_item_bundle_components": [{"product": f"{p}-1", "quantity": 2}],
            },
            {"product": f"{p}-ONCE", "purchase_info": {"quantity": 1}},
            {"product": f"{p}/SLASH 1"},  # subscribes through the tracking array
        ],
        "tracking": [
            {"product": f"{p}/SLASH 1", "tracking_override": {"every": 6, "every_period": 2}}
        ],
    }
    if body["products"][0]["subscription_info"]["tracking_override"]["offer"] is None:
        del body["products"][0]["subscription_info"]["tracking_override"]["offer"]
    body.update(changes)
    return body


def whole(payload: dict) -> str:
    return "create_request=" + quote(json.dumps(payload), safe="")


def build_world(app, client) -> World:
    """Seed A and B, log A's owner in, and record the state every example starts from."""
    scratch = tempfile.mkdtemp(prefix="perennial-generated-")
    a, b = seed_shop(client, "alpha", scratch), seed_shop(client, "zulu", scratch)
    login(
        client,
        db.session.scalar(select(StaffUser).where(StaffUser.email == a.owner_email)),
        PASSWORD,
    )
    csrf = csrf_token(client, "/console/settings")
    cookie = client.get_cookie(SESSION_COOKIE).value
    db.session.commit()
    db.session.close()
    log = ServerLog()
    app.logger.addHandler(log)
    rules = {
        (rule.rule, method): rule for rule in app.url_map.iter_rules() for method in rule.methods
    }
    return World(app, a, b, cookie, csrf, dbstate.snapshot(), log, dbstate.Watch(), rules)
