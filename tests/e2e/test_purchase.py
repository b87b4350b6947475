"""Checkout to subscription, end to end: the shopper opts in on the demo store (one origin),
checks out, the store's server posts the purchase POST to the platform (another origin), the
confirmation page lists the subscription, and the merchant finds it in the console.
"""

from __future__ import annotations

import re
import threading

import pytest
import requests
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from demo import create_app as create_store
from tests.e2e.conftest import allow_origin
from tests.e2e.test_console import sign_in

pytestmark = pytest.mark.e2e

COFFEE = "FF2040101"
SOAP = "FF4060101"


@pytest.fixture(scope="module")
def store_url(platform, demo_catalog, tmp_path_factory):
    creds = platform.credentials
    with platform.app.app_context():  # the console tests may have rotated the hash key
        from app.services import merchants

        hash_key = merchants.get_by_public_id(demo_catalog).hash_key
    store = create_store(
        {
            "DEMO_DB": str(tmp_path_factory.mktemp("purchase-store") / "demo.db"),
            "SECRET_KEY": "e2e-secret",
            "MERCHANT_PUBLIC_ID": demo_catalog,
            "PLATFORM_URL": platform.url,
            "PLATFORM_API_KEY": creds["api_key"],
            "MERCHANT_HASH_KEY": hash_key,
        }
    )
    server = make_server("127.0.0.1", 0, store, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://localhost:{server.server_port}"
    store.config["STORE_URL"] = url
    allow_origin(platform, url)
    yield url
    server.shutdown()


def test_opt_in_checkout_confirmation_and_console(page: Page, platform, store_url, screenshots):
    page.goto(f"{store_url}/products/{COFFEE}")
    page.get_by_label("Subscribe and save 10%").check()
    expect(page.locator("og-offer")).to_have_attribute("subscribed", "")
    page.get_by_label("Deliver every").select_option("6_2")
    expect(page.locator("og-offer")).to_have_attribute("frequency", "6_2")
    page.get_by_role("button", name="Add to cart").click()
    page.goto(f"{store_url}/products/{SOAP}")  # a one-time line beside it
    expect(page.locator("og-offer .og-offer")).to_be_visible()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".cart-line__plan--sub")).to_have_text(
        "Subscription · delivered every 6 weeks"
    )

    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Email").fill("maya.okafor@example.com")
    page.get_by_label("Password").fill("demo1234")
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Test payment token").select_option("tok_visa_4242")
    page.get_by_role("button", name=re.compile(r"^Place order")).click()

    expect(page).to_have_url(re.compile(r"/orders/FF\d{6}\?placed=1$"))
    order_number = re.search(r"/orders/(FF\d{6})", page.url).group(1)
    created = page.locator(".sub-item")
    expect(created).to_have_count(1)
    expect(created).to_contain_text("Café Crème Coffee Beans, 12 oz")
    expect(created).to_contain_text("delivered every 6 weeks")
    expect(created).to_contain_text("next delivery 20")
    page.screenshot(path=screenshots / "purchase-confirmation.png", full_page=True)
    next_date = re.search(r"next delivery (\d{4}-\d{2}-\d{2})", created.inner_text()).group(1)
    session_id = next(c["value"] for c in page.context.cookies() if c["name"] == "og_session_id")
    cart = requests.get(f"{platform.url}/carts/{session_id}/", timeout=5).json()
    assert cart["items"] == []  # the purchase POST cleared the session's opt-ins

    sign_in(page, platform)
    page.goto(f"{platform.url}/console/subscribers/DC69410241")
    row = page.locator("article.sub-card", has_text=COFFEE)
    expect(row).to_contain_text("every 6 weeks")
    expect(row).to_contain_text(next_date)
    expect(row).to_contain_text(order_number)  # the checkout it came from
    expect(row).to_contain_text("Active")
    page.screenshot(path=screenshots / "console-subscriber.png", full_page=True)
    page.get_by_role("link", name="Checkouts").click()
    expect(page.get_by_test_id("with-subscriptions")).not_to_have_text("0")
    expect(page.locator("table", has_text=order_number)).to_contain_text("Subscription")
    page.screenshot(path=screenshots / "console-checkouts.png", full_page=True)
