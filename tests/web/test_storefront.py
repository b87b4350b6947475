"""The storefront: loader script, batched offer fragments, opt-ins, the cart view and CORS."""

from __future__ import annotations

import gzip
import re
import threading
import uuid

import pytest

from app import assets
from app.extensions import db
from app.models import OptIn
from app.services import events, incentives, offer_views, offers, opt_ins, shopper_sessions, shops
from tests.factories import make_merchant, make_product

STORE = "https://shop.example"
ACTOR = events.Actor("staff", "1", "test")


@pytest.fixture
def shop(app):
    merchant = make_merchant(allowed_origins=[STORE])
    incentives.create(
        merchant.id, {"name": "Subscriber 10%", "kind": "percent_off", "percent": "10"}, actor=ACTOR
    )
    incentives.create(
        merchant.id,
        {"name": "Free ship", "kind": "free_shipping", "applies_to": "ongoing"},
        actor=ACTOR,
    )
    return merchant


@pytest.fixture
def coffee(shop):
    return make_product(shop, "AB4483902", name="Trail Coffee", price_minor=1900)


def session_of(merchant, n: int = 12345) -> str:
    return f"{merchant.public_id}.{n}.1596647632"


def batch(client, merchant, *slots, session=None, origin=STORE):
    query = [("session", session or session_of(merchant))]
    for i, slot in enumerate(slots):
        product, location, default, kind = (
            (*slot, "", "", "")[:4] if isinstance(slot, tuple) else (slot, "pdp", "", "")
        )
        query += [
            ("k", f"o{i}"),
            ("p", product),
            ("l", location or "pdp"),
            ("d", default),
            ("t", kind),
        ]
    headers = {"Origin": origin} if origin else {}
    return client.get(f"/{merchant.public_id}/offers/", query_string=query, headers=headers)


def slot_html(html: str, key: str) -> str:
    match = re.search(
        rf'<div data-og-slot="{key}">(.*?)</div>\s*(?=<div data-og-slot|$)', html, re.S
    )
    assert match, html
    return match.group(1)


def choose(
    client,
    merchant,
    product,
    *,
    subscribed="1",
    frequency="4_2",
    session=None,
    origin=STORE,
    **extra,
):
    form = {
        "og_session": session or session_of(merchant),
        "og_key": "o0",
        "og_product": product,
        "og_location": "pdp",
        "og_default": "",
        "og_type": "",
        "og_subscribed": subscribed,
        "og_frequency": frequency,
        **extra,
    }
    headers = {"Origin": origin} if origin else {}
    return client.post(f"/{merchant.public_id}/offers/choose", data=form, headers=headers)


# -- main.js ------------------------------------------------------------------------------


