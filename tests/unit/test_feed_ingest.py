"""Feed ingestion end to end: SFTP upload, claim, validation, atomic catalog writes, reports."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Event,
    FeedRun,
    FeedRunError,
    OutboundEmail,
    Product,
    SftpAccount,
    Subscription,
)
from app.models.order import Order, OrderStatus
from app.services import feeds
from tests import feedkit
from tests.factories import make_api_key, make_merchant, make_subscription

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
T3_MERCHANT = "0e5de2bedc5e11e3a2e4bc764e106cf4"


@pytest.fixture
def merchant(app):
    merchant = make_merchant()
    feedkit.open_account(merchant)
    return merchant


def ingest(app, merchant, data: bytes, name: str | None = None) -> FeedRun:
    feedkit.drop(app, merchant, data, name)
    [run] = feeds.run_now(merchant.id)
    return run


def catalog_snapshot(merchant) -> list[tuple]:
    rows = db.session.execute(
        select(
            Product.product_id,
            Product.name,
            Product.price_minor,
            Product.in_stock,
            Product.autoship_eligible,
            Product.discontinued,
            Product.in_latest_feed,
            Product.updated_at,
            Product.feed_hash,
        )
        .where(Product.merchant_id == merchant.id)
        .order_by(Product.product_id)
    )
    return [tuple(r) for r in rows]


def test_t3_feed_uploaded_over_sftp_and_run_from_the_cli_reads_back_through_the_api(
    app, runner, client
):
    merchant = make_merchant(public_id=T3_MERCHANT)
    feedkit.open_account(merchant)
    data = (FIXTURES / f"{T3_MERCHANT}.Products.xml").read_bytes()
    with feedkit.drop_site(app) as server, feedkit.sftp_client(server, T3_MERCHANT) as sftp:
        with sftp.open(f"/incoming/{T3_MERCHANT}.Products.xml", "wb") as fh:
            fh.write(data)

    result = runner.invoke(args=["feeds", "run", "--merchant", T3_MERCHANT])
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output and "created 2" in result.output

    key = make_api_key(merchant)
    body = client.get("/products/AB4483902/", headers={"x-api-key": key}).get_json()
    assert body["name"] == "Dog Food & Treats™"
    assert body["price"] == "19.99" and body["price_minor"] == 1999
    assert body["sku"] == "45987234980"
    assert body["autoship_enabled"] is True and body["in_stock"] is True
    assert body["default_frequency"] == {"every": 4, "every_period": 2}
    assert body["groups"] == [{"group_type": "sku_swap", "name": "Kibble"}]
    assert body["extra_data"] == {"variant_name": "Size X"}
    assert body["image_url"] == "https://shop.example/i/AB4483902.jpg"
    old = client.get("/products/OLD1/", headers={"x-api-key": key}).get_json()
    assert old["discontinued"] is True and old["autoship_enabled"] is False
    assert old["relationships"] == [{"name": "discontinued_replacement", "product_id": "AB4483902"}]


def test_accents_and_escaped_text_survive_exactly(app, client, merchant):
    names = {
        "A1": "Crème brûlée & café — 12 oz™",
        "A2": "Tea <loose> \"leaf\" 'green'",
        "A3": "日本茶 / Ünïcödé",
    }
    products = [
        feedkit.product_xml(pid, name=name) for pid, name in names.items() if "<" not in name
    ]
    products.append(
        feedkit.product_xml("A2", name="").replace(
            "<name><![CDATA[]]></name>", '<name>Tea &lt;loose&gt; "leaf" &apos;green&apos;</name>'
        )
    )
    run = ingest(app, merchant, feedkit.feed(*products))
    assert run.status == "succeeded" and run.created == 3
    key = make_api_key(merchant)
    for pid, name in names.items():
        assert (
            client.get(f"/products/{pid}/", headers={"x-api-key": key}).get_json()["name"] == name
        )


def test_the_scheduled_sweep_queues_a_job_that_a_real_worker_ingests(app, runner, merchant):
    from app.jobs.feeds import ingest_all

    feedkit.drop(app, merchant, feedkit.feed(feedkit.product_xml("P1")))
    ingest_all()  # what rq cron runs at :00 and :30
    run = db.session.scalar(select(FeedRun))
    assert run.status == "queued" and run.trigger == "schedule" and run.job_id
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(FeedRun, run.id).status == "succeeded"
    assert db.session.scalar(select(Product.name)) == "Product P1"


def test_nothing_pending_means_no_run(app, runner, merchant):
    result = runner.invoke(args=["feeds", "run"])
    assert result.exit_code == 0 and "No new feed files" in result.output
    assert db.session.scalar(select(func.count()).select_from(FeedRun)) == 0


def test_unknown_merchant_on_the_cli_is_a_clear_error(app, runner):
    result = runner.invoke(args=["feeds", "run", "--merchant", "f" * 32])
    assert result.exit_code != 0 and "no merchant" in result.output


def test_invalid_products_are_rejected_one_by_one_and_the_rest_ingested(app, merchant):
    data = feedkit.feed(
        feedkit.product_xml("GOOD1"),
        feedkit.product_xml("BAD-PRICE", price="19.9"),
        feedkit.product_xml("BAD-STOCK", in_stock="2"),
        feedkit.product_xml("X" * 65),
        feedkit.product_xml("GOOD2"),
        feedkit.product_xml("HTTP-IMG").replace("https://shop.example/i", "http://shop.example/i"),
        feedkit.product_xml("EMPTY-OPT", extra="<every></every>"),
        feedkit.product_xml("DISC-LIVE", extra="<discontinued>1</discontinued>"),
    )
    run = ingest(app, merchant, data)
    assert run.status == "succeeded"
    assert (run.received, run.created, run.rejected) == (8, 2, 6)
    assert {p for (p,) in db.session.execute(select(Product.product_id))} == {"GOOD1", "GOOD2"}
    errors = db.session.scalars(select(FeedRunError).where(FeedRunError.run_id == run.id)).all()
    lines = [e.line for e in errors]
    assert lines == sorted(lines) and all(lines)
    by_id = {e.product_id: e for e in errors}
    assert by_id["BAD-PRICE"].field == "price" and by_id["BAD-STOCK"].field == "in_stock"
    assert by_id["HTTP-IMG"].field == "image_url" and "https" in by_id["HTTP-IMG"].reason.lower()
    with open(run.report_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["line", "product_id", "field", "reason"] and len(rows) == 7


def test_the_report_lands_in_outgoing_and_the_file_is_archived(app, merchant):
    run = ingest(
        app,
        merchant,
        feedkit.feed(feedkit.product_xml("P1"), feedkit.product_xml("P2", price="0.00")),
    )
    outgoing = Path(app.config["SFTP_ROOT"]) / merchant.public_id / "outgoing"
    [report] = list(outgoing.iterdir())
    assert report.name.startswith(f"{merchant.public_id}.Products.")
    assert report.name.endswith(".succeeded.csv")
    assert "P2" in report.read_text() and "P1" not in report.read_text()
    assert Path(run.archive_path).read_bytes().startswith(b"<products>")
    incoming = Path(app.config["SFTP_ROOT"]) / merchant.public_id / "incoming"
    assert list(incoming.iterdir()) == []


def test_a_second_run_of_the_same_file_changes_nothing(app, merchant):
    data = feedkit.feed(*(feedkit.product_xml(f"P{i}") for i in range(5)))
    ingest(app, merchant, data)
    before = catalog_snapshot(merchant)
    run = ingest(app, merchant, data)
    assert (run.created, run.updated, run.unchanged) == (0, 0, 5)
    assert catalog_snapshot(merchant) == before


def test_a_changed_price_updates_only_that_product(app, merchant):
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("P1"), feedkit.product_xml("P2")))
    run = ingest(
        app,
        merchant,
        feedkit.feed(feedkit.product_xml("P1", price="21.50"), feedkit.product_xml("P2")),
    )
    assert (run.created, run.updated, run.unchanged) == (0, 1, 1)
    assert db.session.scalar(select(Product.price_minor).where(Product.product_id == "P1")) == 2150


def test_the_largest_contract_price_fits(app, merchant):
    run = ingest(app, merchant, feedkit.feed(feedkit.product_xml("BIG", price="99999999.99")))
    assert run.created == 1
    assert db.session.scalar(select(Product.price_minor)) == 9_999_999_999


def test_products_absent_from_the_latest_feed_are_kept_but_flagged(app, merchant):
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("KEEP"), feedkit.product_xml("GONE")))
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("KEEP")))
    flags = dict(db.session.execute(select(Product.product_id, Product.in_latest_feed)).all())
    assert flags == {"KEEP": True, "GONE": False}
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("KEEP"), feedkit.product_xml("GONE")))
    assert all(db.session.scalars(select(Product.in_latest_feed)))


def test_a_refused_update_keeps_the_old_values_and_counts_as_in_the_feed(app, merchant):
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("P1", price="5.00")))
    before = catalog_snapshot(merchant)
    run = ingest(app, merchant, feedkit.feed(feedkit.product_xml("P1", price="5")))
    assert run.rejected == 1
    assert catalog_snapshot(merchant) == before  # old price, still "in the latest feed"


def test_product_type_is_set_at_creation_only(app, merchant):
    ingest(
        app,
        merchant,
        feedkit.feed(
            feedkit.product_xml("B1", extra="<product_type>static price bundle</product_type>")
        ),
    )
    ingest(
        app,
        merchant,
        feedkit.feed(
            feedkit.product_xml("B1", price="5.00", extra="<product_type>standard</product_type>")
        ),
    )
    product = db.session.scalar(select(Product))
    assert product.product_type == "static price bundle" and product.price_minor == 500
    run = ingest(
        app,
        merchant,
        feedkit.feed(
            feedkit.product_xml(
                "B1", price="5.00", extra="<product_type>dynamic price bundle</product_type>"
            )
        ),
    )
    assert (run.updated, run.unchanged) == (0, 1)  # a product_type change alone is no change


def test_swap_groups_are_replaced_on_update(app, merchant):
    groups = (
        '<groups><group type="sku_swap"><![CDATA[Kibble]]></group>'
        '<group type="incentive">Big bags</group></groups>'
    )
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("G1", extra=groups)))
    assert {(g.group_type, g.name) for g in db.session.scalar(select(Product)).groups} == {
        ("sku_swap", "Kibble"),
        ("incentive", "Big bags"),
    }
    ingest(
        app,
        merchant,
        feedkit.feed(
            feedkit.product_xml(
                "G1", extra='<groups><group type="sku_swap">Treats</group></groups>'
            )
        ),
    )
    db.session.expire_all()
    assert [(g.group_type, g.name) for g in db.session.scalar(select(Product)).groups] == [
        ("sku_swap", "Treats")
    ]


HOSTILE = [
    "billion_laughs.xml",
    "external_dtd.xml",
    "external_entity.xml",
    "internal_entity.xml",
    "parameter_entity.xml",
    "truncated.xml",
    "unescaped_ampersand.xml",
    "wrong_root.xml",
    "xinclude.xml",
]


@pytest.mark.parametrize("fixture", HOSTILE)
def test_a_hostile_or_broken_file_leaves_the_catalog_exactly_as_it_was(app, merchant, fixture):
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("P1"), feedkit.product_xml("P2")))
    before = catalog_snapshot(merchant)
    events_before = db.session.scalar(select(func.count()).select_from(Event))
    run = ingest(app, merchant, (FIXTURES / fixture).read_bytes())
    assert run.status == "rejected" and run.error
    assert catalog_snapshot(merchant) == before
    assert (
        db.session.scalar(
            select(func.count()).select_from(FeedRunError).where(FeedRunError.run_id == run.id)
        )
        == 0
    )
    assert db.session.scalar(select(func.count()).select_from(Event)) == events_before + 1


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"   \n  ", "empty"),
        (b"<products><product><name>half", "well-formed"),
        (b'<?xml version="1.0"?><!DOCTYPE products [<!ENTITY a "x">]><products/>', "DOCTYPE"),
    ],
)
def test_whole_file_rejections_say_why(app, merchant, data, reason):
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("P1")))
    before = catalog_snapshot(merchant)
    run = ingest(app, merchant, data)
    assert run.status == "rejected" and reason.lower() in run.error.lower()
    assert catalog_snapshot(merchant) == before


def test_a_broken_tail_rolls_back_the_valid_products_before_it(app, merchant):
    good = [feedkit.product_xml(f"N{i}") for i in range(2500)]  # several batches
    data = feedkit.feed(*good).replace(b"</products>", b"<product><name>&broken;</name>")
    run = ingest(app, merchant, data)
    assert run.status == "rejected" and run.created == 0
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


def test_a_file_over_the_size_limit_is_rejected_whole(app, merchant):
    app.config["FEED_MAX_BYTES"] = 2000
    try:
        run = ingest(
            app, merchant, feedkit.feed(*(feedkit.product_xml(f"P{i}") for i in range(50)))
        )
    finally:
        app.config["FEED_MAX_BYTES"] = 512 * 1024 * 1024
    assert run.status == "rejected" and "large" in run.error.lower()
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


def test_a_file_with_the_wrong_name_is_rejected(app, merchant):
    other = "a" * 32
    run = ingest(
        app, merchant, feedkit.feed(feedkit.product_xml("P1")), name=f"{other}.Products.xml"
    )
    assert run.status == "rejected" and merchant.public_id in run.error
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


def test_discontinued_with_a_replacement_swaps_subscriptions_and_emails(app, merchant):
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("OLD1"), feedkit.product_xml("NEW1")))
    old = db.session.scalar(select(Product).where(Product.product_id == "OLD1"))
    subs = [make_subscription(merchant, old) for _ in range(2)]
    run = ingest(
        app,
        merchant,
        feedkit.feed(feedkit.discontinued_xml("OLD1", "NEW1"), feedkit.product_xml("NEW1")),
    )
    assert run.discontinued == 2
    new = db.session.scalar(select(Product).where(Product.product_id == "NEW1"))
    for sub in subs:
        db.session.refresh(sub)
        assert sub.live and sub.product_id == new.id
        order = db.session.scalar(select(Order).where(Order.customer_id == sub.customer_id))
        assert [i.product_id for i in order.items] == [new.id]
    swaps = db.session.scalars(select(Event).where(Event.type == "subscription.sku_swap")).all()
    assert {e.object_id for e in swaps} == {s.public_id for s in subs}
    assert swaps[0].before == {"product": "OLD1"} and swaps[0].after["product"] == "NEW1"
    emails = db.session.scalars(select(OutboundEmail)).all()
    assert len(emails) == 2 and all(e.template == "subscription.discontinued_swap" for e in emails)


def test_a_silent_replacement_swaps_without_email(app, merchant):
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("OLD1"), feedkit.product_xml("NEW1")))
    sub = make_subscription(
        merchant, db.session.scalar(select(Product).where(Product.product_id == "OLD1"))
    )
    ingest(
        app,
        merchant,
        feedkit.feed(
            feedkit.discontinued_xml("OLD1", "NEW1", silent=True), feedkit.product_xml("NEW1")
        ),
    )
    db.session.refresh(sub)
    assert sub.product.product_id == "NEW1"
    assert db.session.scalar(select(func.count()).select_from(OutboundEmail)) == 0


def test_discontinued_without_a_replacement_cancels_subscriptions_and_their_orders(app, merchant):
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("OLD1")))
    sub = make_subscription(merchant, db.session.scalar(select(Product)))
    run = ingest(app, merchant, feedkit.feed(feedkit.discontinued_xml("OLD1")))
    assert run.discontinued == 1
    db.session.refresh(sub)
    assert not sub.live and sub.cancelled_at and sub.cancel_reason == "Product discontinued"
    order = db.session.scalar(select(Order).where(Order.customer_id == sub.customer_id))
    assert order.status == OrderStatus.CANCELLED and order.items == []
    [event] = db.session.scalars(select(Event).where(Event.type == "subscription.cancel")).all()
    assert event.object_id == sub.public_id and event.actor_type == "system"
    [email] = db.session.scalars(select(OutboundEmail)).all()
    assert email.template == "subscription.discontinued_cancel"
    assert email.to_address == sub.customer.email


def test_a_missing_or_discontinued_replacement_falls_back_to_cancel(app, merchant):
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("OLD1"), feedkit.product_xml("OLD2")))
    subs = [
        make_subscription(merchant, p)
        for p in db.session.scalars(select(Product).order_by(Product.product_id))
    ]
    ingest(
        app,
        merchant,
        feedkit.feed(
            feedkit.discontinued_xml("OLD1", "NOWHERE"), feedkit.discontinued_xml("OLD2", "OLD1")
        ),
    )
    for sub in subs:
        db.session.refresh(sub)
        assert not sub.live


def test_cancelled_subscriptions_are_not_touched_again(app, merchant):
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("OLD1")))
    make_subscription(merchant, db.session.scalar(select(Product)))
    discontinued = feedkit.feed(feedkit.discontinued_xml("OLD1"))
    ingest(app, merchant, discontinued)
    run = ingest(app, merchant, discontinued)
    assert run.discontinued == 0
    assert (
        db.session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "subscription.cancel")
        )
        == 1
    )


def test_a_file_another_run_takes_between_listing_and_reading_is_left_to_it(
    app, merchant, monkeypatch
):
    """Two runs list ``incoming/`` at once; the one that claims a file first moves it away. The
    other then finds a listed file gone, and skips it: the race the test below runs for real,
    made certain here (the file goes while its name is being looked at)."""
    kept = feedkit.drop(app, merchant, feedkit.feed(feedkit.product_xml("P1")))
    gone = feedkit.drop(app, merchant, feedkit.feed(feedkit.product_xml("P2")), "x.Products.xml")
    looked_at = feeds.response_file_time

    def taken_meanwhile(name, merchant_public_id):
        if name == gone.name:
            gone.unlink()  # the other run claimed it
        return looked_at(name, merchant_public_id)

    monkeypatch.setattr(feeds, "response_file_time", taken_meanwhile)
    account = db.session.scalar(select(SftpAccount).where(SftpAccount.merchant_id == merchant.id))
    assert feeds.pending_files(account) == [kept]


def test_two_concurrent_runs_never_ingest_a_file_twice(app, merchant):
    feedkit.drop(app, merchant, feedkit.feed(*(feedkit.product_xml(f"P{i}") for i in range(300))))
    results, barrier = [], threading.Barrier(3)

    def worker():
        with app.app_context():
            barrier.wait()
            results.extend((r.public_id, r.status, r.created) for r in feeds.run_now(merchant.id))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 1 and results[0][1:] == ("succeeded", 300)
    assert db.session.scalar(select(func.count()).select_from(FeedRun)) == 1
    assert db.session.scalar(select(func.count()).select_from(Product)) == 300


def test_a_run_executes_once_even_if_its_job_is_delivered_twice(app, merchant):
    feedkit.drop(app, merchant, feedkit.feed(feedkit.product_xml("P1")))
    [run] = feeds.claim(merchant.id, trigger="schedule")
    assert feeds.execute(run.id).status == "succeeded"
    again = feeds.execute(run.id)
    assert again.status == "succeeded" and again.created == 1
    assert (
        db.session.scalar(select(func.count()).select_from(Event).where(Event.type == "feed.run"))
        == 1
    )


def test_files_still_uploading_are_not_claimed(app, merchant):
    incoming = Path(app.config["SFTP_ROOT"]) / merchant.public_id / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    (incoming / f".{merchant.public_id}.Products.xml.0123abcd.part").write_bytes(b"<products>")
    assert feeds.run_now(merchant.id) == []


def test_each_merchant_ingests_only_its_own_files(app):
    first, second = make_merchant(), make_merchant()
    for m in (first, second):
        feedkit.open_account(m)
    feedkit.drop(app, first, feedkit.feed(feedkit.product_xml("SHARED-ID", name="First's")))
    feedkit.drop(app, second, feedkit.feed(feedkit.product_xml("SHARED-ID", name="Second's")))
    feeds.run_now(first.id)
    feeds.run_now(second.id)
    names = dict(db.session.execute(select(Product.merchant_id, Product.name)).all())
    assert names == {first.id: "First's", second.id: "Second's"}


def test_subscriptions_of_another_merchant_are_untouched_by_a_discontinuation(app, merchant):
    other = make_merchant()
    feedkit.open_account(other)
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("OLD1")))
    ingest(app, other, feedkit.feed(feedkit.product_xml("OLD1")))
    theirs = make_subscription(
        other, db.session.scalar(select(Product).where(Product.merchant_id == other.id))
    )
    ingest(app, merchant, feedkit.feed(feedkit.discontinued_xml("OLD1")))
    db.session.refresh(theirs)
    assert theirs.live
    assert (
        db.session.scalar(
            select(func.count()).select_from(Subscription).where(Subscription.live.is_(False))
        )
        == 0
    )


def test_a_run_whose_worker_died_is_queued_again_by_the_next_sweep(app, runner, merchant):
    from datetime import timedelta

    from app.jobs.feeds import ingest_all
    from app.models.types import utcnow

    feedkit.drop(app, merchant, feedkit.feed(feedkit.product_xml("P1")))
    [run] = feeds.claim(merchant.id, trigger="schedule")
    run.status, run.started_at = "running", utcnow() - timedelta(hours=3)  # its worker died
    db.session.commit()
    ingest_all()
    assert runner.invoke(args=["worker", "--burst"]).exit_code == 0
    db.session.expire_all()
    run = db.session.get(FeedRun, run.id)
    assert run.status == "succeeded" and run.created == 1


def test_a_live_run_is_not_recovered(app, merchant):
    from datetime import timedelta

    from app.jobs import queue
    from app.models.types import utcnow

    feedkit.drop(app, merchant, feedkit.feed(feedkit.product_xml("P1")))
    [run] = feeds.claim(merchant.id, trigger="schedule")
    run.status, run.started_at = "running", utcnow() - timedelta(hours=3)
    db.session.commit()
    with queue.redis().lock(f"perennial:feeds:{merchant.id}", timeout=60):
        assert feeds.recover_stale() == 0
    assert db.session.get(FeedRun, run.id).status == "running"


def test_files_are_applied_in_arrival_order_whichever_job_runs_first(app, merchant):
    import os
    import time

    older = feedkit.drop(
        app,
        merchant,
        feedkit.feed(feedkit.product_xml("P1", price="1.00")),
        name=f"{merchant.public_id}.Products.xml",
    )
    past = time.time() - 60
    os.utime(older, (past, past))
    [first] = feeds.claim(merchant.id, trigger="schedule")
    feedkit.drop(app, merchant, feedkit.feed(feedkit.product_xml("P1", price="2.00")))
    [second] = feeds.claim(merchant.id, trigger="schedule")
    assert feeds.execute(second.id).status == "succeeded"  # the newer job ran first ...
    assert db.session.get(FeedRun, first.id).status == "succeeded"  # ... older file went before
    assert db.session.scalar(select(Product.price_minor)) == 200
    assert feeds.execute(first.id).status == "succeeded"  # its own job is then a no-op
    assert db.session.scalar(select(Product.price_minor)) == 200
    outgoing = Path(app.config["SFTP_ROOT"]) / merchant.public_id / "outgoing"
    assert len(list(outgoing.iterdir())) == 2  # one report per run, even within a second


def test_cancelling_two_subscriptions_of_one_order_cancels_the_order(app, merchant):
    ingest(app, merchant, feedkit.feed(feedkit.product_xml("OLD1"), feedkit.product_xml("OLD2")))
    first, second = db.session.scalars(select(Product).order_by(Product.product_id)).all()
    sub = make_subscription(merchant, first)
    other = make_subscription(merchant, second, sub.customer)
    order = db.session.scalar(select(Order).where(Order.customer_id == sub.customer_id))
    moved = db.session.scalar(
        select(Order).where(Order.customer_id == sub.customer_id, Order.id != order.id)
    )
    for item in moved.items:  # both subscriptions ship in the same upcoming order
        item.order_id = order.id
    db.session.delete(moved)
    db.session.commit()
    ingest(
        app,
        merchant,
        feedkit.feed(feedkit.discontinued_xml("OLD1"), feedkit.discontinued_xml("OLD2")),
    )
    db.session.refresh(order)
    assert order.status == OrderStatus.CANCELLED and order.items == []
    assert not db.session.get(Subscription, other.id).live
