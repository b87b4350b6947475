"""Batch response files (contracts §6.6, T8): claim each one the store uploads, apply its records.

The store uploads ``<MERCHANT_ID>.BatchResponseMM-DD-YYYY_HHMMSS.xml`` to its ``incoming/``
(the feed sweep leaves these names alone). A sweep, every five minutes from cron and first
thing in ``flask placement run``, takes each merchant's own response files, oldest stamp first,
under that merchant's lock (so files apply in the order they were stamped), and:

1. claims each file by renaming it into Perennial's work folder once its BatchFile row is
   committed, as feed files are claimed: however many sweeps run at once, one gets the file;
2. reads it with ``order_reply.parse_batch_response``. A file that cannot be read as a whole
   touches no order: it moves to ``incoming/rejected/``, with a ``.error.txt`` beside it
   saying why, for the store to correct and upload again;
3. applies each record in a transaction of its own (one that fails is reported; the rest go
   on). ``ogOrderId`` is Perennial's numeric order id (``orderOgId`` in the file sent); only
   this merchant's orders waiting in status 9 for that answer are touched, through
   ``placement_outcomes.apply_batch_reply``: the same outcomes, events and emails as the same
   reply over HTTP;
4. archives the file and records what each record came to on the BatchFile row (counts and
   the first ``MAX_PROBLEMS`` problems) and in a ``placement.batch_response`` event.

What a record comes to: ``applied``; ``unknown`` (no such order of this merchant: another
merchant's order is unknown here too); ``not_waiting`` (the order is not in status 9 for this
answer: answered already, or moved on by staff); ``bad`` (it names no usable order, or repeats
one already answered in the file); ``failed`` (an error applying it; logged).

A sweep that dies leaves its file in the work folder and its row ``claimed``; the next sweep of
that merchant applies it again. That is safe because a record applies only to an order still
waiting for it.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.integrations.sftp import is_published
from app.integrations.xml import order_batch, order_reply
from app.jobs import queue
from app.models import BatchFile, Merchant, Order, OrderStatus, PlacementAttempt, SftpAccount
from app.models.types import utcnow
from app.services import events, placement, placement_batch, placement_outcomes

MAX_PROBLEMS = 100
LOCK_SECONDS = 3600
ORPHAN_AFTER = timedelta(minutes=10)  # a claim this old, not finished, lost its sweep
RESULTS = ("applied", "unknown", "not_waiting", "bad", "failed")


def sweep_all() -> list[BatchFile]:
    """The five-minute sweep over every merchant with an SFTP login."""
    merchant_ids = db.session.scalars(select(SftpAccount.merchant_id).order_by(SftpAccount.id))
    return [batch for merchant_id in list(merchant_ids) for batch in sweep(merchant_id)]


def sweep(merchant_id: int, *, now: datetime | None = None) -> list[BatchFile]:
    """Claim and apply the merchant's response files; [] when another sweep holds them."""
    lock = queue.redis().lock(f"perennial:batch-responses:{merchant_id}", timeout=LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        return []
    try:
        resumed = _orphans(merchant_id)
        return [apply_file(b.id, now=now) for b in [*resumed, *claim(merchant_id)]]
    finally:
        lock.release()


def pending_files(merchant_id: int) -> list[Path]:
    """The merchant's complete response files in ``incoming/``, oldest stamp first."""
    merchant = db.session.get(Merchant, merchant_id)
    account = db.session.scalar(select(SftpAccount).where(SftpAccount.merchant_id == merchant_id))
    if account is None:
        return []
    incoming = Path(current_app.config["SFTP_ROOT"]) / account.username / "incoming"
    if not incoming.is_dir():
        return []
    found = []
    for path in incoming.iterdir():
        stamp = order_batch.response_file_time(path.name, merchant.public_id)
        if (
            stamp is not None
            and is_published(path.name)
            and path.is_file()
            and not path.is_symlink()
        ):
            found.append((stamp, path.name, path))
    return [path for _, _, path in sorted(found)]


def claim(merchant_id: int) -> list[BatchFile]:
    """Move each pending response file into the work folder; each is claimed by one caller."""
    claimed = []
    for path in pending_files(merchant_id):
        batch = BatchFile(
            merchant_id=merchant_id,
            kind="response",
            status="claiming",
            file_name=path.name[:300],
            counts={},
            problems=[],
        )
        db.session.add(batch)
        db.session.commit()  # the row exists before the file moves: a crash loses no file
        try:
            os.rename(path, _work_path(batch))
        except FileNotFoundError:  # another sweep won this file
            db.session.delete(batch)
            db.session.commit()
            continue
        batch.status = "claimed"
        db.session.commit()
        claimed.append(batch)
    return claimed


def apply_file(batch_id: int, *, now: datetime | None = None) -> BatchFile:
    """Read a claimed response file and apply each record (see the module docstring)."""
    batch = db.session.get(BatchFile, batch_id)
    path = _work_path(batch)
    try:
        if path.stat().st_size > order_reply.MAX_BATCH_BYTES:
            raise order_reply.BatchFileError(
                f"The file is larger than {order_reply.MAX_BATCH_BYTES:,} bytes."
            )
        records = order_reply.parse_batch_response(path.read_bytes())
    except (order_reply.BatchFileError, OSError) as exc:
        return _reject(batch, path, exc)
    counts: Counter[str] = Counter()
    problems = []
    for record in records:
        result, reason = _apply_record(batch, record, now)
        counts[result] += 1
        if reason and len(problems) < MAX_PROBLEMS:
            problems.append(
                {
                    "line": record.line,
                    "og_order_id": record.og_order_id,
                    "result": result,
                    "reason": reason,
                }
            )
    batch = db.session.get(BatchFile, batch_id)
    batch.orders, batch.counts, batch.problems = len(records), dict(counts), problems
    batch.status, batch.finished_at = "applied", utcnow()
    batch.path = _archive(batch, path)
    _report(batch)
    return batch


def _apply_record(
    batch: BatchFile, record: order_reply.BatchReply, now: datetime | None
) -> tuple[str, str | None]:
    """Apply one record; return what it came to and, unless applied, why."""
    if record.og_order_id is None:
        return "bad", record.reply.problem
    try:
        order = db.session.scalar(
            select(Order).where(
                Order.id == record.og_order_id, Order.merchant_id == batch.merchant_id
            )
        )
        if order is None:
            return "unknown", f"No order {record.og_order_id} of this store."
        waiting = f"Order {record.og_order_id} is not waiting for a batch response"
        if order.status != OrderStatus.PENDING_BATCH_RESPONSE:
            return "not_waiting", f"{waiting} (status {order.status})."
        attempt_id = db.session.scalar(
            select(PlacementAttempt.id).where(
                PlacementAttempt.order_id == order.id, PlacementAttempt.attempt == order.tries
            )
        )
        source = f"{batch.file_name}, line {record.line}"
        outcome = placement_outcomes.apply_batch_reply(
            order.id, attempt_id, record.reply, source=source, now=now
        )
    except Exception:  # noqa: BLE001 - one record must never stop the others
        db.session.rollback()
        current_app.logger.exception(
            "batch response %s line %s failed", batch.public_id, record.line
        )
        return "failed", "Internal error while applying this record; it was logged."
    if outcome is None:
        return "not_waiting", f"{waiting} any more."
    return "applied", None


def _reject(batch: BatchFile, path: Path, exc: Exception) -> BatchFile:
    """Set the unreadable file aside in ``incoming/rejected/`` with the reason beside it."""
    reason = getattr(exc, "reason", None) or str(exc)
    line = getattr(exc, "line", None)
    batch.error = (f"{reason} (line {line})" if line else reason)[:1000]
    batch.status, batch.finished_at = "rejected", utcnow()
    batch.path = _set_aside(batch, path)
    _report(batch)
    return batch


def _set_aside(batch: BatchFile, path: Path) -> str | None:
    account = db.session.scalar(
        select(SftpAccount).where(SftpAccount.merchant_id == batch.merchant_id)
    )
    folder = Path(current_app.config["SFTP_ROOT"]) / account.username / "incoming" / "rejected"
    try:
        folder.mkdir(exist_ok=True)
        if folder.is_symlink() or not folder.is_dir():
            raise NotADirectoryError(folder)
        target = folder / batch.file_name
        if target.exists():
            target = folder / f"{Path(batch.file_name).stem}.{batch.public_id[:8]}.xml"
        note = target.with_name(target.name + ".error.txt")
        note.write_text(
            f"{batch.file_name} was not applied: {batch.error}\n"
            "No order was changed. Correct the file and upload it again.\n",
            encoding="utf-8",
        )
        shutil.move(path, target)
        return str(target)
    except OSError:  # the store's folder is unusable: keep the file on our side
        current_app.logger.exception("batch response %s: could not set it aside", batch.public_id)
        return _archive(batch, path)


def _archive(batch: BatchFile, path: Path) -> str | None:
    if not path.exists():
        return None
    merchant = db.session.get(Merchant, batch.merchant_id)
    folder = placement_batch.work_dir() / "archive" / merchant.public_id
    folder.mkdir(parents=True, exist_ok=True)
    stamp = batch.created_at.strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"{stamp}-{batch.public_id}-{batch.file_name}"
    shutil.move(path, target)
    return str(target)


def _report(batch: BatchFile) -> None:
    events.record(
        batch.merchant_id,
        "placement.batch_response",
        placement.SYSTEM,
        object_type="batch_file",
        object_id=batch.public_id,
        after={
            "file": batch.file_name,
            "status": batch.status,
            "records": batch.orders,
            **{k: batch.counts.get(k, 0) for k in RESULTS},
            "error": batch.error,
        },
    )
    db.session.commit()


def _work_path(batch: BatchFile) -> Path:
    return placement_batch.work_dir() / f"{batch.public_id}.response.xml"


def _orphans(merchant_id: int) -> list[BatchFile]:
    """Files a dead sweep claimed but did not finish (we hold the merchant's lock, so no live
    sweep has them); a claim that died before its file moved is forgotten."""
    found = []
    rows = db.session.scalars(
        select(BatchFile)
        .where(
            BatchFile.merchant_id == merchant_id,
            BatchFile.kind == "response",
            BatchFile.status.in_(("claiming", "claimed")),
            BatchFile.created_at < utcnow() - ORPHAN_AFTER,
        )
        .order_by(BatchFile.id)
    )
    for batch in list(rows):
        if _work_path(batch).exists():
            batch.status = "claimed"
            found.append(batch)
        else:
            db.session.delete(batch)
    db.session.commit()
    return found


def describe(batch: BatchFile) -> str:
    """One line a person can read: the file and what came of it."""
    if batch.kind == "orders":
        return f"{batch.file_name}: {batch.status}, {batch.orders} orders" + (
            f" ({batch.error})" if batch.error else ""
        )
    if batch.status == "rejected":
        return f"{batch.file_name}: rejected: {batch.error}"
    counts = ", ".join(f"{k} {batch.counts[k]}" for k in RESULTS if batch.counts.get(k))
    return f"{batch.file_name}: {batch.orders} records; {counts or 'nothing'}"
