"""Recurring orders in the console, end to end: a shopper subscribes at the demo store's
checkout; placement sends the subscription's orders to the store's live order endpoint; the
merchant sees the first placed with the store's order number and the second declined with the
store's message, switches the store back to accepting, retries, and watches it succeed (the
page updates itself while a real RQ worker places it).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from demo import create_app as create_store
from demo import db as store_db
from tests.e2e.conftest import allow_origin
from tests.e2e.test_console import sign_in

pytestmark = pytest.mark.e2e

COFFEE = "FF2040101"
USER_ID = "DC69410258"  # Jonas Lindqvist, a demo store customer
EMAIL = "jonas.lindqvist@example.com"
DECLINED = "Your card was declined. (store admin switch)"


@dataclass
class Store:
    url: str
    app: object


@pytest.fixture(scope="module")
def store(platform, demo_catalog, tmp_path_factory):
    """The demo store, live, knowing the merchant's id and hash key (to check signatures)."""
    with platform.app.app_context():
        from app.services import merchants

        hash_key = merchants.get_by_public_id(demo_catalog).hash_key
    app = create_store(
        {
            "DEMO_DB": str(tmp_path_factory.mktemp("orders-store") / "demo.db"),
            "SECRET_KEY": "e2e-secret",
            "MERCHANT_PUBLIC_ID": demo_catalog,
            "PLATFORM_URL": platform.url,
            "PLATFORM_API_KEY": platform.credentials["api_key"],
            "MERCHANT_HASH_KEY": hash_key,
        }
    )
    # Order numbers of its own: every demo store of the session numbers from FF100001, and the
    # platform answers a second checkout with the same merchant_order_id as a repeat.
    conn = store_db.connect(app.config["DEMO_DB"])
    with conn:
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('store_order', 700)")
    conn.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://localhost:{server.server_port}"
    app.config["STORE_URL"] = url
    allow_origin(platform, url)
    yield Store(url, app)
    server.shutdown()


def subscribe(page: Page, store: Store) -> None:
    """Jonas subscribes to coffee at the store's checkout (the store posts the purchase POST)."""
    page.goto(f"{store.url}/products/{COFFEE}")
    page.get_by_label("Subscribe and save 10%").check()
    expect(page.locator("og-offer")).to_have_attribute("subscribed", "")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill("demo1234")
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Test payment token").select_option("tok_visa_4242")
    page.get_by_role("button", name=re.compile(r"^Place order")).click()
    expect(page).to_have_url(re.compile(r"/orders/FF\d{6}\?placed=1$"))
    expect(page.locator(".sub-item")).to_have_count(1)


def switch_store(page: Page, store: Store, label: str) -> None:
    """The store admin's switch for recurring orders, as a merchant would flip it."""
    page.goto(f"{store.url}/admin/")
    section = page.locator("#recurring")
    section.get_by_label("Answer recurring orders").select_option(label=label)
    section.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Recurring orders: {label}.")).to_be_visible()


def upcoming_order(platform) -> tuple[str, object]:
    """Jonas's unsent order: its public id and place date."""
    with platform.app.app_context():
        from app.extensions import db
        from app.models import Customer, Order, OrderStatus
        from app.services import merchants

        merchant = merchants.get_by_public_id(platform.credentials["merchant_public_id"])
        return db.session.execute(
            select(Order.public_id, Order.place_date)
            .join(Customer)
            .where(
                Order.merchant_id == merchant.id,
                Customer.merchant_user_id == USER_ID,
                Order.status == OrderStatus.UNSENT,
            )
        ).one()


def interrupted_run(platform) -> str:
    """A run of 500 due orders whose job of 200 died; its public id."""
    with platform.app.app_context():
        from app.extensions import db
        from app.models import PlacementRun
        from app.models.types import utcnow
        from app.services import merchants, placement

        merchant = merchants.get_by_public_id(platform.credentials["merchant_public_id"])
        run = PlacementRun(
            merchant_id=merchant.id,
            trigger="cron",
            slot="e2e-interrupted",
            as_of=placement.local_today(merchant, utcnow()),
            due=500,
        )
        db.session.add(run)
        db.session.commit()
        placement.batch_stopped(run.id, list(range(200)))
        return run.public_id


def run_placement(platform, as_of) -> None:
    """A placement run for ``as_of`` (``flask placement run --as-of``): the place date come."""
    with platform.app.app_context():
        from app.services import merchants, placement

        merchant = merchants.get_by_public_id(platform.credentials["merchant_public_id"])
        placement.run_now(merchant.id, as_of=as_of)


