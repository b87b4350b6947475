"""Staff change a subscriber's quantity and cancel with a reason on the subscriber's page; a
bad value is refused next to its field. Each is an htmx round trip confirmed in place."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def subscriber(platform):
    """A merchant of its own (the demo merchant's catalog is counted by the feed test), a staff
    member, and a customer with one subscription."""
    from app.services import accounts
    from tests.actionkit import make_shopper, subscribe
    from tests.factories import make_merchant

    with platform.app.app_context():
        from app.extensions import db

        merchant = make_merchant(timezone="America/New_York", name="Fern Coffee")
        email = f"staff-{merchant.public_id[:8]}@example.com"
        accounts.create_staff(merchant.id, email, PASSWORD, role="staff")
        db.session.commit()
        shopper = make_shopper(merchant)
        sub = subscribe(shopper, quantity=2)
        return {
            "email": email,
            "user_id": shopper.customer.merchant_user_id,
            "sub": sub.public_id,
        }


def sign_in(page: Page, platform, email: str) -> None:
    page.goto(f"{platform.url}/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def test_staff_change_quantity_and_cancel_with_a_reason(
    page: Page, platform, subscriber, screenshots
):
    sign_in(page, platform, subscriber["email"])
    page.goto(f"{platform.url}/console/subscribers/{subscriber['user_id']}")
    card = page.locator(f"#sub-{subscriber['sub']}")
    expect(card.locator('[data-fact="quantity"]')).to_have_text("2")
    card.get_by_text("Manage this subscription").click()

    quantity = card.locator('form[data-action="quantity"]')
    quantity.get_by_label("Quantity").fill("120")
    quantity.get_by_role("button", name="Change quantity").click()
    refused = page.locator(f"#e-{subscriber['sub']}-quantity")
    expect(refused).to_contain_text("a whole number from 1 to 99")
    expect(card.locator('[data-fact="quantity"]')).to_have_text("2")
    page.screenshot(path=screenshots / "console-subscriber-quantity-refused.png", full_page=True)

    quantity.get_by_label("Quantity").fill("3")
    quantity.get_by_role("button", name="Change quantity").click()
    expect(quantity.get_by_role("status")).to_have_text("✓ Quantity is now 3.")
    expect(card.locator('[data-fact="quantity"]')).to_have_text("3")
    expect(quantity.get_by_role("button", name="Change quantity")).to_be_focused()
    expect(page.locator("table.events")).to_contain_text("subscription.change_quantity")

    cancel = card.locator('form[data-action="cancel"]')
    cancel.get_by_label("Reason").select_option(label="Other (say more)")
    cancel.get_by_role("button", name="Cancel subscription").click()
    expect(page.locator(f"#e-{subscriber['sub']}-cancel_reason")).to_contain_text(
        'Please tell us more for "Other".'
    )
    page.screenshot(path=screenshots / "console-subscriber-cancel-refused.png", full_page=True)
    cancel.get_by_label("Reason").select_option(label="Other (say more)")
    cancel.get_by_label("In their words").fill("Moving abroad")
    cancel.get_by_role("button", name="Cancel subscription").click()

    expect(card.get_by_role("status")).to_have_text("✓ Cancelled.")
    expect(card.locator(".badge")).to_have_text("Cancelled")
    expect(card.locator('[data-fact="cancel-reason"]')).to_have_text("Moving abroad")
    expect(card.locator('form[data-action="reactivate"]')).to_be_visible()
    expect(page.locator("table.events")).to_contain_text("subscription.cancel")
    page.screenshot(path=screenshots / "console-subscriber-cancelled.png", full_page=True)


def test_owner_sets_what_the_dashboard_offers(page: Page, platform, subscriber, screenshots):
    from app.services import accounts

    with platform.app.app_context():
        from app.extensions import db
        from app.models import StaffUser

        merchant_id = db.session.scalar(
            db.select(StaffUser.merchant_id).where(StaffUser.email == subscriber["email"])
        )
        email = f"owner-{subscriber['email']}"
        accounts.create_staff(merchant_id, email, PASSWORD, role="owner")
        db.session.commit()
    sign_in(page, platform, email)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Subscription Manager settings").click()
    page.get_by_label("Quantity choices").fill("1, 2, 3, 6")
    page.get_by_label("Swap product (within its swap group)").uncheck()
    page.get_by_label("Ship less often instead").check()
    page.get_by_label("Ship every (for “less often”)").fill("8")
    page.get_by_label("Period").select_option(label="weeks")
    page.get_by_label("Authentication page URL").fill("http://shop.example/og-auth")
    page.get_by_role("button", name="Save Subscription Manager settings").click()
    expect(page.locator("#e-auth_page_url")).to_contain_text("An https:// address")
    expect(page.get_by_label("Quantity choices")).to_have_value("1, 2, 3, 6")
    page.screenshot(path=screenshots / "console-subscription-manager-refused.png", full_page=True)
    page.get_by_label("Authentication page URL").fill("https://shop.example/og-auth")
    page.get_by_role("button", name="Save Subscription Manager settings").click()
    expect(page.get_by_text("Subscription Manager settings saved.")).to_be_visible()
    expect(page.get_by_label("Swap product (within its swap group)")).not_to_be_checked()
    expect(page.get_by_label("Ship every (for “less often”)")).to_have_value("8")
    page.screenshot(path=screenshots / "console-subscription-manager.png", full_page=True)


def test_staff_change_an_item_of_the_upcoming_order(page: Page, platform, subscriber, screenshots):
    """The item's quantity this time (refused, then changed), then taken out of the order."""
    sign_in(page, platform, subscriber["email"])
    page.goto(f"{platform.url}/console/subscribers/{subscriber['user_id']}")
    section = page.locator("#upcoming-items")
    row = section.locator(".item-row").first
    row.get_by_label("Quantity this time").fill("0")
    row.get_by_role("button", name="Change").click()
    expect(section.locator(".item-row").first.get_by_role("alert")).to_be_visible()
    row = section.locator(".item-row").first
    row.get_by_label("Quantity this time").fill("3")
    row.get_by_role("button", name="Change").click()
    row = section.locator(".item-row").first
    expect(row.get_by_role("status")).to_have_text("✓ 3 in this order.")
    expect(row.get_by_label("Quantity this time")).to_have_value("3")
    page.screenshot(path=screenshots / "console-item-quantity.png", full_page=True)
    row.get_by_role("button", name="Take out of this order").click()
    expect(page.locator("#upcoming-items").get_by_role("status")).to_have_text(
        "✓ Moved to its next order."
    )
