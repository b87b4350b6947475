"""The demo store end to end: a product page tagged for offers, cart, login, checkout."""

import os
import re
import threading

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from demo import create_app

pytestmark = pytest.mark.e2e

MERCHANT_ID = "0e5de2bedc5e11e3a2e4bc764e106cf4"
PLATFORM_URL = "http://perennial.test"
CUSTOMER_EMAIL = "maya.okafor@example.com"
PASSWORD = "demo1234"  # noqa: S105 - the published demo password


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Playwright can't download browsers here; use Debian's Chromium.
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    return {**browser_type_launch_args, "executable_path": path}


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    app = create_app(
        {
            "DEMO_DB": str(tmp_path_factory.mktemp("demo-store") / "demo.db"),
            "MERCHANT_PUBLIC_ID": MERCHANT_ID,
            "PLATFORM_URL": PLATFORM_URL,
            "SECRET_KEY": "e2e-secret",
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)  # port 0: the OS picks a free one
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def shop(page: Page, store_url):
    # The platform isn't running in this test: answer its scripts with an empty body.
    page.route(
        f"{PLATFORM_URL}/**",
        lambda route: route.fulfill(status=200, content_type="application/javascript", body=""),
    )
    return page


def add_to_cart(page: Page, store_url: str, product_id: str, quantity: int) -> None:
    page.goto(f"{store_url}/products/{product_id}")
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(f"{store_url}/cart")


def log_in(page: Page) -> None:
    page.get_by_label("Email").fill(CUSTOMER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_product_page_is_tagged_for_offers(shop: Page, store_url, screenshots):
    shop.goto(f"{store_url}/products/FF2040101")

    expect(shop.get_by_role("heading", level=1)).to_have_text("Café Crème Coffee Beans, 12 oz")
    offer = shop.locator("og-offer")
    expect(offer).to_have_count(1)
    expect(offer).to_have_attribute("product", "FF2040101")
    expect(offer).to_have_attribute("location", "pdp")
    buy_box = shop.locator("form", has=offer)
    expect(buy_box.get_by_role("button", name="Add to cart")).to_be_enabled()
    script = shop.locator(f'script[src="{PLATFORM_URL}/{MERCHANT_ID}/main.js"]')
    expect(script).to_have_count(1)
    expect(script).to_have_attribute("async", "")
    shop.screenshot(path=screenshots / "demo-product.png", full_page=True)


def test_checkout_places_an_order(shop: Page, store_url, screenshots):
    add_to_cart(shop, store_url, "FF2040101", 2)
    add_to_cart(shop, store_url, "FF3050104", 1)
    expect(shop.locator(".cart-line")).to_have_count(2)
    expect(shop.locator(".cart-count")).to_have_text("3")

    shop.get_by_role("link", name="Checkout").click()
    expect(shop).to_have_url(re.compile(r"/login\?next=/checkout$"))
    log_in(shop)
    expect(shop).to_have_url(f"{store_url}/checkout")
    expect(shop.get_by_label("Street address")).to_have_value("75 Broad Street")
    shop.get_by_label("Test payment token").select_option("tok_visa_4242")
    shop.get_by_role("button", name=re.compile(r"^Place order")).click()

    expect(shop).to_have_url(re.compile(r"/orders/FF\d{6}\?placed=1$"))
    expect(shop.get_by_role("heading", level=1)).to_have_text("Thank you, Maya!")
    lines = shop.locator(".order-line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("Café Crème Coffee Beans, 12 oz")
    expect(lines.nth(0)).to_contain_text("$33.00")
    expect(lines.nth(1)).to_contain_text("PawPure™ Pine Cat Litter, 20 lb")
    expect(lines.nth(1)).to_contain_text("$16.99")
    expect(shop.locator(".totals__grand")).to_contain_text("$55.94")  # 49.99 + 5.95 shipping
    expect(shop.locator(".cart-count")).to_have_text("0")
    shop.screenshot(path=screenshots / "demo-confirmation.png", full_page=True)

    order_number = shop.locator(".order-number").inner_text()
    shop.get_by_role("link", name="Go to My Account").click()
    expect(shop.get_by_role("link", name=order_number)).to_be_visible()


def test_account_page_is_tagged_for_the_dashboard(shop: Page, store_url):
    shop.goto(f"{store_url}/account")
    log_in(shop)

    expect(shop).to_have_url(f"{store_url}/account")
    expect(shop.get_by_role("heading", name="My Subscriptions")).to_be_visible()
    shop.get_by_role("link", name="Manage my subscriptions").click()  # its own page
    expect(shop).to_have_url(f"{store_url}/account/subscriptions")
    expect(shop.locator("#og-msi")).to_be_attached()
    expect(shop.locator(f'script[src="{PLATFORM_URL}/{MERCHANT_ID}/msi.js"]')).to_have_count(1)


def test_declined_test_token_keeps_the_cart(shop: Page, store_url):
    add_to_cart(shop, store_url, "FF4060101", 1)
    shop.get_by_role("link", name="Checkout").click()
    log_in(shop)
    shop.get_by_label("Test payment token").select_option("tok_decline")
    shop.get_by_role("button", name=re.compile(r"^Place order")).click()

    expect(shop.get_by_text("Your card was declined")).to_be_visible()
    expect(shop.locator(".cart-count")).to_have_text("1")