def test_placed_declined_and_retried_orders_in_the_console(
    page: Page, platform, store, worker, screenshots
):
    subscribe(page, store)
    first, first_date = upcoming_order(platform)

    sign_in(page, platform)  # the merchant points order placement at the live store
    page.goto(f"{platform.url}/console/settings/placement")
    page.get_by_label("Order endpoint URL").fill(f"{store.url}/og/orders")
    page.get_by_role("button", name="Save placement settings").click()
    expect(page.get_by_text("Order placement settings saved.")).to_be_visible()
    page.screenshot(path=screenshots / "console-placement-settings.png", full_page=True)

    switch_store(page, store, "Accept")
    run_placement(platform, first_date)
    page.goto(f"{store.url}/admin/")
    received = page.locator("tr.recurring-order", has_text=first)
    store_number = received.locator(".order-number").inner_text()
    assert re.fullmatch(r"FF\d{6}", store_number)

    page.goto(f"{platform.url}/console/orders/")
    row = page.locator(f'tr[data-order="{first}"]')
    expect(row).to_contain_text("Placed")
    expect(row).to_contain_text(store_number)
    page.screenshot(path=screenshots / "console-orders.png", full_page=True)
    row.get_by_role("link").click()
    expect(page.get_by_test_id("store-order-id")).to_have_text(store_number)
    expect(page.locator("tbody.attempt")).to_have_count(1)
    expect(page.locator("tbody.attempt")).to_contain_text(f"order {store_number}")
    page.locator("summary", has_text="XML sent").click()
    expect(page.locator("pre.xml").first).to_contain_text(f"<orderPublicId>{first}")
    expect(page.locator("pre.xml").first).to_contain_text("<orderTokenId>••••")
    page.screenshot(path=screenshots / "console-order-placed.png", full_page=True)

    second, second_date = upcoming_order(platform)  # the subscription's next order
    assert second != first and second_date > first_date
    switch_store(page, store, "Decline 140 (card declined)")
    run_placement(platform, second_date)

    page.goto(f"{platform.url}/console/")
    expect(page.locator('[data-count="attention"]')).not_to_have_text("0")
    page.locator("#orders-today").screenshot(path=screenshots / "console-overview-orders.png")
    page.locator('[data-count="attention"] a').click()
    declined_row = page.locator(f'tr[data-order="{second}"]')
    expect(declined_row).to_contain_text("Card declined, retrying")
    page.screenshot(path=screenshots / "console-orders-attention.png", full_page=True)
    declined_row.get_by_role("link").click()
    live = page.locator("#order-live")
    expect(live).to_have_attribute("data-status", "18")
    expect(page.get_by_test_id("last-message")).to_have_text(DECLINED)
    expect(page.locator("tbody.attempt")).to_contain_text("ERROR 140")
    expect(page.locator("tbody.attempt")).to_contain_text(DECLINED)
    page.screenshot(path=screenshots / "console-order-declined.png", full_page=True)
    declined_url = page.url

    switch_store(page, store, "Accept")
    stale = page.context.new_page()  # a second tab, left open on the declined order
    stale.goto(declined_url)
    page.goto(declined_url)
    page.get_by_role("button", name="Retry now").click()
    expect(page.get_by_test_id("order-notice")).to_have_text("Queued to send again now.")
    expect(live).to_have_attribute("data-status", "5")  # polled until the worker placed it
    expect(page.get_by_role("button", name="Retry now")).to_have_count(0)
    expect(page.locator("tbody.attempt")).to_have_count(2)
    expect(page.locator('tbody.attempt[data-attempt="2"]')).to_contain_text("Placed")
    expect(page.locator('tbody.attempt[data-attempt="2"]')).to_contain_text("sent by hand")
    retried_number = page.get_by_test_id("store-order-id").inner_text()
    assert re.fullmatch(r"FF\d{6}", retried_number) and retried_number != store_number
    page.screenshot(path=screenshots / "console-order-retried.png", full_page=True)

    stale.once("dialog", lambda dialog: dialog.accept())  # "Reject this order?"
    stale.get_by_role("button", name="Reject").click()  # too late: it was placed meanwhile
    expect(stale.get_by_test_id("order-notice")).to_have_text(
        "Not done: the order is “Placed” now; it changed since this page was loaded."
    )
    expect(stale.locator("#order-live")).to_have_attribute("data-status", "5")
    stale.locator("#order-live .order-status").screenshot(
        path=screenshots / "console-order-conflict.png"
    )
    stale.close()

    interrupted = interrupted_run(platform)  # a run one of whose jobs died
    page.goto(f"{platform.url}/console/placement/runs")
    expect(page.locator("table.runs tbody tr")).not_to_have_count(0)
    expect(page.locator("table.runs")).to_contain_text("Declined 1")
    row = page.locator(f'tr[data-run="{interrupted}"]')
    expect(row).to_contain_text("interrupted")
    expect(row).to_contain_text("200 of 500")
    page.screenshot(path=screenshots / "console-placement-runs.png", full_page=True)

    page.goto(f"{platform.url}/console/subscribers/{USER_ID}")
    orders = page.locator("table.customer-orders")
    expect(orders.locator(f'tr[data-order="{first}"]')).to_contain_text("Placed")
    expect(orders.locator(f'tr[data-order="{second}"]')).to_contain_text(retried_number)
