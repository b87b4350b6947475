"""The catalog's real path: the store's "Sync catalog" uploads over SFTP, the console runs it."""

import re
import threading

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from demo import create_app
from tests.e2e.test_console import sign_in

pytestmark = pytest.mark.e2e

PRODUCTS = 13  # every product in the store's catalog, the discontinued one included
RUN_SECONDS = 30_000  # ms: a worker picks the job up and ingests 13 products well within this


@pytest.fixture(scope="module")
def store_url(platform, drop_site, tmp_path_factory):
    """The demo store, configured from the seeded credentials as ``make run`` configures it."""
    creds = platform.credentials
    app = create_app(
        {
            "DEMO_DB": str(tmp_path_factory.mktemp("feed-store") / "demo.db"),
            "SECRET_KEY": "e2e-secret",
            "MERCHANT_PUBLIC_ID": creds["merchant_public_id"],
            "PLATFORM_URL": platform.url,
            "SFTP_USERNAME": creds["sftp_username"],
            "SFTP_PASSWORD": creds["sftp_password"],
            "SFTP_PORT": drop_site.port,  # seeded as 2222; the test's drop site has a free port
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["STORE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app.config["STORE_URL"]
    server.shutdown()
    thread.join(timeout=5)


def test_sync_catalog_then_run_now_fills_the_platform_catalog(
    page: Page, platform, store_url, worker, screenshots
):
    merchant_id = platform.credentials["merchant_public_id"]
    file_name = f"{merchant_id}.Products.xml"

    page.goto(f"{store_url}/")
    page.get_by_role("link", name="Store admin").click()
    expect(page.get_by_role("heading", name="Catalog sync")).to_be_visible()
    page.get_by_role("button", name="Sync catalog").click()
    confirmation = page.locator(".flash").filter(has_text="Uploaded")
    expect(confirmation).to_contain_text(f"Uploaded {file_name} ({PRODUCTS} products) at ")
    expect(confirmation).to_contain_text("Perennial ingests it at the next :00 or :30")
    expect(confirmation.get_by_role("link", name="the console")).to_have_attribute(
        "href", f"{platform.url}/console/feeds/"
    )
    expect(page.locator(".fingerprint")).to_have_text(re.compile(r"^SHA256:"))
    page.screenshot(path=screenshots / "store-admin-synced.png", full_page=True)

    sign_in(page, platform)
    page.get_by_role("link", name="Feed runs").click()
    page.get_by_role("button", name="Run now (1 file waiting)").click()
    expect(page.get_by_text("Started 1 feed run(s).")).to_be_visible()  # our run is on top now
    run_row = page.locator("#feed-runs tbody tr").first
    expect(run_row).to_contain_text(file_name)
    expect(run_row.locator(".badge")).to_have_text("succeeded", timeout=RUN_SECONDS)
    expect(run_row.locator("td").nth(4)).to_have_text(str(PRODUCTS))  # the Created column

    run_row.get_by_role("link").click()
    report = page.locator("#feed-run")
    expect(report).to_have_attribute("data-status", "succeeded")
    for count, value in (("received", PRODUCTS), ("created", PRODUCTS), ("rejected", 0)):
        expect(report.locator(f'[data-count="{count}"]')).to_have_text(str(value))
    expect(report.get_by_role("link", name="Download report (CSV)")).to_be_visible()
    page.screenshot(path=screenshots / "feed-run-report.png", full_page=True)

    for product_id, name in (
        ("FF3050104", "PawPure™ Pine Cat Litter, 20 lb"),
        ("FF2040101", "Café Crème Coffee Beans, 12 oz"),
        ("FF3050101", "Salmon & Sweet Potato Dog Food, 12 lb"),
    ):
        response = page.request.get(
            f"{platform.url}/products/{product_id}/",
            headers={"x-api-key": platform.credentials["api_key"]},
        )
        assert response.status == 200, response.text()
        product = response.json()
        assert product["name"] == name
        assert product["details_url"] == f"{store_url}/products/{product_id}"
        page.goto(product["details_url"])
        expect(page.get_by_role("heading", level=1)).to_have_text(product["name"])
