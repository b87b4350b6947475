"""Console: feed runs (run now, detail, report), products (search, filters, overrides), SFTP."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Event, FeedRun, Merchant, Product, SftpAccount
from app.services import feeds
from app.services.sftp_accounts import DatabaseAuthenticator
from tests import feedkit
from tests.factories import HX, csrf_token, login, make_merchant, make_staff


@pytest.fixture
def merchant(owner):
    merchant = db.session.get(Merchant, owner.merchant_id)
    feedkit.open_account(merchant)
    return merchant


def post(client, path, data=None, headers=None):
    token = csrf_token(client, "/console/settings")
    return client.post(path, data={**(data or {}), "csrf_token": token}, headers=headers)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def ingest(app, merchant, *products: str) -> FeedRun:
    feedkit.drop(app, merchant, feedkit.feed(*products))
    [run] = feeds.run_now(merchant.id)
    return run


def test_run_now_queues_pending_files_and_the_fragment_polls(app, client, merchant):
    feedkit.drop(app, merchant, feedkit.feed(feedkit.product_xml("P1")))
    page = text(client.get("/console/feeds/"))
    assert "1 file waiting" in page and merchant.public_id in page
    response = post(client, "/console/feeds/run", headers=HX)
    assert response.status_code == 200
    html = text(response)
    assert 'id="feed-runs"' in html and "<html" not in html
    assert "queued" in html and 'hx-trigger="load delay:1s"' in html
    run = db.session.scalar(select(FeedRun))
    assert run.trigger == "console" and run.job_id


def test_run_now_without_a_file_says_what_to_upload(client, merchant):
    html = text(post(client, "/console/feeds/run", headers=HX))
    assert "No new file" in html and db.session.scalar(select(FeedRun)) is None


def test_run_now_needs_csrf(client, merchant):
    assert client.post("/console/feeds/run").status_code == 400


def test_run_detail_shows_counts_errors_and_offers_the_csv(app, client, merchant):
    run = ingest(
        app, merchant, feedkit.product_xml("GOOD"), feedkit.product_xml("BAD", price="1.5")
    )
    page = text(client.get(f"/console/feeds/{run.public_id}"))
    assert 'data-status="succeeded"' in page and "hx-trigger" not in page
    assert 'data-count="created">1<' in page and 'data-count="rejected">1<' in page
    assert "BAD" in page and "price" in page
    csv_response = client.get(f"/console/feeds/{run.public_id}/report.csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    body = csv_response.get_data(as_text=True)
    csv_response.close()
    assert body.splitlines()[0] == "line,product_id,field,reason" and "BAD" in body


def test_a_rejected_file_says_why_and_that_the_catalog_is_unchanged(app, client, merchant):
    feedkit.drop(app, merchant, b"<products><product>")
    [run] = feeds.run_now(merchant.id)
    page = text(client.get(f"/console/feeds/{run.public_id}"))
    assert 'data-status="rejected"' in page and "left exactly as it was" in page


def test_another_merchants_run_is_not_found(app, client, merchant):
    other = make_merchant()
    feedkit.open_account(other)
    run = ingest(app, other, feedkit.product_xml("THEIRS"))
    assert client.get(f"/console/feeds/{run.public_id}").status_code == 404
    assert client.get(f"/console/feeds/{run.public_id}/report.csv").status_code == 404
    assert run.public_id not in text(client.get("/console/feeds/"))


def test_products_search_and_filters(app, client, merchant):
    ingest(
        app,
        merchant,
        feedkit.product_xml("IN1", name="Oat Crunch"),
        feedkit.product_xml("OUT1", name="Rye Flakes", in_stock="0"),
        feedkit.discontinued_xml("OLD1"),
        feedkit.product_xml("GONE1", name="Gone Soon"),
    )
    ingest(
        app,
        merchant,
        feedkit.product_xml("IN1", name="Oat Crunch"),
        feedkit.product_xml("OUT1", name="Rye Flakes", in_stock="0"),
        feedkit.discontinued_xml("OLD1"),
    )

    def listed(query: str) -> set[str]:
        response = client.get(f"/console/products/?{query}", headers=HX)
        assert response.status_code == 200
        html = text(response)
        return set(re.findall(r'data-product="([^"]+)"', html))

    assert listed("") == {"IN1", "OUT1", "OLD1", "GONE1"}
    assert listed("q=oat") == {"IN1"}
    assert listed("show=out_of_stock") == {"OUT1", "OLD1"}
    assert listed("show=discontinued") == {"OLD1"}
    assert listed("show=not_in_feed") == {"GONE1"}
    assert listed("show=eligible") == {"IN1", "OUT1", "GONE1"}
    page = text(client.get("/console/products/?show=not_in_feed"))
    assert "not in latest feed" in page.lower() and "<html" in page


def test_product_detail_shows_feed_values_and_saves_overrides(app, client, merchant):
    ingest(app, merchant, feedkit.product_xml("P1", name="Tea & Co™", price="12.00"))
    page = text(client.get("/console/products/P1"))
    assert "Tea & Co™" in page and "12.00" in page
    response = post(
        client,
        "/console/products/P1",
        {
            "eligible_override": "no",
            "upsell_eligible": "on",
            "allowed_frequencies": "2_2 4_2 1_3",
            "default_frequency": "4_2",
        },
    )
    assert response.status_code == 302
    product = db.session.scalar(select(Product))
    assert product.eligible_override is False and not product.subscription_eligible
    assert product.upsell_eligible and product.default_every == 4
    assert product.allowed_frequencies == [
        {"every": 2, "every_period": 2},
        {"every": 4, "every_period": 2},
        {"every": 1, "every_period": 3},
    ]
    event = db.session.scalar(select(Event).where(Event.type == "product.update"))
    assert event.after["eligible_override"] is False


def test_overrides_survive_the_next_feed(app, client, merchant):
    ingest(app, merchant, feedkit.product_xml("P1"))
    post(client, "/console/products/P1", {"eligible_override": "no"})
    ingest(app, merchant, feedkit.product_xml("P1", price="30.00"))
    product = db.session.scalar(select(Product))
    assert product.eligible_override is False and product.price_minor == 3000


@pytest.mark.parametrize(
    "form, field",
    [
        ({"allowed_frequencies": "2_9"}, "allowed_frequencies"),
        ({"default_frequency": "banana"}, "default_frequency"),
        ({"allowed_frequencies": "2_2", "default_frequency": "4_2"}, "default_frequency"),
        ({"eligible_override": "maybe"}, "eligible_override"),
    ],
)
def test_bad_overrides_are_400_and_change_nothing(app, client, merchant, form, field):
    ingest(app, merchant, feedkit.product_xml("P1"))
    response = post(client, "/console/products/P1", form)
    assert response.status_code == 400
    product = db.session.scalar(select(Product))
    assert product.allowed_frequencies is None and product.default_every is None
    assert product.eligible_override is None


def test_another_merchants_product_is_not_found(app, client, merchant):
    other = make_merchant()
    feedkit.open_account(other)
    ingest(app, other, feedkit.product_xml("THEIRS"))
    assert client.get("/console/products/THEIRS").status_code == 404
    assert post(client, "/console/products/THEIRS", {"eligible_override": "no"}).status_code == 404


def test_sftp_settings_generate_a_password_shown_once(app, client, owner):
    merchant = db.session.get(Merchant, owner.merchant_id)
    page = text(client.get("/console/settings"))
    assert "SFTP drop site" in page and "not set" in page
    html = text(post(client, "/console/settings/sftp/password", headers=HX))
    password = re.search(r'data-testid="new-sftp-password">([^<]+)<', html).group(1)
    assert DatabaseAuthenticator(app).check_password(merchant.public_id, password)
    account = db.session.scalar(select(SftpAccount))
    assert password not in account.password_hash
    assert password not in text(client.get("/console/settings"))
    assert db.session.scalar(select(Event).where(Event.type == "sftp.password_set"))


def test_sftp_authorized_keys_are_checked(app, client, owner):
    from tests.unit.test_sftp_server import make_ed25519

    key = make_ed25519()
    line = f"{key.get_name()} {key.get_base64()} deploy@shop"
    bad = text(post(client, "/console/settings/sftp/keys", {"authorized_keys": "ssh-rsa nope"}))
    assert "Line 1 is not an OpenSSH public key" in bad
    ok = text(post(client, "/console/settings/sftp/keys", {"authorized_keys": line + "\n\n"}))
    assert "Authorized keys saved" in ok
    merchant = db.session.get(Merchant, owner.merchant_id)
    [loaded] = DatabaseAuthenticator(app).authorized_keys(merchant.public_id)
    assert loaded.get_base64() == key.get_base64()


def test_staff_cannot_change_sftp_credentials(app, client):
    staff = make_staff(role="staff")
    login(client, staff)
    assert post(client, "/console/settings/sftp/password").status_code == 403
    assert post(client, "/console/settings/sftp/keys", {"authorized_keys": ""}).status_code == 403
    assert db.session.scalar(select(SftpAccount)) is None
