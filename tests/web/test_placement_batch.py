"""Batch-mode placement (contracts §6.6, T8): one file per run in outgoing/, response files
from incoming/ applied through the same outcomes as API replies, claimed once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from app.extensions import db
from app.integrations.xml import order as order_xml
from app.models import (
    BatchFile,
    Event,
    Order,
    OrderStatus,
    OutboundEmail,
    PlacementAttempt,
    PlacementRun,
)
from app.services import (
    events,
    feeds,
    order_documents,
    orders,
    placement,
    placement_batch,
    placement_recovery,
    placement_responses,
    placement_send,
)
from tests.feedkit import drop, open_account
from tests.placementkit import EXP_12_2099, make_due_order, make_placing_merchant

# 07:00 UTC on 23 March 2022 is 02:00 in Chicago (CDT): the T8 file's stamp.
NOW = datetime(2022, 3, 23, 7, 0, tzinfo=UTC)
TODAY = date(2022, 3, 23)
T8_RESPONSE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<orders><order><ogOrderId>119994'
    b"</ogOrderId><code>SUCCESS</code><orderId>1224</orderId></order></orders>"
)
STAFF = events.Actor("staff", "1", "test")


@pytest.fixture
def merchant(app):
    merchant = make_placing_merchant(
        None, placement_mode="batch", timezone="America/Chicago", placement_hour=2
    )
    open_account(merchant)
    return merchant


def outgoing(app, merchant) -> Path:
    return Path(app.config["SFTP_ROOT"]) / merchant.public_id / "outgoing"


def response_name(merchant, stamp: str = "03-23-2022_031500") -> str:
    return f"{merchant.public_id}.BatchResponse{stamp}.xml"


def response(*records: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<orders>\n' + "\n".join(records) + "\n</orders>\n"
    ).encode()


def record(og_id, body: str = "<code>SUCCESS</code><orderId>1224</orderId>") -> str:
    return f"<order><ogOrderId>{og_id}</ogOrderId>{body}</order>"


def reload(order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


def written(merchant) -> list[BatchFile]:
    return list(
        db.session.scalars(
            select(BatchFile).where(
                BatchFile.merchant_id == merchant.id, BatchFile.kind == "orders"
            )
        )
    )


def test_t8_writes_one_file_named_in_merchant_time_and_orders_wait_in_9(app, merchant):
    first = make_due_order(merchant, TODAY, now=NOW, order_id=119994)
    second = make_due_order(merchant, TODAY - timedelta(days=1), now=NOW)
    report = placement.run_now(merchant.id, now=NOW)
    assert report.outcomes == {"batched": 2}
    name = f"{merchant.public_id}_batch_orders_03-23-2022_020000.xml"
    assert [p.name for p in outgoing(app, merchant).iterdir()] == [name]
    data = (outgoing(app, merchant) / name).read_bytes()
    assert data.startswith(b"<?xml")
    root = etree.fromstring(data)
    assert root.tag == "orders"
    heads = {h.findtext("orderOgId"): h for h in root.iterfind("order/head")}
    assert set(heads) == {"119994", str(second.id)}
    head = heads["119994"]
    assert head.findtext("orderPublicId") == first.public_id
    assert head.findtext("orderCcExpire") == EXP_12_2099  # the file carries the real fields
    assert head.findtext("orderTokenId") == "7654321"
    assert root.findtext("order/items/item/finalPrice") == "23.38"
    documents = [order_documents.build(reload(o), merchant, as_of=TODAY) for o in (second, first)]
    assert data == order_xml.build_batch(documents)  # due order: oldest place date first
    assert {reload(first).status, reload(second).status} == {OrderStatus.PENDING_BATCH_RESPONSE}
    [batch] = written(merchant)
    assert (batch.status, batch.file_name, batch.orders) == ("written", name, 2)
    attempts = db.session.scalars(select(PlacementAttempt)).all()
    assert {a.outcome for a in attempts} == {"batched"}
    assert {a.batch_file_id for a in attempts} == {batch.id}
    assert "7654321" not in attempts[0].request_xml  # the ledger keeps its masked copy


def test_t8_response_file_places_the_order(app, merchant):
    order = make_due_order(merchant, TODAY, now=NOW, order_id=119994)
    placement.run_now(merchant.id, now=NOW)
    path = drop(app, merchant, T8_RESPONSE, response_name(merchant))
    [batch] = placement_responses.sweep(merchant.id)
    placed = reload(order)
    assert placed.status == OrderStatus.SUCCESS and placed.order_merchant_id == "1224"
    assert (batch.status, batch.orders, batch.counts) == ("applied", 1, {"applied": 1})
    assert not path.exists() and Path(batch.path).read_bytes() == T8_RESPONSE  # archived
    attempt = db.session.scalar(select(PlacementAttempt))
    assert (attempt.outcome, attempt.store_order_id) == ("success", "1224")
    assert attempt.reply_body == f"{response_name(merchant)}, line 2"
    following = db.session.scalar(select(Order).where(Order.id != order.id))
    assert following.status == OrderStatus.UNSENT  # the next cycle's order, as over the API
    assert following.place_date == TODAY + timedelta(weeks=4)
    event = db.session.scalar(select(Event).where(Event.type == "placement.batch_response"))
    assert event.after["applied"] == 1 and event.after["file"] == response_name(merchant)
    assert placement_responses.sweep(merchant.id) == []  # nothing left to claim


def test_a_run_with_nothing_due_writes_no_file(app, merchant):
    make_due_order(merchant, TODAY + timedelta(days=3), now=NOW)
    placement.run_now(merchant.id, now=NOW)
    assert not outgoing(app, merchant).exists() or not any(outgoing(app, merchant).iterdir())
    assert written(merchant) == []


def test_two_runs_in_the_same_second_write_two_files(app, merchant):
    make_due_order(merchant, TODAY, now=NOW)
    placement.run_now(merchant.id, now=NOW)
    make_due_order(merchant, TODAY, now=NOW)
    placement.run_now(merchant.id, now=NOW)
    names = sorted(p.name for p in outgoing(app, merchant).iterdir())
    assert names == [
        f"{merchant.public_id}_batch_orders_03-23-2022_020000.xml",
        f"{merchant.public_id}_batch_orders_03-23-2022_020001.xml",
    ]


def test_a_scheduled_run_places_every_due_order_in_one_job_and_one_file(
    app, merchant, runner, monkeypatch
):
    monkeypatch.setattr(placement, "BATCH_SIZE", 20)  # API mode's job size
    due = [make_due_order(merchant, TODAY, now=NOW) for _ in range(placement.BATCH_SIZE + 5)]
    run = placement.start(merchant.id, trigger="cron", as_of=TODAY, now=NOW)
    assert len(placement.queue.get_queue()) == 1  # not one job per 20 orders
    assert placement.queue.get_queue().jobs[0].timeout == placement.BATCH_FILE_TIMEOUT
    assert runner.invoke(args=["worker", "--burst"]).exit_code == 0
    db.session.expire_all()
    [batch] = written(merchant)
    assert batch.orders == len(due) and batch.run_id == run.id
    root = etree.parse(str(outgoing(app, merchant) / batch.file_name)).getroot()
    assert len(root.findall("order")) == len(due)
    assert db.session.get(PlacementRun, run.id).status == "finished"
    assert {reload(o).status for o in due} == {OrderStatus.PENDING_BATCH_RESPONSE}


def test_a_very_large_run_writes_one_file_per_batch_file_orders(app, merchant, monkeypatch):
    monkeypatch.setattr(placement, "BATCH_FILE_ORDERS", 2)
    for _ in range(5):
        make_due_order(merchant, TODAY, now=NOW)
    placement.start(merchant.id, trigger="cron", as_of=TODAY, now=NOW)
    jobs = placement.queue.get_queue().jobs
    assert [len(job.args[1]) for job in jobs] == [2, 2, 1]


def test_a_file_that_cannot_be_written_sends_nothing_and_the_orders_are_due_again(app, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    home = Path(app.config["SFTP_ROOT"]) / merchant.public_id
    home.mkdir(parents=True, exist_ok=True)
    if (home / "outgoing").is_dir():
        (home / "outgoing").rmdir()
    (home / "outgoing").write_text("not a folder")  # the home is broken
    placement.run_now(merchant.id, now=NOW)
    failed = reload(order)
    assert failed.status == OrderStatus.CONNECTION_ERROR and failed.next_attempt_at == NOW
    attempt = db.session.scalar(select(PlacementAttempt))
    assert attempt.outcome == "not_sent" and "batch file could not be written" in attempt.message
    [batch] = written(merchant)
    assert batch.status == "failed" and batch.error
    assert list(placement_batch.work_dir().glob("*.part")) == []  # no temporary file left
    (home / "outgoing").unlink()
    placement.run_now(merchant.id, now=NOW + timedelta(hours=1))
    assert reload(order).status == OrderStatus.PENDING_BATCH_RESPONSE
    assert len(list(outgoing(app, merchant).iterdir())) == 1


def test_without_an_sftp_login_nothing_is_sent(app):
    merchant = make_placing_merchant(None, placement_mode="batch")
    order = make_due_order(merchant, TODAY, now=NOW)
    placement.run_now(merchant.id, now=NOW, as_of=TODAY)
    assert reload(order).status == OrderStatus.CONNECTION_ERROR
    assert "SFTP login" in db.session.scalar(select(PlacementAttempt.message))


def test_records_for_another_merchants_orders_are_ignored(app, merchant):
    other = make_placing_merchant(
        None, placement_mode="batch", timezone="America/Chicago", placement_hour=2
    )
    open_account(other)
    theirs = make_due_order(other, TODAY, now=NOW)
    placement.run_now(other.id, now=NOW)
    drop(app, merchant, response(record(theirs.id)), response_name(merchant))
    [batch] = placement_responses.sweep(merchant.id)
    assert batch.counts == {"unknown": 1}
    assert batch.problems[0]["reason"] == f"No order {theirs.id} of this store."
    assert reload(theirs).status == OrderStatus.PENDING_BATCH_RESPONSE
    assert db.session.scalar(select(PlacementAttempt.outcome)) == "batched"


def test_a_half_bad_file_applies_every_good_record(app, merchant):
    good, declined, muddled = (make_due_order(merchant, TODAY, now=NOW) for _ in range(3))
    placement.run_now(merchant.id, now=NOW)
    drop(
        app,
        merchant,
        response(
            record(good.id),
            "<order><code>SUCCESS</code></order>",  # names no order
            record("abc"),  # not a number
            record(good.id, "<code>ERROR</code><errorCode>140</errorCode>"),  # answered already
            record(999999),  # no such order
            record(
                declined.id,
                "<code>ERROR</code><errorCode>110</errorCode><errorMsg>Bad card number</errorMsg>",
            ),
            record(muddled.id, "<code>MAYBE</code>"),
        ),
        response_name(merchant),
    )
    [batch] = placement_responses.sweep(merchant.id)
    assert batch.status == "applied" and batch.orders == 7
    assert batch.counts == {"applied": 3, "bad": 3, "unknown": 1}
    assert [p["line"] for p in batch.problems] == [4, 5, 6, 7]
    assert reload(good).status == OrderStatus.SUCCESS
    rejected = reload(declined)
    assert rejected.status == OrderStatus.REJECTED
    assert rejected.rejected_message == "Bad card number"
    assert reload(muddled).status == OrderStatus.RESPONSE_PROCESSING_ERROR
    emails = db.session.scalars(select(OutboundEmail)).all()
    assert [e.template for e in emails] == ["order.rejected_card_number"]
    assert emails[0].dedupe_key == f"order.dunning:{declined.public_id}:1"
    assert merchant.name in emails[0].body


def test_a_card_decline_in_a_response_goes_into_the_next_file(app, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    placement.run_now(merchant.id, now=NOW)
    drop(
        app,
        merchant,
        response(
            record(
                order.id,
                "<code>ERROR</code><errorCode>140</errorCode><errorMsg>Declined</errorMsg>",
            )
        ),
        response_name(merchant),
    )
    placement_responses.sweep(merchant.id, now=NOW + timedelta(hours=2))
    retrying = reload(order)
    assert retrying.status == OrderStatus.CREDIT_CARD_RETRY
    assert retrying.next_attempt_at == NOW + timedelta(days=3, hours=2)
    assert db.session.scalar(select(OutboundEmail.template)) == "order.payment_retry"
    placement.run_now(merchant.id, now=NOW + timedelta(days=3, hours=3))
    assert reload(order).status == OrderStatus.PENDING_BATCH_RESPONSE and reload(order).tries == 2
    assert len(written(merchant)) == 2


def test_a_file_applied_twice_changes_nothing_the_second_time(app, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    placement.run_now(merchant.id, now=NOW)
    body = response(record(order.id, "<code>ERROR</code><errorCode>160</errorCode>"))
    drop(app, merchant, body, response_name(merchant))
    placement_responses.sweep(merchant.id)
    drop(app, merchant, body, response_name(merchant, "03-23-2022_041500"))  # uploaded again
    [again] = placement_responses.sweep(merchant.id)
    assert again.counts == {"not_waiting": 1}
    assert db.session.scalar(select(func.count(OutboundEmail.id))) == 1
    assert db.session.scalar(select(func.count(Order.id))) == 2  # one next order, not two


def test_an_unreadable_file_is_set_aside_and_touches_no_order(app, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    placement.run_now(merchant.id, now=NOW)
    name = response_name(merchant)
    drop(app, merchant, b"<orders><order><ogOrderId>1</ogOrderId>", name)  # cut short
    [batch] = placement_responses.sweep(merchant.id)
    assert batch.status == "rejected" and batch.error
    incoming = Path(app.config["SFTP_ROOT"]) / merchant.public_id / "incoming"
    assert not (incoming / name).exists()
    assert (incoming / "rejected" / name).exists()
    note = (incoming / "rejected" / f"{name}.error.txt").read_text()
    assert "No order was changed" in note
    assert reload(order).status == OrderStatus.PENDING_BATCH_RESPONSE
    event = db.session.scalar(select(Event).where(Event.type == "placement.batch_response"))
    assert event.after["status"] == "rejected" and event.after["error"] == batch.error


def test_the_feed_sweep_leaves_response_files_alone(app, merchant):
    path = drop(app, merchant, T8_RESPONSE, response_name(merchant))
    assert feeds.claim(merchant.id, trigger="schedule") == []
    assert path.exists()


def test_files_apply_in_stamp_order(app, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    placement.run_now(merchant.id, now=NOW)
    drop(
        app,
        merchant,
        response(record(order.id, "<code>ERROR</code><errorCode>160</errorCode>")),
        response_name(merchant, "03-24-2022_000000"),
    )
    drop(app, merchant, response(record(order.id)), response_name(merchant, "03-23-2022_235959"))
    first, second = placement_responses.sweep(merchant.id)
    assert first.file_name.endswith("03-23-2022_235959.xml") and first.counts == {"applied": 1}
    assert second.counts == {"not_waiting": 1}
    assert reload(order).status == OrderStatus.SUCCESS


def test_eight_claimers_claim_a_file_once(app, merchant):
    drop(app, merchant, T8_RESPONSE, response_name(merchant))
    merchant_id, start, claimed = merchant.id, threading.Barrier(8), []

    def claimer():
        with app.app_context():
            start.wait()
            claimed.extend(b.id for b in placement_responses.claim(merchant_id))
            db.session.remove()

    threads = [threading.Thread(target=claimer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 1
    assert db.session.scalar(select(func.count(BatchFile.id))) == 1


def test_two_sweeps_at_once_apply_a_file_once(app, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    placement.run_now(merchant.id, now=NOW)
    drop(app, merchant, response(record(order.id)), response_name(merchant))
    merchant_id, start, done = merchant.id, threading.Barrier(2), []

    def sweeper():
        with app.app_context():
            start.wait()
            done.extend(b.id for b in placement_responses.sweep(merchant_id))
            db.session.remove()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(done) == 1
    assert reload(order).status == OrderStatus.SUCCESS
    assert db.session.scalar(select(func.count(Event.id)).where(Event.type == "order.success")) == 1


def test_orders_without_a_response_stay_in_9_and_need_staff(app, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    placement.run_now(merchant.id, now=NOW)
    later = NOW + timedelta(days=placement_batch.RESPONSE_DAYS, hours=1)
    assert placement_batch.overdue(merchant.id, now=NOW + timedelta(days=1)) == []
    placement.run_now(merchant.id, now=later)
    assert reload(order).status == OrderStatus.PENDING_BATCH_RESPONSE  # never sent again alone
    assert len(written(merchant)) == 1
    assert [o.id for o in placement_batch.overdue(merchant.id, now=later)] == [order.id]
    orders.act(merchant.id, order.public_id, "send_again", actor=STAFF)
    placement.run_now(merchant.id, now=later)
    assert reload(order).status == OrderStatus.PENDING_BATCH_RESPONSE and reload(order).tries == 2
    assert len(written(merchant)) == 2


def test_staff_can_confirm_an_order_whose_response_never_came(app, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    placement.run_now(merchant.id, now=NOW)
    orders.act(merchant.id, order.public_id, "confirm", actor=STAFF, store_order_id="A-1")
    assert reload(order).status == OrderStatus.SUCCESS
    drop(app, merchant, response(record(order.id)), response_name(merchant))
    [batch] = placement_responses.sweep(merchant.id)
    assert batch.counts == {"not_waiting": 1}


def _die_while_writing(merchant, order, *, publish: str) -> BatchFile:
    """Do what place_file does up to the point where its worker dies: before the file has its
    name (``""``), or once linked under its name in outgoing/, before (``"linked"``) or after
    (``"renamed"``) the temporary name is removed."""
    batch = BatchFile(
        merchant_id=merchant.id, kind="orders", status="writing", counts={}, problems=[]
    )
    db.session.add(batch)
    db.session.commit()
    prepared = placement_send.prepare(
        order.id,
        run_id=None,
        as_of=TODAY,
        worker="dead",
        now=NOW,
        lease=timedelta(minutes=1),
        batch_file_id=batch.id,
    )
    temp = placement_batch.work_dir() / f"{batch.public_id}.part"
    temp.write_bytes(b"<orders>")  # cut short by the kill
    if publish:
        name = f"{merchant.public_id}_batch_orders_03-23-2022_020000.xml"
        batch.file_name = name
        db.session.commit()
        folder = placement_batch.outgoing(merchant.id)
        if publish == "linked":
            os.link(temp, folder / name)
        else:
            temp.rename(folder / name)
    assert prepared is not None
    return batch


@pytest.mark.parametrize(
    "publish, status",
    [
        ("", OrderStatus.CONNECTION_ERROR),
        ("renamed", OrderStatus.PENDING_BATCH_RESPONSE),
        ("linked", OrderStatus.PENDING_BATCH_RESPONSE),
    ],
)
def test_recovery_asks_the_file_whether_it_was_published(app, merchant, publish, status):
    order = make_due_order(merchant, TODAY, now=NOW)
    batch = _die_while_writing(merchant, order, publish=publish)
    assert reload(order).status == OrderStatus.PENDING_PLACEMENT
    placement_recovery.recover(
        db.session.get(type(merchant), merchant.id), NOW + timedelta(minutes=5)
    )
    assert reload(order).status == status
    db.session.expire_all()
    assert db.session.get(BatchFile, batch.id).status == ("written" if publish else "failed")
    assert list(placement_batch.work_dir().glob("*.part")) == []
    outcome = db.session.scalar(select(PlacementAttempt.outcome))
    assert outcome == ("batched" if publish else "not_sent")


def test_a_sweep_that_died_leaves_its_file_to_the_next(app, merchant):
    order = make_due_order(merchant, TODAY, now=NOW)
    placement.run_now(merchant.id, now=NOW)
    drop(app, merchant, response(record(order.id)), response_name(merchant))
    [batch] = placement_responses.claim(merchant.id)  # then the sweep's process dies
    batch.created_at = datetime.now(UTC) - placement_responses.ORPHAN_AFTER * 2
    db.session.commit()
    [again] = placement_responses.sweep(merchant.id)
    assert again.id == batch.id and again.counts == {"applied": 1}
    assert reload(order).status == OrderStatus.SUCCESS


def test_flask_placement_run_applies_responses_then_places(app, merchant, runner):
    order = make_due_order(merchant, TODAY, now=NOW, order_id=119994)
    placement.run_now(merchant.id, now=NOW)
    drop(app, merchant, T8_RESPONSE, response_name(merchant))
    make_due_order(merchant, datetime.now(merchant.tz).date(), now=NOW)  # the merchant's today
    result = runner.invoke(args=["placement", "run", "--merchant", merchant.public_id])
    assert result.exit_code == 0, result.output
    assert f"batch response {response_name(merchant)}: 1 records; applied 1" in result.output
    assert "batch file" in result.output and ": written, 2 orders" in result.output  # and the next
    assert reload(order).status == OrderStatus.SUCCESS


# When the process is killed: once n of its 40 orders are in the ledger, once the file has its
# name (about to be linked into outgoing/), once it is written (orders moving to 9).
KILL_POINTS = {
    "1 prepared": select(func.count(PlacementAttempt.id) >= 1),
    "20 prepared": select(func.count(PlacementAttempt.id) >= 20),
    "40 prepared": select(func.count(PlacementAttempt.id) >= 40),
    "named": select(func.count(BatchFile.id) >= 1).where(BatchFile.file_name.is_not(None)),
    "written": select(func.count(BatchFile.id) >= 1).where(BatchFile.status == "written"),
}


@pytest.mark.slow
@pytest.mark.parametrize("when", KILL_POINTS)
def test_a_placing_process_killed_anywhere_leaves_each_order_sent_once_or_due(
    app, merchant, database_url, tmp_path, when
):
    """A real ``flask placement run`` is SIGKILLed at ``when`` (wherever it has got to by the
    time the signal lands); recovery must leave every order either in a published file and
    status 9, or due and in no file; the next run sends the rest, each once."""
    due = [make_due_order(merchant, TODAY, now=NOW) for _ in range(40)]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": app.config["REDIS_URL"],
        "SFTP_ROOT": app.config["SFTP_ROOT"],
        "SECRET_KEY": "batch-fault-test",
        "PERENNIAL_INSTANCE": str(tmp_path / "instance"),
    }
    with (tmp_path / "run.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our venv's flask
            [
                str(Path(sys.executable).parent / "flask"),
                "--app",
                "wsgi",
                "placement",
                "run",
                "--merchant",
                merchant.public_id,
                "--as-of",
                TODAY.isoformat(),
            ],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while process.poll() is None and time.monotonic() < deadline:
                if db.session.scalar(KILL_POINTS[when]):
                    break
                db.session.rollback()
                time.sleep(0.002)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    db.session.rollback()
    later = datetime.now(UTC) + placement_batch.LEASE + timedelta(minutes=1)
    placement_recovery.recover(db.session.get(type(merchant), merchant.id), later)
    assert_each_order_once_or_due(app, merchant, due, allow_due=True)
    placement.run_now(merchant.id, as_of=TODAY, now=later)
    assert_each_order_once_or_due(app, merchant, due, allow_due=False)


def assert_each_order_once_or_due(app, merchant, due, *, allow_due: bool) -> None:
    sent = []
    for path in outgoing(app, merchant).glob("*_batch_orders_*.xml"):
        sent += [
            int(i) for i in etree.parse(str(path)).getroot().xpath("order/head/orderOgId/text()")
        ]
    assert len(sent) == len(set(sent))  # never in two files
    for order in due:
        status = reload(order).status
        if order.id in sent:
            assert status == OrderStatus.PENDING_BATCH_RESPONSE
        else:
            assert allow_due and status in (OrderStatus.UNSENT, OrderStatus.CONNECTION_ERROR)
    for batch in written(merchant):
        assert batch.status in ("written", "failed")
        assert not (placement_batch.work_dir() / f"{batch.public_id}.part").exists()
