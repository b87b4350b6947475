"""The demo store's product feed: valid for the platform's parser, uploaded with a pinned key."""

from __future__ import annotations

import io
import re
from pathlib import Path

import paramiko
import pytest

from app.integrations.xml.feed import FeedProduct, ProductError, parse_feed
from demo import catalog, feed
from demo import create_app as create_store
from tests import feedkit
from tests.factories import make_merchant

STORE = "http://127.0.0.1:5001"


def link_for(origin: str) -> feed.Link:
    """Build store URLs the way the store's routes do, without an app."""
    paths = {
        "shop.product": "/products/{product_id}",
        "shop.image": "/img/products/{product_id}.svg",
    }
    return lambda endpoint, **values: origin + paths[endpoint].format(**values)


def write_feed(origin: str = STORE) -> bytes:
    out = io.BytesIO()
    count = feed.write(
        out, catalog.PRODUCTS, link=link_for(origin), https=origin.startswith("https")
    )
    assert count == len(catalog.PRODUCTS)
    return out.getvalue()


def parsed(data: bytes) -> dict[str, FeedProduct]:
    items = list(parse_feed(io.BytesIO(data)))
    assert [i for i in items if isinstance(i, ProductError)] == []
    return {i.product_id: i for i in items}


def test_the_feed_parses_with_zero_product_errors_and_names_round_trip():
    products = parsed(write_feed())

    assert list(products) == [p.product_id for p in catalog.PRODUCTS]
    assert {k: p.name for k, p in products.items()} == {
        p.product_id: p.name for p in catalog.PRODUCTS
    }
    names = [p.name for p in products.values()]
    assert "Café Crème Coffee Beans, 12 oz" in names
    assert "PawPure™ Pine Cat Litter, 20 lb" in names
    assert "Salmon & Sweet Potato Dog Food, 12 lb" in names


def test_special_characters_travel_in_cdata():
    text = write_feed().decode("utf-8")

    assert "<name><![CDATA[PawPure™ Pine Cat Litter, 20 lb]]></name>" in text
    assert '<group type="sku_swap"><![CDATA[Dry Dog Food]]></group>' in text
    outside_cdata = re.sub(r"<!\[CDATA\[.*?\]\]>", "", text, flags=re.DOTALL)
    assert "&" not in outside_cdata.replace("&amp;", "")


def test_every_field_the_catalog_knows_is_in_the_feed():
    products = parsed(write_feed())

    coffee = products["FF2040101"]
    assert coffee.sku == "81020401011" and coffee.price_minor == 1650
    assert coffee.details_url == f"{STORE}/products/FF2040101"
    assert coffee.groups == (("sku_swap", "Whole Bean Coffee"),)
    assert coffee.extra_data == {"variant_name": "Café Crème", "category": "Coffee & Tea"}
    assert (coffee.every, coffee.every_period) == (2, 2)
    assert coffee.autoship_eligible is True and coffee.in_stock is True
    assert products["FF3050105"].in_stock is False
    assert products["FF4060103"].autoship_eligible is False
    assert (products["FF4060103"].every, products["FF4060103"].every_period) == (None, None)
    powder = products["FF4060199"]
    assert powder.discontinued is True and powder.autoship_eligible is False
    assert powder.replacement == "FF4060104" and powder.replacement_silent is False


def test_image_urls_only_when_the_store_is_served_over_https():
    assert all(p.image_url is None for p in parsed(write_feed()).values())

    secure = parsed(write_feed("https://fernfable.example"))
    assert secure["FF2040101"].image_url == "https://fernfable.example/img/products/FF2040101.svg"


def test_empty_optional_elements_are_never_written():
    text = write_feed().decode("utf-8")
    assert not re.search(r"<(\w+)(\s[^>]*)?/>|<(\w+)></\3>", text)


# Uploading to the platform's real drop site --------------------------------------------------


@pytest.fixture
def merchant(app):
    merchant = make_merchant()
    feedkit.open_account(merchant)
    return merchant


@pytest.fixture
def server(app):
    with feedkit.drop_site(app) as server:
        yield server


@pytest.fixture
def store(merchant, server, tmp_path):
    """The demo store configured the way seed-demo's credentials configure it."""
    return create_store(
        {
            "DEMO_DB": str(tmp_path / "demo.db"),
            "MERCHANT_PUBLIC_ID": merchant.public_id,
            "SECRET_KEY": "unit-test",
            "SFTP_PORT": server.port,
            "SFTP_USERNAME": merchant.public_id,
            "SFTP_PASSWORD": feedkit.SFTP_PASSWORD,
        }
    )


def sync(store):
    """Run ``flask --app demo sync-catalog``; the test's platform context must not be current."""
    with store.app_context():
        return store.test_cli_runner().invoke(args=["sync-catalog"])


def incoming(app, merchant) -> Path:
    return Path(app.config["SFTP_ROOT"]) / merchant.public_id / "incoming"


def server_key(app) -> paramiko.PKey:
    return paramiko.PKey.from_path(app.config["SFTP_HOST_KEY"])


def test_sync_uploads_the_feed_and_pins_the_host_key(app, merchant, server, store):
    result = sync(store)

    assert result.exit_code == 0, result.output
    name = f"{merchant.public_id}.Products.xml"
    assert f"Uploaded {name} (13 products" in result.output
    uploaded = (incoming(app, merchant) / name).read_bytes()
    assert len(parsed(uploaded)) == 13
    pinned = paramiko.HostKeys(store.config["SFTP_KNOWN_HOSTS"])
    [key] = pinned.lookup(f"[127.0.0.1]:{server.port}").values()
    assert key == server_key(app)

    again = sync(store)  # RejectPolicy from now on
    assert again.exit_code == 0, again.output


def test_a_changed_host_key_is_refused_and_nothing_is_uploaded(app, merchant, server, store):
    impostor = paramiko.ECDSAKey.generate()
    known = paramiko.HostKeys()
    known.add(f"[127.0.0.1]:{server.port}", impostor.get_name(), impostor)
    known.save(store.config["SFTP_KNOWN_HOSTS"])

    result = sync(store)

    assert result.exit_code == 1
    assert "presented a different host key" in result.output
    assert server_key(app).fingerprint in result.output
    assert list(incoming(app, merchant).iterdir()) == []


def test_a_wrong_password_is_a_clear_error(server, store):
    store.config["SFTP_PASSWORD"] = "not-the-password"
    result = sync(store)
    assert result.exit_code == 1
    assert "refused the login" in result.output


def test_an_unreachable_drop_site_is_flashed_on_the_admin_page_not_a_500(store, server):
    server.shutdown()
    client = store.test_client()
    page = client.get("/admin/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]

    response = client.post("/admin/sync-catalog", data={"csrf_token": token}, follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == "/admin/"
    assert f"Could not reach Perennial&#39;s SFTP drop site at 127.0.0.1:{server.port}" in (
        response.get_data(as_text=True)
    )


def test_the_admin_page_confirms_an_upload_with_a_link_to_the_console(merchant, store):
    client = store.test_client()
    page = client.get("/admin/").get_data(as_text=True)
    assert "trusted on the first sync" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]

    body = client.post(
        "/admin/sync-catalog", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)

    assert f"Uploaded <code>{merchant.public_id}.Products.xml</code> (13 products)" in body
    assert 'or press Run now in <a href="http://127.0.0.1:5000/console/feeds/">' in body
    assert "SHA256:" in body  # the key is pinned now
