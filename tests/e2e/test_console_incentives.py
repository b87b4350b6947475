"""A merchant creates a scheduled incentive, reads what shoppers will see, and switches it off."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_console import sign_in

pytestmark = pytest.mark.e2e


def test_create_list_and_switch_off_an_incentive(page: Page, platform, screenshots):
    sign_in(page, platform)
    page.get_by_role("link", name="Incentives").click()
    page.get_by_role("link", name="New incentive").click()
    # Starts in 2030, so the demo store's prices never see it, even if this test stops halfway.
    page.get_by_label("Name", exact=True).fill("Spring <sale>")
    page.get_by_label("Kind", exact=True).select_option("percent_off")
    page.get_by_label("Percent off", exact=True).fill("ten")
    page.get_by_label("Starts", exact=True).fill("2030-04-01T09:00")
    page.get_by_role("button", name="Create incentive").click()
    expect(page.get_by_text("Enter a number such as 10 or 12.50.")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Spring <sale>")
    expect(page.get_by_label("Starts", exact=True)).to_have_value("2030-04-01T09:00")

    page.get_by_label("Percent off", exact=True).fill("15")
    page.get_by_label("Minimum subtotal", exact=True).fill("30")
    page.get_by_role("button", name="Create incentive").click()
    expect(page.get_by_text("Incentive created.")).to_be_visible()
    expect(page.get_by_test_id("shopper-text")).to_have_text(
        "Shoppers will read: Save 15% on every order over $30.00"
    )
    expect(page.get_by_label("Minimum subtotal", exact=True)).to_have_value("30.00")
    page.screenshot(path=screenshots / "incentive-form.png", full_page=True)

    page.get_by_role("link", name="← Incentives").click()
    row = page.locator("#incentives-table tr", has_text="Spring <sale>")
    expect(row).to_contain_text("Save 15% on every order over $30.00")
    expect(row).to_contain_text("2030-04-01 09:00 → no end")
    expect(row.locator("[data-status]")).to_have_text("Scheduled")
    page.screenshot(path=screenshots / "incentives.png", full_page=True)

    row.get_by_role("button", name="Deactivate Spring <sale>").click()
    expect(row.locator("[data-status]")).to_have_text("Off")  # htmx swapped the table
    expect(page.get_by_text("Spring <sale> is off.")).to_be_visible()
    expect(row.get_by_role("button", name="Activate Spring <sale>")).to_be_visible()
