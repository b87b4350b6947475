"""A merchant browses the catalog a feed made, edits a product's overrides, and sets up SFTP."""

import re

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Merchant
from app.services import feeds, sftp_accounts
from tests import feedkit
from tests.e2e.test_console import sign_in

pytestmark = pytest.mark.e2e


def demo_merchant(platform) -> Merchant:
    """The seeded demo merchant (call inside the platform's app context)."""
    return db.session.scalar(
        db.select(Merchant).where(Merchant.public_id == platform.credentials["merchant_public_id"])
    )


@pytest.fixture(scope="module")
def catalog(platform):
    """Ingest a small feed for the demo merchant through the real feed path."""
    app = platform.app
    with app.app_context():
        merchant = demo_merchant(platform)
        sftp_accounts.ensure(merchant.id, merchant.public_id)
        db.session.commit()
        feedkit.drop(
            app,
            merchant,
            feedkit.feed(
                feedkit.product_xml("E2E-TEA", name="Crème Earl Grey & Bergamot™"),
                feedkit.product_xml("E2E-OAT", name="Oat Crunch", in_stock="0"),
                feedkit.discontinued_xml("E2E-OLD"),
            ),
        )
        [run] = feeds.run_now(merchant.id)
        assert run.status == "succeeded", run.error
        db.session.remove()


def test_products_search_filter_and_overrides(page: Page, platform, catalog, screenshots):
    sign_in(page, platform)
    page.get_by_role("link", name="Products").click()
    table = page.locator("#products-table")
    expect(table.locator('[data-product="E2E-TEA"]')).to_contain_text("Crème Earl Grey & Bergamot™")
    page.wait_for_load_state("load")  # htmx has bound the search form (a busy run is slower)
    page.get_by_label("Search products").fill("earl")
    expect(table.locator("[data-product]")).to_have_count(1)  # htmx swapped the table
    expect(page).to_have_url(re.compile(r"/console/products/\?q=earl"))  # pushed for reload
    page.get_by_label("Search products").fill("e2e")
    page.get_by_label("Show").select_option("discontinued")
    expect(table.locator("[data-product]")).to_have_count(1)
    expect(table.locator('[data-product="E2E-OLD"]')).to_contain_text("discontinued")
    page.screenshot(path=screenshots / "console-products.png", full_page=True)

    page.get_by_label("Show").select_option("")
    table.get_by_role("link", name="Crème Earl Grey & Bergamot™").click()
    expect(page.get_by_role("heading", name="Crème Earl Grey & Bergamot™")).to_be_visible()
    page.get_by_label("Allowed frequencies").fill("2_2 9_9")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("use every_period pairs")).to_be_visible()
    page.get_by_label("Allowed frequencies").fill("2_2 4_2 1_3")
    page.get_by_label("Default frequency").fill("4_2")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Product settings saved.")).to_be_visible()
    expect(page.get_by_label("Default frequency")).to_have_value("4_2")
    page.screenshot(path=screenshots / "console-product-detail.png", full_page=True)


@pytest.fixture
def restore_sftp_password(platform):
    """Other tests upload with the seeded SFTP password: put it back afterwards."""
    yield
    creds = platform.credentials
    with platform.app.app_context():
        merchant = demo_merchant(platform)
        sftp_accounts.set_password(
            merchant.id,
            merchant.public_id,
            password=creds["sftp_password"],
            actor=sftp_accounts.events.SYSTEM,
        )
        db.session.remove()


def test_sftp_password_is_shown_once(page: Page, platform, screenshots, restore_sftp_password):
    sign_in(page, platform)
    page.get_by_role("link", name="Settings").click()
    panel = page.locator("#sftp")
    expect(panel.get_by_test_id("sftp-username")).to_have_text(
        platform.credentials["merchant_public_id"]
    )
    page.once("dialog", lambda dialog: dialog.accept())  # replacing a password asks first
    panel.get_by_role("button", name="Generate").click()
    password = page.get_by_test_id("new-sftp-password")
    expect(password).to_be_visible()
    with platform.app.app_context():
        assert sftp_accounts.DatabaseAuthenticator(platform.app).check_password(
            platform.credentials["merchant_public_id"], password.inner_text()
        )
    panel.screenshot(path=screenshots / "console-sftp-settings.png")
    page.reload()
    expect(page.get_by_test_id("new-sftp-password")).to_have_count(0)
