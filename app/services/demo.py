"""The demo merchant used by ``make run`` and the browser tests; idempotent."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update

from app.extensions import db
from app.models import ApiKey, Incentive, Merchant, Product
from app.models.merchant import hash_api_key
from app.services import (
    accounts,
    api_keys,
    events,
    incentives,
    merchants,
    sftp_accounts,
    shops,
)

DEMO_NAME = "Fern & Fable (demo)"
DEMO_EMAIL = "owner@demo.perennial.test"
DEMO_INCENTIVES = (
    {"name": "Subscribe & save 10%", "kind": "percent_off", "percent": "10"},
    {"name": "Free shipping on subscriptions", "kind": "free_shipping", "applies_to": "ongoing"},
)
ACTOR = events.Actor("system", "seed-demo", "cli")


def _derive(secret: str, label: str, length: int) -> str:
    """Derive a stable per-installation value, so re-running the seed changes nothing."""
    digest = hmac.new(secret.encode(), f"perennial-demo:{label}".encode(), hashlib.sha256)
    return digest.hexdigest()[:length]


DEMO_ORDER_PATH = "/og/orders"


def seed(
    *, secret: str, platform_url: str, store_url: str, sftp_port: int = 2222
) -> dict[str, Any]:
    """Create (once) the demo merchant, logins, API key and store origin; return them."""
    public_id = _derive(secret, "merchant", 32)
    password = "demo-" + _derive(secret, "password", 12)
    raw_key = "pk_demo_" + _derive(secret, "api-key", 40)
    sftp_password = "sftp-" + _derive(secret, "sftp-password", 20)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(store_url)).lower()

    merchant = merchants.get_by_public_id(public_id)
    if merchant is None:
        merchant = merchants.create(DEMO_NAME, timezone="America/New_York")
        merchant.public_id = public_id
        events.record(
            merchant.id, "merchant.create", ACTOR, object_type="merchant", object_id=public_id
        )
    if origin not in (merchant.allowed_origins or []):
        merchant.allowed_origins = [*(merchant.allowed_origins or []), origin]
    if not merchant.order_endpoint_url:
        # The demo store's receiver deduplicates on the order's public id, and says so.
        merchant.order_endpoint_url = store_url.rstrip("/") + DEMO_ORDER_PATH
        merchant.endpoint_dedupes = True
    if accounts.get_by_email(DEMO_EMAIL) is None:
        accounts.create_staff(merchant.id, DEMO_EMAIL, password, role="owner", name="Demo Owner")
    db.session.commit()
    if db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(raw_key))) is None:
        api_keys.create_with_value(merchant.id, "Demo store", raw_key, actor=ACTOR)
    account = sftp_accounts.ensure(merchant.id, merchant.public_id)
    if not sftp_accounts.password_matches(account, sftp_password):
        sftp_accounts.set_password(
            merchant.id, merchant.public_id, actor=ACTOR, password=sftp_password
        )
    db.session.commit()
    _seed_program(merchant.id)
    return {
        **_credentials(merchant, password, raw_key, platform_url, store_url),
        "sftp_username": account.username,
        "sftp_password": sftp_password,
        "sftp_port": sftp_port,
    }


def _seed_program(merchant_id: int) -> None:
    """The demo's subscribe-and-save program: two incentives (once); the default offer came
    with the merchant. Instant upsell is on at product pages (unless the merchant chose its
    locations since) for every product of the catalog, once the feed has brought them: the
    demo starts this again after its first catalog sync (``scripts/run``)."""
    merchant = db.session.get(Merchant, merchant_id)
    if merchant.upsell_locations is None:
        merchant.upsell_locations = ["pdp"]
    ticked = db.session.execute(
        update(Product)
        .where(Product.merchant_id == merchant_id, Product.upsell_eligible.is_(False))
        .values(upsell_eligible=True)
    ).rowcount
    db.session.commit()
    if ticked:
        shops.bump([merchant_id])  # a bulk UPDATE: the commit hook sees no Product row
    names = set(
        db.session.scalars(select(Incentive.name).where(Incentive.merchant_id == merchant_id))
    )
    for data in DEMO_INCENTIVES:
        if data["name"] not in names:
            incentives.create(merchant_id, data, actor=ACTOR)


def _credentials(
    merchant: Merchant, password: str, raw_key: str, platform_url: str, store_url: str
) -> dict[str, Any]:
    return {
        "merchant_public_id": merchant.public_id,
        "hash_key": merchant.hash_key,
        "api_key": raw_key,
        "console_email": DEMO_EMAIL,
        "console_password": password,
        "platform_url": platform_url.rstrip("/"),
        "store_url": store_url.rstrip("/"),
    }
