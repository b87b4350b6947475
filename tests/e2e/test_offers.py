"""Offers in a real browser on two origins: the demo store (localhost) and the platform (127.0.0.1).

The shopper opts in on a product page, changes frequency, reloads, and the choice holds;
``og.offers.getOptins()`` and ``/carts/<session>/`` agree with contracts T12; the cart shows the
subscription line. The host-page rules are checked on pages built to be hostile (its stylesheet:
``test_hostile_css.py``).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests
from flask import Flask, Response
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from demo import create_app as create_store
from tests.e2e.conftest import allow_origin

pytestmark = pytest.mark.e2e

COFFEE = "FF2040101"  # eligible, every 2 weeks by default, $16.50
TEA = "FF2040103"  # eligible, monthly
OUT_OF_STOCK = "FF3050105"
INELIGIBLE = "FF4060103"
HTMX = Path(__file__).resolve().parents[2] / "static" / "vendor" / "htmx-2.0.11.min.js"


def serve(app) -> tuple[str, object]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://localhost:{server.server_port}", server


@pytest.fixture(scope="module")
def store_url(platform, demo_catalog, tmp_path_factory):
    store = create_store(
        {
            "DEMO_DB": str(tmp_path_factory.mktemp("offers-store") / "demo.db"),
            "SECRET_KEY": "e2e-secret",
            "MERCHANT_PUBLIC_ID": demo_catalog,
            "PLATFORM_URL": platform.url,
        }
    )
    url, server = serve(store)
    store.config["STORE_URL"] = url
    allow_origin(platform, url)
    yield url
    server.shutdown()


def optins(page: Page):
    return page.evaluate("window.og.offers.getOptins()")


def session_cookie(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "og_session_id")


def layout_shift(page: Page) -> float:
    return page.evaluate("""() => new Promise(resolve => {
        let total = 0;
        new PerformanceObserver(list => {
            for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
        }).observe({type: 'layout-shift', buffered: true});
        requestAnimationFrame(() => requestAnimationFrame(() => resolve(total)));
    })""")


def test_shopper_opts_in_and_the_choice_follows_them(page: Page, platform, store_url, screenshots):
    offer_requests = []
    page.on("request", lambda r: "/offers/" in r.url and offer_requests.append(r.url))
    page.goto(f"{store_url}/products/{COFFEE}")
    element = page.locator("og-offer")
    offer = element.locator(".og-offer")
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("Subscribe and save 10%")
    expect(offer).to_contain_text("Save 10% on every order")
    expect(offer).to_contain_text("Free shipping on every recurring order")
    expect(offer).to_contain_text("$14.85")  # $16.50 less 10%, from the pricing function
    expect(element).not_to_have_attribute("subscribed", "")
    expect(element).to_have_attribute("frequency", "2_2")  # the product's feed frequency
    assert len(offer_requests) == 1
    assert layout_shift(page) < 0.01

    page.evaluate("""() => {
        window.changes = [];
        og.offers.addOptinChangedCallback(change => window.changes.push(change));
        document.addEventListener('og-optin-changed', e => window.changes.push(e.detail));
    }""")
    page.get_by_label("Subscribe and save 10%").check()
    expect(element).to_have_attribute("subscribed", "")
    page.get_by_label("Deliver every").select_option("4_2")
    expect(element).to_have_attribute("frequency", "4_2")
    changes = page.evaluate("window.changes")
    assert changes[-1]["productId"] == COFFEE and changes[-1]["optedIn"] is True
    assert changes[-1]["frequency"] == "4_2" and len(changes) == 4  # callback + event, twice

    page.reload()
    expect(element).to_have_attribute("subscribed", "")
    expect(element).to_have_attribute("frequency", "4_2")
    expect(page.get_by_label("Subscribe and save 10%")).to_be_checked()
    expect(page.get_by_label("Deliver every")).to_have_value("4_2")
    page.screenshot(path=screenshots / "offer-product-page.png", full_page=True)

    session_id = session_cookie(page)
    assert session_id.startswith(f"{platform.credentials['merchant_public_id']}.")
    offer_id = offer.get_attribute("data-og-offer")
    t12 = [
        {
            "product": COFFEE,
            "subscription_info": {"components": []},
            "tracking_override": {
                "offer": offer_id,
                "every": 4,
                "every_period": 2,
                "session_id": session_id,
            },
        }
    ]
    assert optins(page) == t12
    [item] = requests.get(f"{platform.url}/carts/{session_id}/", timeout=5).json()["items"]
    assert (item["id"], item["every"], item["every_period"], item["offer_id"]) == (
        COFFEE,
        4,
        2,
        offer_id,
    )
    assert len(item["incentives"]["initial"]) == 1 and len(item["incentives"]["ongoing"]) == 2

    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(f"{store_url}/cart")
    plan = page.locator(".cart-line__plan--sub")
    expect(plan).to_have_text("Subscription · delivered every 4 weeks")
    page.screenshot(path=screenshots / "offer-cart.png", full_page=True)

    page.goto(f"{store_url}/products/{COFFEE}")
    expect(element).to_have_attribute("subscribed", "")
    page.evaluate("og.offers.clear()")
    expect(element).not_to_have_attribute("subscribed", "")
    assert optins(page) == []
    assert requests.get(f"{platform.url}/carts/{session_id}/", timeout=5).json()["items"] == []


def test_keyboard_only_shopper(page: Page, store_url):
    page.goto(f"{store_url}/products/{TEA}")
    one_time = page.get_by_label("One-time purchase")
    expect(one_time).to_be_checked()
    one_time.focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("og-offer")).to_have_attribute("subscribed", "")
    expect(page.get_by_role("group", name="Purchase options for Rooibos")).to_be_visible()
    page.get_by_text("How subscriptions work").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Skip, change or cancel any time")).to_be_visible()


def test_out_of_stock_and_ineligible_render_nothing(page: Page, store_url):
    answered = []
    page.on("requestfinished", lambda r: "/offers/" in r.url and answered.append(r.url))
    for product in (OUT_OF_STOCK, INELIGIBLE):
        page.goto(f"{store_url}/products/{product}")
        page.wait_for_load_state("networkidle")
        assert any(f"p={product}" in url for url in answered), "the loader asked the platform"
        expect(page.locator("og-offer")).to_be_empty()
        expect(page.locator("og-offer")).not_to_have_attribute("subscribed", "")


# -- hostile host pages ---------------------------------------------------------------------


HOST_PAGES = {
    "own-htmx": """
      <script src="/htmx.js"></script>
      <script>
        window.hostEvents = [];
        document.addEventListener('htmx:configRequest', e => {
          e.detail.headers['X-Host-CSRF'] = 'host-secret';
          window.hostEvents.push(e.detail.elt.id || e.detail.elt.tagName);
        });
      </script>
      <button id="host-button" hx-get="/ping" hx-target="#host-out">Host button</button>
      <div id="host-out"></div>
      <div id="host-load" hx-get="/ping" hx-trigger="load"></div>
      <form action="/buy" method="post"><input name="host_field" value="x">
        <og-offer product="{coffee}" location="pdp"></og-offer></form>
    """,
    "twice": """
      <og-offer product="{coffee}"></og-offer>
      <og-offer product="{tea}" location="cart"></og-offer>
      <og-offer product="{coffee}" location="qv" type="toggle"></og-offer>
    """,
    "once": """
      <og-offer product="{coffee}"></og-offer>
      <og-offer product="{tea}" location="cart"></og-offer>
      <og-offer product="{coffee}" location="qv" type="toggle"></og-offer>
    """,
    "many": "".join(
        f'<og-offer product="{{coffee}}" location="qv{i}"></og-offer>' for i in range(60)
    ),
    "later": """
      <div id="slot"></div>
      <button id="add" onclick="
        const el = document.createElement('og-offer');
        el.setAttribute('product', '{coffee}');
        document.getElementById('slot').appendChild(el);">Add an offer</button>
      <button id="swap" onclick="
        document.querySelector('og-offer').setAttribute('product', '{tea}')">Swap product</button>
    """,
}


# What the loader leaves on the page: listeners on window and document (htmx adds one when it is
# built) and MutationObservers, counted from before the first loader runs.
PROBE = """<script>
  window.probe = {listeners: 0, observers: 0};
  for (const target of [window, document]) {
    const add = target.addEventListener;
    target.addEventListener = function () { probe.listeners++; return add.apply(this, arguments); };
  }
  const Observer = window.MutationObserver;
  window.MutationObserver = function (callback) {
    probe.observers++;
    return new Observer(callback);
  };
