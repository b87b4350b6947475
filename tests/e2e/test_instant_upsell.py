"""Instant upsell in a real browser (contracts §2.1, product §2): a store page whose shopper is
signed in (the store's ``og_auth`` cookie in the browser) sees "Add to your order on <date>",
adds the product with one click, once and then as a subscription, confirmed in place; signed
out, the same page shows the standard offer."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from app.integrations import signing
from app.models import Merchant, Order, Product, Subscription
from tests.actionkit import make_shopper, subscribe, upcoming
from tests.e2e.hostkit import HOSTILE_LINK, host_site
from tests.e2e.test_hostile_css import assert_holds

pytestmark = pytest.mark.e2e

COFFEE = "FF2040101"  # what the subscriber has
TEA = "FF2040103"  # what the page offers: $11.00
ON = date(2030, 2, 1)
PAGES = {
    "tea": f'<main style="width: 560px"><og-offer product="{TEA}" location="pdp">'
    "</og-offer></main>",
    "hostile": f'<main style="width: 560px"><og-offer product="{TEA}"></og-offer></main>'
    + HOSTILE_LINK,
}


@pytest.fixture(scope="module")
def store(platform, demo_catalog):
    """The demo merchant with upsell on at pdp for tea; a subscriber and a stranger, each
    with an upcoming order; the store's pages on their own origin. Put back afterwards."""
    with platform.app.app_context():
        merchant = db.session.scalar(db.select(Merchant).filter_by(public_id=demo_catalog))
        tea = db.session.scalar(
            db.select(Product).filter_by(merchant_id=merchant.id, product_id=TEA)
        )
        coffee = db.session.scalar(
            db.select(Product).filter_by(merchant_id=merchant.id, product_id=COFFEE)
        )
        merchant.upsell_locations, tea.upsell_eligible = ["pdp"], True
        db.session.commit()
        people = {}
        for name in ("subscriber", "stranger"):
            shopper = make_shopper(merchant)
            order = upcoming(subscribe(shopper, coffee, on=ON))
            people[name] = (shopper.customer.id, shopper.customer.merchant_user_id, order.id)
        hash_key = merchant.hash_key
    script = f"{platform.url}/{demo_catalog}/main.js"
    with host_site(platform, PAGES, scripts=(script,)) as url:
        yield url, hash_key, people
    with platform.app.app_context():
        merchant = db.session.scalar(db.select(Merchant).filter_by(public_id=demo_catalog))
        merchant.upsell_locations = None
        db.session.commit()


def tea_in(platform, order_id: int) -> list[tuple[bool, int | None]]:
    """(one_time, subscription id) of each tea item in the order."""
    with platform.app.app_context():
        order = db.session.get(Order, order_id)
        return [(i.one_time, i.subscription_id) for i in order.items if i.product.product_id == TEA]


def sign_in(page: Page, url: str, hash_key: str, user_id: str, *, quoted: bool = False) -> None:
    value = signing.make_og_auth(hash_key, user_id)
    page.context.add_cookies(
        [{"name": "og_auth", "value": value.replace("|", "%7C") if quoted else value, "url": url}]
    )


def test_a_signed_in_subscriber_adds_to_their_next_order(page: Page, platform, store, screenshots):
    url, hash_key, people = store
    _customer_id, user_id, order_id = people["subscriber"]
    sign_in(page, url, hash_key, user_id)
    page.goto(f"{url}/tea")
    offer = page.locator("og-offer .og-offer--upsell")
    expect(offer).to_contain_text("Add to your order on February 1")
    expect(offer).to_contain_text("$11.00")
    page.screenshot(path=screenshots / "upsell-offer.png", full_page=True)

    page.get_by_role("button", name="Add once").click()
    expect(page.get_by_role("status")).to_have_text(
        "Added to your order on February 1: Rooibos & Vanilla Loose Tea, 4 oz, once."
    )
    assert tea_in(platform, order_id) == [(True, None)]
    assert tea_in(platform, people["stranger"][2]) == []  # nobody else's order

    page.reload()
    page.locator("og-offer").get_by_label("Deliver every").select_option("2_3")
    page.get_by_role("button", name="Subscribe").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("delivered every 2 months from then on")
    page.screenshot(path=screenshots / "upsell-added.png", full_page=True)
    [(one_time, sub_id)] = [t for t in tea_in(platform, order_id) if not t[0]]
    with platform.app.app_context():
        sub = db.session.get(Subscription, sub_id)
        assert (sub.customer_id, sub.every, sub.every_period) == (people["subscriber"][0], 2, 3)
    assert tea_in(platform, people["stranger"][2]) == []


def test_signed_out_or_as_another_merchant_the_page_shows_the_standard_offer(page: Page, store):
    url, hash_key, people = store
    page.goto(f"{url}/tea")
    expect(page.get_by_label("One-time purchase")).to_be_visible()
    sign_in(page, url, "0" * 64, people["subscriber"][1])  # signed with someone else's key
    page.reload()
    expect(page.get_by_label("One-time purchase")).to_be_visible()
    expect(page.locator(".og-offer--upsell")).to_have_count(0)


def test_the_upsell_holds_its_layout_on_a_hostile_page(page: Page, store, screenshots):
    url, hash_key, people = store
    sign_in(page, url, hash_key, people["stranger"][1], quoted=True)  # as PHP's setcookie
    page.goto(f"{url}/hostile")
    element = page.locator("og-offer")
    expect(element.locator(".og-offer--upsell")).to_be_visible()
    assert_holds(element)
    page.screenshot(path=screenshots / "upsell-hostile-theme.png", full_page=True)
