"""The subscriber dashboard as the store's page calls it: the store's origin, the og_auth
value in X-OG-Auth, the dashboard fragment and its action POSTs."""

from __future__ import annotations

from app.integrations import signing
from app.models import Merchant
from tests.actionkit import Shopper
from tests.factories import make_merchant

STORE = "https://shop.example"


def shop_merchant(**overrides) -> Merchant:
    """A New York merchant whose store is ``STORE``."""
    return make_merchant(timezone="America/New_York", allowed_origins=[STORE], **overrides)


def auth(merchant: Merchant, user_id: str, ts: int | None = None) -> dict[str, str]:
    """The headers msi.js sends: the og_auth value, from the store's page."""
    return {"X-OG-Auth": signing.make_og_auth(merchant.hash_key, user_id, ts), "Origin": STORE}


def board(client, merchant: Merchant, headers: dict[str, str]):
    return client.get(f"/{merchant.public_id}/msi/", headers=headers)


def act(client, shopper: Shopper, action: str, **form):
    """POST one dashboard action as ``shopper``."""
    merchant = shopper.merchant
    return client.post(
        f"/{merchant.public_id}/msi/{action}",
        data={k: v for k, v in form.items() if v is not None},
        headers=auth(merchant, shopper.customer.merchant_user_id),
    )