</script>"""


@pytest.fixture(scope="module")
def host(platform, demo_catalog):
    """A third origin serving test pages; its hits counter shows what its own htmx did."""
    app = Flask("host")
    app.config["hits"] = []
    script = f"{platform.url}/{demo_catalog}/main.js"

    @app.get("/htmx.js")
    def htmx_js():
        return Response(HTMX.read_bytes(), mimetype="text/javascript")

    @app.get("/ping")
    def ping():
        app.config["hits"].append("ping")
        return "pong"

    @app.get("/<name>")
    def page(name):
        body = HOST_PAGES[name].replace("{coffee}", COFFEE).replace("{tea}", TEA)
        loader = f'<script src="{script}"></script>'
        twice = loader if name == "twice" else ""
        probe = PROBE if name in ("once", "twice") else ""
        return (
            f"<!doctype html><html><head><meta charset=utf-8>{probe}"
            f"<script>window.before = Object.keys(window);</script>{loader}{twice}</head>"
            f"<body>{body}</body></html>"
        )

    url, server = serve(app)
    allow_origin(platform, url)
    yield url, app.config["hits"]
    server.shutdown()


def test_host_with_its_own_htmx(page: Page, host, screenshots):
    url, hits = host
    sent_headers = []
    page.on("request", lambda r: "/offers/" in r.url and sent_headers.append(r.headers))
    page.goto(f"{url}/own-htmx")
    expect(page.locator("og-offer .og-offer")).to_be_visible()
    expect(page.locator("#host-load")).to_have_text("pong")  # the host's htmx works
    page.get_by_role("button", name="Host button").click()
    expect(page.locator("#host-out")).to_have_text("pong")
    assert hits == ["ping", "ping"]  # each host element driven once, by the host's htmx only

    page.get_by_label("Subscribe and save 10%").check()
    expect(page.locator("og-offer")).to_have_attribute("subscribed", "")
    assert all("x-host-csrf" not in h and "hx-request" not in h for h in sent_headers)
    assert "og-offer" not in " ".join(page.evaluate("window.hostEvents")).lower()
    assert page.evaluate("window.hostEvents").count("host-button") == 1
    assert page.evaluate("typeof htmx.version") == "string"  # the host's htmx stays theirs
    page.screenshot(path=screenshots / "host-own-htmx.png", full_page=True)


def test_loader_twice_and_one_global(page: Page, host):
    url, _hits = host
    batches = []
    page.on("request", lambda r: "/offers/" in r.url and batches.append(r.url))
    page.goto(f"{url}/twice")
    expect(page.locator("og-offer .og-offer")).to_have_count(3)
    expect(page.locator("og-offer").nth(2).locator("[role=switch]")).to_be_visible()
    assert len(batches) == 1  # three offers, one request
    expect(page.locator("style[data-og-offers]")).to_have_count(1)
    added = page.evaluate(
        "Object.keys(window).filter(k => !window.before.includes(k) && k !== 'before')"
    )
    assert added == ["og"]
    assert page.evaluate("Object.keys(og)") == ["offers"]  # the shared core is not enumerable


def test_second_loader_reuses_the_core(page: Page, host):
    """A second main.js builds no second htmx and hands no element to htmx again."""
    url, _hits = host
    page.goto(f"{url}/once")
    expect(page.locator("og-offer .og-offer")).to_have_count(3)
    once = page.evaluate("window.probe")
    page.goto(f"{url}/twice")
    expect(page.locator("og-offer .og-offer")).to_have_count(3)
    assert page.evaluate("window.probe") == once  # no second htmx, observer or start-up
    choices = []
    page.on("request", lambda r: "/offers/choose" in r.url and choices.append(r.method))
    element = page.locator("og-offer").first
    element.get_by_label("Subscribe and save 10%").check()
    expect(element).to_have_attribute("subscribed", "")
    expect(element.get_by_label("Subscribe and save 10%")).to_be_checked()
    assert choices == ["POST"]  # processed once: one request per choice


def test_a_listing_with_more_offers_than_one_request_takes(page: Page, host):
    url, _hits = host
    batches = []
    page.on("request", lambda r: "/offers/" in r.url and batches.append(r.url))
    page.goto(f"{url}/many")
    expect(page.locator("og-offer .og-offer")).to_have_count(60)
    assert len(batches) == 2  # 50 + 10: the server's per-request limit


def test_offers_added_and_changed_after_load(page: Page, host):
    url, _hits = host
    page.goto(f"{url}/later")
    page.get_by_role("button", name="Add an offer").click()
    root = page.locator("og-offer .og-offer")
    expect(root).to_have_attribute("data-og-product", COFFEE)
    page.get_by_role("button", name="Swap product").click()
    expect(root).to_have_attribute("data-og-product", TEA)
    expect(page.locator("og-offer")).to_have_attribute("frequency", "1_3")


# -- the console ----------------------------------------------------------------------------


def test_console_offer_editor_previews_live(page: Page, platform, demo_catalog, screenshots):
    from tests.e2e.test_console import sign_in

    sign_in(page, platform)
    page.get_by_role("link", name="Offers").click()
    page.get_by_role("link", name="default").click()
    preview = page.locator("#offer-preview")
    expect(preview).to_contain_text("Subscribe and save 10%")
    page.get_by_label("As shoppers see it on").select_option(COFFEE)
    expect(preview).to_contain_text("$14.85")
    page.get_by_label("Subscribe label").fill("Subscribe & save")
    expect(preview).to_contain_text("Subscribe & save 10%")  # not saved yet
    page.get_by_label("Type").select_option("toggle")
    expect(preview.get_by_role("switch")).to_be_visible()
    page.screenshot(path=screenshots / "console-offer-editor.png", full_page=True)
    page.get_by_label("Type").select_option("radio")
    page.get_by_label("Subscribe label").fill("Subscribe and save")
    page.get_by_role("button", name="Save offer").click()
    expect(page.locator(".flash")).to_contain_text("Offer for “default” saved.")
