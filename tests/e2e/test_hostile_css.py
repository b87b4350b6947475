"""The offer on a page whose theme is hostile to it (``tests/fixtures/host/hostile-theme.css``).

Every offer type (radio, toggle, select), subscribed and not, must keep its layout there: each
control visible, inside the widget's box, clear of the words and prices, and clickable (it is
clicked, and the opt-in follows), while the offer still takes the page's font and colour.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.hostkit import HOSTILE_LINK, host_site

pytestmark = pytest.mark.e2e

COFFEE = "FF2040101"  # eligible, every 2 weeks by default, $16.50
TEA = "FF2040103"  # eligible, monthly, $12.00
TYPES = ("radio", "toggle", "select")
PAGE = (
    '<main style="width: 560px; margin: 0 auto">'
    + "".join(
        f'<section><h2>{product} {kind}</h2><og-offer product="{product}" type="{kind}">'
        "</og-offer></section>"
        for product in (COFFEE, TEA)
        for kind in TYPES
    )
    + "</main>"
    + HOSTILE_LINK  # after our stylesheet: it wins every tie
)

# The geometry of one offer: its boxes, each control's box and what is under its centre, and
# the box of each run of text (a Range: the words themselves, not their block), in view.
GEOMETRY = """el => {
  const box = e => { const r = e.getBoundingClientRect();
    return {x: r.left, y: r.top, w: r.width, h: r.height}; };
  el.scrollIntoView({block: 'center'});
  const root = el.querySelector('.og-offer');
  const controls = [...root.querySelectorAll('input, select, summary, button')].map(c => {
    const b = box(c), s = getComputedStyle(c);
    const hit = document.elementFromPoint(b.x + b.w / 2, b.y + b.h / 2);
    return {id: c.id || c.tagName, box: b, hit: hit === c, on: hit && hit.outerHTML.slice(0, 80),
            shown: s.display !== 'none' && s.visibility === 'visible' && +s.opacity > 0.9};
  });
  const texts = [...root.querySelectorAll('.og-label, .og-price, .og-freq > label')].map(t => {
    const range = document.createRange(); range.selectNodeContents(t);
    return {text: t.textContent.trim(), box: box(range)};
  });
  return {element: box(el), root: box(root), page: box(el.closest('main')), controls, texts,
          font: getComputedStyle(root).fontFamily, color: getComputedStyle(root).color};
}"""


def inside(inner: dict, outer: dict, slack: float = 1) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["w"] <= outer["x"] + outer["w"] + slack
        and inner["y"] + inner["h"] <= outer["y"] + outer["h"] + slack
    )


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def assert_holds(offer: Locator) -> None:
    """The offer's layout holds: every control shown, in the box, clear of the text, on top."""
    g = offer.evaluate(GEOMETRY)
    assert "Georgia" in g["font"] and g["color"] == "rgb(59, 42, 26)"  # the page's look
    assert inside(g["element"], g["page"]) and inside(g["root"], g["element"]), g
    assert g["controls"] and g["texts"], g
    for control in g["controls"]:
        name, b = control["id"], control["box"]
        assert control["shown"] and b["w"] >= 8 and b["h"] >= 8, (name, control)
        assert inside(b, g["root"]), (name, b, g["root"])
        assert control["hit"], f"{name}: {control['on']} is on top of it"
        for text in g["texts"]:
            assert not overlap(b, text["box"]), (name, text)
        if name.endswith(("sub0", "sub1", "toggle")):  # a radio or switch: small, on its row
            assert b["w"] < 30 and b["h"] < 30, (name, b)
            row = [t["box"] for t in g["texts"] if overlap_rows(t["box"], b)]
            assert row, f"{name}: no words beside it"


def overlap_rows(a: dict, b: dict) -> bool:
    return a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


@pytest.fixture(scope="module")
def hostile(platform, demo_catalog):
    script = f"{platform.url}/{demo_catalog}/main.js"
    with host_site(platform, {"offers": PAGE}, scripts=(script,)) as url:
        yield f"{url}/offers"


def test_every_offer_type_holds_its_layout_on_a_hostile_page(page: Page, hostile, screenshots):
    page.set_viewport_size({"width": 900, "height": 900})
    page.goto(hostile)
    offers = page.locator("og-offer")
    expect(offers.locator(".og-offer")).to_have_count(6)
    page.screenshot(path=screenshots / "hostile-theme-offers.png", full_page=True)
    for i in range(6):
        assert_holds(offers.nth(i))

    for i in range(6):  # subscribe to each; then coffee's change frequency and buy once
        element, kind = offers.nth(i), TYPES[i % 3]
        if kind == "radio":
            subscribe, once = element.locator("[id$=sub1]"), element.locator("[id$=sub0]")
            subscribe.click()
        elif kind == "toggle":
            subscribe = once = element.get_by_role("switch")
            subscribe.click()
        else:
            choice = element.locator("select")
            choice.click()
            choice.select_option("4_2" if i < 3 else "1_3")
        expect(element).to_have_attribute("subscribed", "")
        assert_holds(element)
        if i >= 3:
            continue  # tea stays subscribed, for the screenshot
        if kind == "select":
            element.locator("select").select_option("")
        else:
            frequency = element.locator(".og-freq select")
            frequency.click()
            frequency.select_option("4_2")
            expect(element).to_have_attribute("frequency", "4_2")
            once.click()
        expect(element).not_to_have_attribute("subscribed", "")
        assert_holds(element)

    page.screenshot(path=screenshots / "hostile-theme-offers-after.png", full_page=True)