def test_loader_is_one_iife_with_etag_and_short_cache(client, shop):
    response = client.get(f"/{shop.public_id}/main.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("/*") and body.rstrip().endswith("})();")
    etag = response.headers["ETag"]
    again = client.get(f"/{shop.public_id}/main.js", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_unknown_merchant_gets_an_empty_harmless_script(client, shop):
    for mid in ("0" * 32, "not-a-merchant"):
        response = client.get(f"/{mid}/main.js")
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"
        assert response.get_data(as_text=True).strip().startswith("/*")
        assert "htmx" not in response.get_data(as_text=True)


def test_loader_budget_and_scoped_htmx(app):
    with app.app_context():
        body = assets.storefront_loader(app)[0].decode()
    ours = body[body.index("var OG_CSS") :]
    assert len(gzip.compress(ours.encode())) <= 6 * 1024  # htmx not counted
    htmx_part = body[: body.index("var OG_CSS")]
    assert ".body;" not in htmx_part.split("return Y}();")[0][-400:]  # no start-up block
    assert '"[og-hx-"+e+"], [data-og-hx-"+e+"]"' in htmx_part
    assert not re.search(r"(?<![\w-])hx-(get|post|trigger|target|swap)", htmx_part)


def test_loader_runs_its_widgets_on_the_core_inside_the_budget(app):
    with app.app_context():
        body = assets.storefront_loader(app)[0].decode()
    ours = body[body.index("var OG_CSS") :]
    assert body.count("function makeHtmx(){") == 1
    assert "makeHtmx()" in ours  # htmx is built by the core, and only when the page has none
    assert "function widget(" in ours and 'widget("offers",function(){' in ours
    assert "og_session_id" in ours  # the core is counted in the loader's budget


def test_scope_htmx_refuses_an_unexpected_htmx():
    with pytest.raises(RuntimeError):
        assets.scope_htmx("var htmx=function(){return Y}();")


# -- offers batch --------------------------------------------------------------------------


def test_batch_renders_each_offer_in_order_with_incentive_text(client, shop, coffee):
    make_product(shop, "OOS", in_stock=False)
    make_product(shop, "NOPE", autoship_eligible=False)
    response = batch(client, shop, "AB4483902", "OOS", "NOPE", "UNKNOWN")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == STORE
    assert "Origin" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    offer = slot_html(html, "o0")
    assert "Subscribe and save 10%" in offer
    assert "Save 10% on every order" in offer
    assert "Free shipping on every recurring order" in offer
    assert "$19.00" in offer and "$17.10" in offer  # one-time vs each delivery
    assert 'data-og-subscribed="0"' in offer
    assert 'og-hx-post="http://localhost/' in offer and " hx-" not in offer
    for key in ("o1", "o2", "o3"):  # out of stock, ineligible, unknown: nothing
        assert slot_html(html, key).strip() == ""


def test_frequencies_product_default_and_element_default(client, shop):
    make_product(shop, "D", every=30, every_period=1)
    make_product(
        shop,
        "A",
        allowed_frequencies=[{"every": 1, "every_period": 3}, {"every": 2, "every_period": 3}],
        default_every=2,
        default_every_period=3,
    )
    html = batch(
        client,
        shop,
        ("D", "pdp", "6_2"),
        ("D", "pdp", ""),
        ("A", "pdp", "1_3"),
        ("A", "pdp", "9_9"),
    ).get_data(as_text=True)
    assert 'data-og-frequency="6_2"' in slot_html(html, "o0")  # the element's default-frequency
    assert 'data-og-frequency="30_1"' in slot_html(html, "o1")  # the feed's frequency
    assert ">30 days<" in slot_html(html, "o1")
    only_allowed = slot_html(html, "o2")
    assert 'data-og-frequency="1_3"' in only_allowed
    assert re.findall(r'<option value="([\d_]+)"', only_allowed) == ["1_3", "2_3"]
    assert 'data-og-frequency="2_3"' in slot_html(html, "o3")  # invalid default ignored


def test_offer_type_from_attribute_and_location_settings(client, shop, coffee):
    offers.save(
        shop.id,
        "cart",
        {
            "offer_type": "toggle",
            "optin_label": "Make it a habit",
            "optout_label": "Just once",
            "every_label": "Every",
            "tooltip_trigger": "?",
            "tooltip": "Cancel any time.",
            "frequencies": "1_3 2_3",
            "default_frequency": "1_3",
            "active": "on",
            "show_tooltip": "",
        },
        actor=ACTOR,
    )
    html = batch(
        client, shop, ("AB4483902", "cart"), ("AB4483902", "pdp", "", "select"), ("AB4483902", "qv")
    ).get_data(as_text=True)
    cart = slot_html(html, "o0")
    assert 'role="switch"' in cart and "Make it a habit 10%" in cart
    assert "og-tip" not in cart
    assert 'name="og_choice"' in slot_html(html, "o1")
    assert 'type="radio"' in slot_html(html, "o2")  # the default offer


def test_inactive_location_renders_nothing(client, shop, coffee):
    offers.save(
        shop.id,
        "cart",
        {
            "offer_type": "radio",
            "optin_label": "a",
            "optout_label": "b",
            "every_label": "c",
            "tooltip_trigger": "d",
            "tooltip": "e",
            "frequencies": "4_2",
            "default_frequency": "4_2",
        },
        actor=ACTOR,
    )
    html = batch(client, shop, ("AB4483902", "cart")).get_data(as_text=True)
    assert slot_html(html, "o0").strip() == ""


@pytest.mark.parametrize(
    "query, message",
    [
        ([("k", "o0"), ("p", "X")], "Each offer needs"),
        ([("k", "<x>"), ("p", "X"), ("l", ""), ("d", ""), ("t", "")], "key"),
        ([("k", "o0"), ("p", ""), ("l", ""), ("d", ""), ("t", "")], "product id"),
        ([("k", "o0"), ("p", "X"), ("l", "a b"), ("d", ""), ("t", "")], "location"),
        (
            [
                (n, v)
                for i in range(51)
                for n, v in (("k", f"k{i}"), ("p", "X"), ("l", ""), ("d", ""), ("t", ""))
            ],
            "At most 50",
        ),
    ],
)
def test_batch_rejects_malformed_requests(client, shop, query, message):
    response = client.get(f"/{shop.public_id}/offers/", query_string=query)
    assert response.status_code == 400
    assert message in response.get_json()["detail"]


def test_batch_escapes_what_it_echoes(client, shop):
    make_product(shop, "P<1>", name='<script>alert("x")</script>')
    html = batch(client, shop, ("P<1>", "pdp")).get_data(as_text=True)
    assert "<script>" not in html and "P<1>" not in html
    assert "&lt;script&gt;" in html


# -- origins ------------------------------------------------------------------------------


def test_foreign_origin_gets_no_cors_and_cannot_write(client, shop, coffee):
    response = batch(client, shop, "AB4483902", origin="https://evil.example")
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert choose(client, shop, "AB4483902", origin="https://evil.example").status_code == 403
    assert db.session.query(OptIn).count() == 0


def test_preflight_answers_only_registered_origins(client, shop):
    ok = client.options(
        f"/{shop.public_id}/offers/choose",
        headers={"Origin": STORE, "Access-Control-Request-Method": "POST"},
    )
    assert ok.headers["Access-Control-Allow-Origin"] == STORE
    assert "POST" in ok.headers["Access-Control-Allow-Methods"]
    other = client.options(
        f"/{shop.public_id}/offers/choose",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in other.headers


def test_one_merchants_origin_is_not_anothers(client, shop, coffee):
    other = make_merchant(allowed_origins=["https://other.example"])
    make_product(other, "AB4483902")
    response = batch(client, other, "AB4483902", origin=STORE)
    assert response.status_code == 403


# -- opt-ins and the cart -------------------------------------------------------------------


def test_opt_in_change_frequency_opt_out(client, shop, coffee):
    response = choose(client, shop, "AB4483902", frequency="4_2")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-og-subscribed="1"' in html and 'data-og-frequency="4_2"' in html
    assert re.search(r'value="1" checked', html)
    assert 'data-og-frequency="6_2"' in choose(client, shop, "AB4483902", frequency="6_2").get_data(
        as_text=True
    )
    [row] = db.session.query(OptIn).all()
    assert (row.every, row.every_period) == (6, 2)
    # a reload: the batch shows the choice and carries the session's opt-ins
    html = batch(client, shop, "AB4483902").get_data(as_text=True)
    assert 'data-og-subscribed="1"' in slot_html(html, "o0")
    offer_id = offers.default(shop.id).public_id
    assert (
        f'data-og-optins=\'[{{"frequency": "6_2", "id": "AB4483902", "offer": "{offer_id}"}}]'
        in html
    )
    out = choose(client, shop, "AB4483902", subscribed="0", frequency="6_2")
    assert 'data-og-subscribed="0"' in out.get_data(as_text=True)
    assert db.session.query(OptIn).count() == 0


def test_select_offer_choice(client, shop, coffee):
    form = {"og_choice": "2_2"}
    html = choose(client, shop, "AB4483902", og_type="select", **form).get_data(as_text=True)
    assert 'data-og-subscribed="1"' in html and 'data-og-frequency="2_2"' in html
    html = choose(client, shop, "AB4483902", og_type="select", og_choice="").get_data(as_text=True)
    assert 'data-og-subscribed="0"' in html


@pytest.mark.parametrize(
    "change, message",
    [
        ({"frequency": "5_2"}, "offered frequencies"),
        ({"frequency": "junk"}, "offered frequencies"),
        ({"session": "nope"}, "og_session_id"),
        ({"og_product": "UNKNOWN"}, "cannot be subscribed"),
    ],
)
def test_choose_rejects_bad_input(client, shop, coffee, change, message):
    product = change.pop("og_product", "AB4483902")
    response = choose(client, shop, product, **change)
    assert response.status_code == 400
    assert message in response.get_json()["detail"]
    assert db.session.query(OptIn).count() == 0


def test_session_of_another_merchant_is_refused(client, shop, coffee):
    other = make_merchant()
    response = choose(client, shop, "AB4483902", session=session_of(other))
    assert response.status_code == 400


def test_cart_lists_opt_ins_like_t12(client, shop, coffee):
    choose(client, shop, "AB4483902", frequency="4_2")
    sid = session_of(shop)
    response = client.get(f"/carts/{sid}/")
    assert response.status_code == 200
    body = response.get_json()
    [item] = body["items"]
    offer = offers.default(shop.id)
    ids = {i.name: i.public_id for i in incentives.list_for(shop.id)}
    assert item == {
        "id": "AB4483902",
        "offer_id": offer.public_id,
        "every": 4,
        "every_period": 2,
        "quantity": 1,
        "attributes": {},
        "coupon_code": None,
        "incentives": {
            "initial": [ids["Subscriber 10%"]],
            "ongoing": [ids["Subscriber 10%"], ids["Free ship"]],
        },
    }
    tracked = client.get(f"/{shop.public_id}/optins/", query_string={"session": sid}).get_json()
    assert tracked == [
        {
            "product": "AB4483902",
            "subscription_info": {"components": []},
            "tracking_override": {
                "offer": offer.public_id,
                "every": 4,
                "every_period": 2,
                "session_id": sid,
            },
        }
    ]


def test_cart_of_unknown_or_malformed_session(client, shop):
    assert client.get(f"/carts/{'0' * 32}.1.2/").status_code == 404
    assert client.get("/carts/garbage/").status_code == 404
    assert client.get(f"/carts/{session_of(shop, 999)}/").get_json()["items"] == []


def test_clear_forgets_only_this_session(client, shop, coffee):
    choose(client, shop, "AB4483902")
    choose(client, shop, "AB4483902", session=session_of(shop, 2))
    response = client.post(
        f"/{shop.public_id}/optins/clear",
        data={"session": session_of(shop)},
        headers={"Origin": STORE},
    )
    assert response.get_json() == {"cleared": 1}
    assert client.get(f"/carts/{session_of(shop)}/").get_json()["items"] == []
    assert len(client.get(f"/carts/{session_of(shop, 2)}/").get_json()["items"]) == 1


def test_concurrent_identical_opt_ins_make_one_row(app, shop, coffee):
    merchant_id = shop.id
    errors = []

    def click():
        with app.app_context():
            try:
                merchant = db.session.get(type(shop), merchant_id)
                opt_ins.choose(
                    merchant,
                    session_of(merchant),
                    offer_views.Slot("o0", "AB4483902"),
                    subscribed=True,
                    frequency="4_2",
                )
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert db.session.query(OptIn).count() == 1


# -- the storefront's cached snapshot --------------------------------------------------------


def test_changes_reach_the_storefront_at_once(client, shop, coffee):
    assert "Save 10% on every order" in batch(client, shop, "AB4483902").get_data(as_text=True)
    offers.save(
        shop.id,
        "pdp",
        {
            "offer_type": "radio",
            "optin_label": "Autoship it",
            "optout_label": "Once",
            "every_label": "Every",
            "tooltip_trigger": "?",
            "tooltip": "x",
            "frequencies": "4_2",
            "default_frequency": "4_2",
            "active": "on",
        },
        actor=ACTOR,
    )
    ten = next(i for i in incentives.list_for(shop.id) if i.kind == "percent_off")
    incentives.deactivate(shop.id, ten.public_id, actor=ACTOR)
    html = batch(client, shop, "AB4483902").get_data(as_text=True)
    assert "Autoship it" in html and "Save 10%" not in html
    coffee.eligible_override = False
    db.session.commit()
    assert slot_html(batch(client, shop, "AB4483902").get_data(as_text=True), "o0").strip() == ""


def test_another_process_change_is_followed_through_the_generation(client, shop, coffee):
    from app.jobs import queue

    batch(client, shop, "AB4483902")
    first = shops.shop_for(shop.public_id)
    assert shops.shop_for(shop.public_id) is first  # cached
    first.checked = 0.0  # a second later, nothing changed: still the same snapshot
    assert shops.shop_for(shop.public_id) is first
    queue.redis().incr(f"perennial:storefront:{shop.id}")  # another process committed a change
    assert shops.shop_for(shop.public_id) is first  # not looked at again within the second
    first.checked = 0.0
    second = shops.shop_for(shop.public_id)
    assert second is not first and second.generation != first.generation


@pytest.fixture
def snapshots(app, monkeypatch):
    """This test's own storefront caches, holding at most two merchants."""
    fresh = shops.Snapshots.holding(2)
    monkeypatch.setitem(app.extensions, "storefront", fresh)
    return fresh


def test_only_known_merchants_get_a_snapshot(client, shop, snapshots):
    unknown = uuid.uuid4().hex
    for path in (
        f"/{'a' * 4000}/main.js",
        f"/{shop.public_id.upper()}/main.js",
        f"/{unknown}/offers/",
        f"/carts/{'b' * 4000}.1.1/",
        f"/carts/{unknown}.1.1/",
        f"/{shop.public_id}/main.js",
    ):
        assert client.get(path).status_code in (200, 404)
    assert list(snapshots.shops) == [shop.public_id]
    assert list(snapshots.unknown) == [unknown]  # for a few seconds, so it costs no query


def test_snapshots_keep_the_most_recently_used_merchants(app, snapshots):
    first, second, third = make_merchant(), make_merchant(), make_merchant()
    kept = shops.shop_for(first.public_id)
    shops.shop_for(second.public_id)
    assert shops.shop_for(first.public_id) is kept
    shops.shop_for(third.public_id)
    assert sorted(snapshots.shops) == sorted([first.public_id, third.public_id])
    assert shops.shop_for(second.public_id).id == second.id  # evicted, so loaded again


def test_snapshot_keeps_the_most_recently_used_products(app, shop, monkeypatch):
    monkeypatch.setattr(shops, "MAX_CACHED_PRODUCTS", 2)
    for pid in ("A", "B", "C"):
        make_product(shop, pid, name=f"Product {pid}")
    snapshot = shops.shop_for(shop.public_id)
    found = shops.catalog_products(snapshot, ["A", "B", "C", "missing"])
    assert {pid: info and info.name for pid, info in found.items()} == {
        "A": "Product A",
        "B": "Product B",
        "C": "Product C",
        "missing": None,
    }
    assert len(snapshot.products) == 2


def test_a_made_up_host_is_served_but_not_cached(client, shop, coffee):
    host = ".".join(["x" * 60] * 8) + ".example"  # every label of a host name is <= 63
    response = client.get(
        f"/{shop.public_id}/offers/",
        headers={"Origin": STORE, "Host": host},
        query_string={
            "session": session_of(shop),
            "k": "o0",
            "p": "AB4483902",
            "l": "pdp",
            "d": "",
            "t": "",
        },
    )
    assert f"http://{host}/{shop.public_id}/offers/choose" in response.get_data(as_text=True)
    assert batch(client, shop, "AB4483902").status_code == 200
    variants = [key[-1] for key in shops.shop_for(shop.public_id).fragments]
    assert variants == [f"http://localhost/{shop.public_id}/offers/choose"]


def test_the_opt_in_read_survives_a_connection_the_server_dropped(app, client, shop, coffee):
    """The per-request read skips the pool's ping (``shopper_sessions._reads``): a connection
    the database server closed meanwhile fails its query, which is tried once on a new one."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("a server database drops connections; a SQLite file has none")
    assert choose(client, shop, "AB4483902").status_code == 200
    assert "subscribed" in batch(client, shop, "AB4483902").get_data(as_text=True)
    reads = shopper_sessions._reads()
    assert reads is not db.engine and reads.pool.checkedin() >= 1
    merchant_id = shop.id
    db.session.close()  # this test's own connection goes back to the app's (pinged) pool
    with db.engine.connect() as conn:  # end every other connection of this database
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    shop = db.session.get(type(shop), merchant_id)
    html = batch(client, shop, "AB4483902").get_data(as_text=True)
    assert 'data-og-slot="o0"' in html and "subscribed" in html
