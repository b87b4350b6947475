"""A merchant signs in to the console, sees live process health, and manages settings."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def sign_in(page: Page, platform) -> None:
    creds = platform.credentials
    page.goto(f"{platform.url}/console/")
    expect(page).to_have_url(f"{platform.url}/console/login?next=/console/")
    page.get_by_label("Email").fill(creds["console_email"])
    page.get_by_label("Password").fill(creds["console_password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def test_wrong_password_is_refused(page: Page, platform, screenshots):
    page.goto(f"{platform.url}/console/login")
    page.get_by_label("Email").fill(platform.credentials["console_email"])
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Invalid email or password.")).to_be_visible()
    page.screenshot(path=screenshots / "console-login-refused.png")


def test_overview_shows_worker_and_scheduler_heartbeat(page: Page, platform, screenshots):
    with platform.app.app_context():
        from app.jobs import queue

        queue.enqueue("app.jobs.health.heartbeat")
    result = platform.app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    sign_in(page, platform)
    worker = page.locator('[data-process="worker"]')
    expect(worker).to_contain_text("last seen")
    expect(worker).to_have_class("beat ok")
    expect(page.locator('[data-process="scheduler"]')).to_contain_text("last seen")
    expect(page.get_by_text("staff.login", exact=True).first).to_be_visible()
    page.screenshot(path=screenshots / "console-overview.png", full_page=True)


def test_settings_reveal_hash_key_and_create_api_key(page: Page, platform, screenshots):
    sign_in(page, platform)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_test_id("merchant-id")).to_have_text(
        platform.credentials["merchant_public_id"]
    )
    page.get_by_role("button", name="Reveal").click()
    expect(page.get_by_test_id("hash-key")).to_have_text(platform.credentials["hash_key"])
    page.get_by_label("New key name").fill("Checkout server")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("new-api-key")).to_contain_text("pk_")
    expect(page.locator("#api-keys")).to_contain_text("Checkout server")
    page.get_by_label("Timezone (IANA)").fill("Not/AZone")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#e-timezone")).to_contain_text("Unknown timezone")
    page.screenshot(path=screenshots / "console-settings.png", full_page=True)
