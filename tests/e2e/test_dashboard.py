"""The subscriber dashboard on the demo store: a subscriber logs in (the store sets og_auth),
opens My Subscriptions on a phone and manages their subscriptions with the keyboard only (a
new shipping address too, refused then corrected); an
accessibility check (axe-core); a host page with a hostile stylesheet keeps every control
visible, inside the widget and clickable."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from werkzeug.serving import make_server

from demo import create_app as create_store
from tests.e2e.conftest import allow_origin

pytestmark = pytest.mark.e2e

AXE = Path(__file__).with_name("vendor") / "axe-4.14.1.min.js"
USER, EMAIL, PASSWORD = "DC69410265", "ines.garcia@example.com", "demo1234"
PHONE = {"width": 390, "height": 844}
HOSTILE = (
    "input, select, button { width: 100% !important } "
    "* { box-sizing: content-box !important } "
    "label { display: block; float: left } fieldset { display: none }"
)


@pytest.fixture(scope="module")
def store_url(platform, demo_catalog, tmp_path_factory):
    with platform.app.app_context():  # the console tests may have rotated the hash key
        from app.services import merchants

        hash_key = merchants.get_by_public_id(demo_catalog).hash_key
    store = create_store(
        {
            "DEMO_DB": str(tmp_path_factory.mktemp("dashboard-store") / "demo.db"),
            "SECRET_KEY": "e2e-secret",
            "MERCHANT_PUBLIC_ID": demo_catalog,
            "PLATFORM_URL": platform.url,
            "MERCHANT_HASH_KEY": hash_key,
        }
    )
    server = make_server("127.0.0.1", 0, store, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://localhost:{server.server_port}"
    store.config["STORE_URL"] = url
    allow_origin(platform, url)
    _subscriber(platform, demo_catalog)
    yield url
    server.shutdown()


def _subscriber(platform, merchant_public_id: str) -> None:
    """Inès, a store customer with two subscriptions due in a week (as checkout makes them)."""
    from app.extensions import db
    from app.models import Address, Customer, PaymentMethod, Product
    from app.models.types import utcnow
    from app.services import events, merchants, subscriptions

    with platform.app.app_context():
        merchant = merchants.get_by_public_id(merchant_public_id)
        customer = Customer(
            merchant_id=merchant.id,
            merchant_user_id=USER,
            email=EMAIL,
            first_name="Inès",
        )
        db.session.add(customer)
        db.session.flush()
        home = Address(
            merchant_id=merchant.id,
            customer_id=customer.id,
            first_name="Inès",
            last_name="García",
            address="12 Harbor Lane",
            city="Portland",
            state_province_code="ME",
            zip_postal_code="04101",
            country_code="US",
            fingerprint="e2e-home",
        )
        card = PaymentMethod(
            merchant_id=merchant.id,
            customer_id=customer.id,
            token_id="tok_visa_4242",
            cc_type=1,
            expiry_month=11,
            expiry_year=2031,
        )
        db.session.add_all([home, card])
        db.session.flush()
        products = {
            p.product_id: p
            for p in db.session.scalars(
                db.select(Product).where(Product.merchant_id == merchant.id)
            )
        }
        now = utcnow()
        first = now.astimezone(merchant.tz).date() + timedelta(days=7)
        subscriptions.create_many(
            customer,
            [
                subscriptions.NewSubscription(
                    product=products[pid],
                    quantity=1,
                    every=4,
                    every_period=2,
                    offer_id=None,
                    first_date=first,
                    extra_data={},
                )
                for pid in ("FF2040101", "FF4060101")
            ],
            start=first - timedelta(days=7),
            shipping=home,
            payment=card,
            merchant_order_id="e2e-dashboard",
            session_id=None,
            currency=merchant.currency,
            now=now,
            actor=events.Actor("staff", "e2e", "test"),
            incentives=[],
        )
        db.session.commit()


def log_in(page: Page, store_url: str) -> None:
    page.goto(f"{store_url}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def tab_to(page: Page, target: Locator, limit: int = 200) -> None:
    """Press Tab until ``target`` has the focus (keyboard only, as a subscriber would), once
    the last answer has settled (htmx settles after it swaps; msi.js puts the focus back then)."""
    page.wait_for_function(
        "() => !document.querySelector("
        "'#og-msi .htmx-settling, #og-msi .htmx-swapping, #og-msi .htmx-request')"
    )
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    pytest.fail(f"Tab never reached {target}")


def order_of(page: Page, product: str) -> Locator:
    """The upcoming order with an item of ``product``."""
    item = page.locator(".og-msi-item-name", has_text=product)
    return page.locator("#og-msi article.og-msi-order", has=item)


def dashboard(page: Page) -> Locator:
    board = page.locator("#og-msi .og-msi")
    expect(board.get_by_role("heading", name="Your subscriptions")).to_be_visible()
    return board


def test_keyboard_only_on_a_phone(browser, platform, store_url, screenshots):
    context = browser.new_context(viewport=PHONE, has_touch=True)
    page = context.new_page()
    log_in(page, store_url)
    og_auth = next(c for c in context.cookies() if c["name"] == "og_auth")
    assert og_auth["path"] == "/" and not og_auth["httpOnly"]
    page.goto(f"{store_url}/account")
    page.get_by_role("link", name="Manage my subscriptions").click()
    board = dashboard(page)
    coffee = board.locator("article.og-msi-sub", has_text="Café Crème Coffee Beans")
    expect(board.locator("article.og-msi-order")).to_have_count(1)
    page.screenshot(path=screenshots / "dashboard-phone.png", full_page=True)

    # quantity: choose 2 with the arrow key, then the button; the focus stays on it
    quantity = coffee.get_by_label("Quantity")
    tab_to(page, quantity)
    page.keyboard.press("ArrowDown")
    save = coffee.get_by_role("button", name="Change quantity")
    page.keyboard.press("Tab")
    expect(save).to_be_focused()
    page.keyboard.press("Enter")
    expect(coffee.get_by_role("status")).to_have_text("Quantity changed to 2.")
    expect(coffee.get_by_role("button", name="Change quantity")).to_be_focused()

    # frequency
    tab_to(page, coffee.get_by_label("Deliver"))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(coffee.get_by_role("status")).to_contain_text("It now ships every 6 weeks.")
    expect(coffee.get_by_role("button", name="Change frequency")).to_be_focused()

    # next order date, typed as the phone's date field takes it
    when = date.today() + timedelta(days=20)
    tab_to(page, coffee.get_by_label("Next order date"))
    page.keyboard.type(when.strftime("%m%d%Y"))
    tab_to(page, coffee.get_by_role("button", name="Change date"))
    page.keyboard.press("Enter")
    expect(coffee.get_by_role("status")).to_have_text("Next order date changed.")
    expect(coffee.get_by_role("button", name="Change date")).to_be_focused()
    expect(coffee).to_contain_text(f"{when:%B} {when.day}, {when.year}")

    # pause (behind "More options", which stays open across the answer), then resume
    more = coffee.locator("summary", has_text="More options")
    tab_to(page, more)
    page.keyboard.press("Enter")
    tab_to(page, coffee.get_by_role("button", name="Pause"))
    page.keyboard.press("Enter")
    expect(coffee.get_by_role("status")).to_have_text("Paused until you resume it.")
    expect(coffee.locator(".og-msi-badge")).to_have_text("Paused")
    tab_to(page, coffee.get_by_role("button", name="Resume"))
    page.keyboard.press("Enter")
    expect(coffee.get_by_role("status")).to_have_text("Resumed.")

    # skip the soap in its upcoming order
    order = order_of(page, "Eucalyptus")
    tab_to(page, order.get_by_role("button", name="Skip Eucalyptus Dish Soap, 16 oz this time"))
    page.keyboard.press("Enter")
    soap = board.locator("article.og-msi-sub", has_text="Eucalyptus")
    expect(soap.get_by_role("status")).to_contain_text("Skipped")

    # cancel the coffee with a reason, then reactivate it
    tab_to(page, coffee.locator("summary", has_text="Cancel subscription"))
    page.keyboard.press("Enter")
    reason = coffee.get_by_label("Why are you cancelling?")
    tab_to(page, reason)
    page.keyboard.press("End")  # "Other", which needs a few words: refused
    expect(reason).to_have_value("7")
    tab_to(page, coffee.get_by_role("button", name="Confirm cancellation"))
    page.keyboard.press("Enter")
    expect(coffee.get_by_role("alert")).to_be_visible()
    page.screenshot(path=screenshots / "dashboard-phone-refusal.png", full_page=True)
    expect(coffee.get_by_role("button", name="Confirm cancellation")).to_be_focused()
    tab_to(page, coffee.get_by_label("Why are you cancelling?"))
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")
    tab_to(page, coffee.get_by_role("button", name="Confirm cancellation"))
    page.keyboard.press("Enter")
    cancelled = board.locator("article.og-msi-sub--inactive", has_text="Café Crème")
    expect(cancelled.get_by_role("status")).to_have_text("Subscription cancelled.")
    expect(cancelled.get_by_role("status")).to_be_focused()
    tab_to(page, cancelled.get_by_role("button", name="Reactivate"))
    page.keyboard.press("Enter")
    expect(coffee.get_by_role("status")).to_have_text("Subscription reactivated.")

    # send the coffee's upcoming order now
    order = order_of(page, "Café Crème")
    tab_to(page, order.get_by_role("button", name="Send now"))
    page.keyboard.press("Enter")
    expect(order.get_by_role("status")).to_contain_text("on its way")
    expect(order.locator(".og-msi-badge")).to_have_text("Sending now")
    page.screenshot(path=screenshots / "dashboard-phone-after.png", full_page=True)

    context.close()


def test_keyboard_only_a_new_address_on_a_phone(browser, store_url, screenshots):
    context = browser.new_context(viewport=PHONE, has_touch=True)
    page = context.new_page()
    log_in(page, store_url)
    page.goto(f"{store_url}/account/subscriptions")
    soap = dashboard(page).locator("article.og-msi-sub", has_text="Eucalyptus")
    tab_to(page, soap.locator("summary", has_text="More options"))
    page.keyboard.press("Enter")
    tab_to(page, soap.locator("summary", has_text="Add a new address"))
    page.keyboard.press("Enter")
    typed = {
        "First name": "Inès",
        "Last name": "García",
        "Address": "48 Rue Sainte-Catherine",
        "City": "Montréal",
        "State or province (optional)": "QC",
        "ZIP or postal code": "H2X 1K4",
        "Country code (two letters, such as US)": "QB",  # not a country: refused
    }
    for label, text in typed.items():
        tab_to(page, soap.get_by_label(label, exact=True))
        page.keyboard.type(text)
    tab_to(page, soap.get_by_role("button", name="Add address and ship here"))
    page.keyboard.press("Enter")

    # refused at the form: what was typed is kept, the focus is on the field to fix
    form = soap.locator("form", has=page.get_by_role("button", name="Add address and ship here"))
    expect(form.get_by_role("alert")).to_have_text("Please check the address: country.")
    country = soap.get_by_label("Country code (two letters, such as US)")
    expect(country).to_be_focused()
    expect(country).to_have_attribute("aria-invalid", "true")
    expect(country).to_have_accessible_description("A two-letter country code, such as US")
    expect(soap.get_by_label("City", exact=True)).to_have_value("Montréal")
    soap.locator(".og-msi-new-address").screenshot(
        path=screenshots / "dashboard-new-address-refused.png"
    )

    # corrected, and sent with Enter from the field
    page.keyboard.press("Control+A")
    page.keyboard.type("CA")
    page.keyboard.press("Enter")
    expect(soap.get_by_role("status")).to_have_text(
        "Address added. This subscription now ships there."
    )
    expect(soap.get_by_role("status")).to_be_focused()  # the form closed behind it
    expect(soap.get_by_label("City", exact=True)).to_be_hidden()
    expect(soap.locator(".og-msi-facts")).to_contain_text("48 Rue Sainte-Catherine")
    expect(soap.get_by_label("Ship to")).to_contain_text("48 Rue Sainte-Catherine")
    soap.screenshot(path=screenshots / "dashboard-new-address.png")
    context.close()


def test_without_og_auth_or_with_a_tampered_one_it_asks_to_sign_in_again(
    page: Page, store_url, screenshots
):
    log_in(page, store_url)
    page.goto(f"{store_url}/account/subscriptions")
    dashboard(page)
    og_auth = next(c for c in page.context.cookies() if c["name"] == "og_auth")
    tampered = {**og_auth, "value": og_auth["value"].replace("|", "|1", 1)}  # its timestamp
    for cookie in (None, tampered):
        page.context.clear_cookies(name="og_auth")  # the store's session stays signed in
        if cookie:
            page.context.add_cookies([cookie])
        page.goto(f"{store_url}/account/subscriptions")
        notice = page.locator("#og-msi").get_by_role("alert")
        expect(notice).to_have_text("Please sign in again to manage your subscriptions.")
        expect(page.locator("#og-msi article")).to_have_count(0)
    page.screenshot(path=screenshots / "dashboard-signed-out.png", full_page=True)
    page.goto(f"{store_url}/account")
    page.get_by_role("button", name="Log out").click()
    assert not any(c["name"] == "og_auth" for c in page.context.cookies())


def test_no_serious_accessibility_violations(page: Page, store_url, screenshots):
    log_in(page, store_url)
    page.goto(f"{store_url}/account/subscriptions")
    board = dashboard(page)
    for summary in board.locator("summary").all():
        summary.click()
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "() => axe.run('#og-msi', {resultTypes: ['violations']}).then(r => r.violations.map("
        "v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))})))"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert bad == [], bad
    page.screenshot(path=screenshots / "dashboard-axe.png", full_page=True)


def test_hostile_host_stylesheet_keeps_every_control_usable(page: Page, store_url, screenshots):
    log_in(page, store_url)
    page.set_viewport_size({"width": 420, "height": 900})
    page.goto(f"{store_url}/account/subscriptions")
    page.add_style_tag(content=HOSTILE)
    board = dashboard(page)
    for summary in board.locator("summary").all():
        summary.click()
    box = page.locator("#og-msi").bounding_box()
    controls = board.locator("input:not([type=hidden]), select, textarea, button, summary").all()
    assert len(controls) > 20
    problems = []
    for control in controls:
        control.scroll_into_view_if_needed()
        found = control.evaluate(
            """el => { const r = el.getBoundingClientRect();
                const b = document.getElementById('og-msi').getBoundingClientRect();
                const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                return {w: r.width, h: r.height, inside: r.left >= b.left - 0.5 &&
                  r.right <= b.right + 0.5, hit: !!hit && (hit === el || el.contains(hit) ||
                  (el.labels && [...el.labels].some(l => l.contains(hit))))}; }"""
        )
        if not (found["w"] > 0 and found["h"] > 0 and found["inside"] and found["hit"]):
            problems.append((control.evaluate("el => el.outerHTML.slice(0, 120)"), found))
    assert problems == []
    assert box["width"] <= 420
    host_font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert board.evaluate("el => getComputedStyle(el).fontFamily") == host_font  # inherited
    page.screenshot(path=screenshots / "dashboard-hostile.png", full_page=True)


def test_a_subscriber_adds_a_product_from_its_page_and_sees_it_in_the_dashboard(
    page: Page, platform, demo_catalog, store_url, screenshots
):
    """Instant upsell on the demo store's own product page (the store's login set og_auth),
    with no serious accessibility violation in the offer; the item is then in the dashboard."""
    from app.extensions import db
    from app.models import Merchant, Product

    tea = "FF2040103"
    with platform.app.app_context():
        merchant = db.session.scalar(db.select(Merchant).filter_by(public_id=demo_catalog))
        product = db.session.scalar(
            db.select(Product).filter_by(merchant_id=merchant.id, product_id=tea)
        )
        before = merchant.upsell_locations, product.upsell_eligible
        merchant.upsell_locations, product.upsell_eligible = ["pdp"], True
        db.session.commit()
    try:
        log_in(page, store_url)
        page.goto(f"{store_url}/products/{tea}")
        offer = page.locator("og-offer .og-offer--upsell")
        expect(offer).to_contain_text("Add to your order on")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "() => axe.run('og-offer', {resultTypes: ['violations']}).then(r => r.violations"
            ".map(v => ({id: v.id, impact: v.impact})))"
        )
        assert [v for v in result if v["impact"] in ("serious", "critical")] == [], result
        page.get_by_role("button", name="Add once").click()
        expect(page.locator("og-offer").get_by_role("status")).to_contain_text("once")
        page.screenshot(path=screenshots / "demo-upsell-added.png", full_page=True)
        page.goto(f"{store_url}/account/subscriptions")
        dashboard(page)
        expect(order_of(page, "Rooibos")).to_contain_text("Rooibos")
        page.screenshot(path=screenshots / "dashboard-after-upsell.png", full_page=True)
    finally:
        with platform.app.app_context():
            merchant = db.session.scalar(db.select(Merchant).filter_by(public_id=demo_catalog))
            product = db.session.scalar(
                db.select(Product).filter_by(merchant_id=merchant.id, product_id=tea)
            )
            merchant.upsell_locations, product.upsell_eligible = before
            db.session.commit()


def test_a_subscriber_about_to_cancel_stays_for_the_discount(
    page: Page, platform, demo_catalog, store_url, screenshots
):
    """The merchant's save offer is a discount to stay: shown before the cancel form, taken in
    one click, confirmed in place, and the subscription's card says what it was given."""
    from app.extensions import db
    from app.models import Merchant

    with platform.app.app_context():
        merchant = db.session.scalar(db.select(Merchant).filter_by(public_id=demo_catalog))
        before = merchant.dashboard_settings
        merchant.dashboard_settings = {
            **(before or {}),
            "save_offer": {"kind": "discount", "percent": 15, "orders": 2},
        }
        db.session.commit()
    try:
        log_in(page, store_url)
        page.goto(f"{store_url}/account/subscriptions")
        board = dashboard(page)
        card = board.locator("article.og-msi-sub").first
        card.locator("summary", has_text="Cancel subscription").click()
        expect(card).to_contain_text("Before you go: would you stay for 15% off your next 2")
        card.get_by_role("button", name="Stay for 15% off your next 2 orders").click()
        card = board.locator("article.og-msi-sub").first
        expect(card.get_by_role("status")).to_have_text(
            "Thank you for staying: your discount is on your next orders."
        )
        expect(card.locator(".og-msi-facts")).to_contain_text(
            "Discount to stay15% off your next 2 orders"
        )
        expect(
            card.get_by_role("button", name="Stay for 15% off your next 2 orders")
        ).to_have_count(0)
        page.screenshot(path=screenshots / "dashboard-discount-to-stay.png", full_page=True)
    finally:
        with platform.app.app_context():
            merchant = db.session.scalar(db.select(Merchant).filter_by(public_id=demo_catalog))
            merchant.dashboard_settings = before
            db.session.commit()


def test_a_customer_changes_their_email_and_perennial_has_it(
    page: Page, platform, store_url, screenshots
):
    """My Account's contact details: saved by the store, sent to Set Contact Details."""
    from app.extensions import db
    from app.models import Customer

    log_in(page, store_url)
    page.goto(f"{store_url}/account")
    try:
        page.get_by_label("Email").fill("ines.new@example.com")
        page.get_by_label("Phone").fill("207-555-0142")
        page.get_by_role("button", name="Save contact details").click()
        expect(page.get_by_text("Your contact details are saved.")).to_be_visible()
        expect(page.get_by_label("Email")).to_have_value("ines.new@example.com")
        page.screenshot(path=screenshots / "demo-contact-details.png", full_page=True)
        with platform.app.app_context():
            found = db.session.scalar(db.select(Customer).filter_by(merchant_user_id=USER))
            assert (found.email, found.phone_number) == ("ines.new@example.com", "207-555-0142")
    finally:  # the other tests log in with the first email
        page.goto(f"{store_url}/account")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_role("button", name="Save contact details").click()
        expect(page.get_by_text("Your contact details are saved.")).to_be_visible()
