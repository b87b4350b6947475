"""Product feed runs: claim uploaded files, ingest them atomically, report and archive."""

from __future__ import annotations

import csv
import os
import shutil
import stat
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.integrations.sftp import is_published
from app.integrations.xml.feed import FeedFileError, ProductError, check_file_name, parse_feed
from app.integrations.xml.order_batch import response_file_time
from app.jobs import queue
from app.models import FeedRun, FeedRunError, Merchant, SftpAccount
from app.models.types import utcnow
from app.services import catalog, claims, discontinued, events
from app.services.errors import NotFound

MAX_STORED_ERRORS = 1000
STALE_AFTER = timedelta(hours=2)  # a run not finished by then lost its worker
REPORT_HEADER = ("line", "product_id", "field", "reason")


def _root() -> Path:
    return Path(current_app.config["SFTP_ROOT"])


def _work_dir() -> Path:
    """Claimed files wait here; it sits beside the homes so a claim is an atomic rename."""
    path = _root() / ".perennial-work"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _feeds_dir(*parts: str) -> Path:
    path = Path(current_app.config["FEEDS_DIR"]).joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def home(account: SftpAccount) -> Path:
    return _root() / account.username


def pending_files(account: SftpAccount) -> list[Path]:
    """Complete uploads waiting in the merchant's ``incoming/``, oldest first; the merchant's
    batch response files are left to ``placement_responses``."""
    incoming = home(account) / "incoming"
    if not incoming.is_dir():
        return []
    merchant = db.session.get(Merchant, account.merchant_id)
    files = []
    for p in incoming.iterdir():
        if not is_published(p.name) or response_file_time(p.name, merchant.public_id) is not None:
            continue
        try:
            info = p.lstat()
        except FileNotFoundError:  # another run claimed (moved) it since the listing
            continue
        if stat.S_ISREG(info.st_mode):  # a plain file: not a folder, not a symlink
            files.append((info.st_mtime, p))
    return [p for _, p in sorted(files)]


def get_run(merchant_id: int, public_id: str) -> FeedRun:
    run = db.session.scalar(
        select(FeedRun).where(FeedRun.merchant_id == merchant_id, FeedRun.public_id == public_id)
    )
    if run is None:
        raise NotFound()
    return run


def list_runs(merchant_id: int, *, limit: int = 50) -> list[FeedRun]:
    query = (
        select(FeedRun)
        .where(FeedRun.merchant_id == merchant_id)
        .order_by(FeedRun.created_at.desc(), FeedRun.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def claim(merchant_id: int, *, trigger: str, requested_by: str | None = None) -> list[FeedRun]:
    """Turn each pending file into a queued run; a file is claimed by exactly one caller."""
    account = db.session.scalar(select(SftpAccount).where(SftpAccount.merchant_id == merchant_id))
    if account is None:
        return []
    runs = []
    for path in pending_files(account):
        try:
            size = path.stat().st_size
        except FileNotFoundError:  # claimed by someone else since we listed it
            continue
        run = FeedRun(
            merchant_id=merchant_id,
            trigger=trigger,
            requested_by=requested_by,
            file_name=path.name,
            file_bytes=size,
            status="claiming",
        )
        db.session.add(run)
        db.session.commit()  # the run exists before the file moves: a crash loses no file
        try:
            os.rename(path, _work_dir() / f"{run.public_id}.xml")
        except FileNotFoundError:  # another claimer won this file
            db.session.delete(run)
            db.session.commit()
            continue
        run.status = "queued"  # only now can a job pick it up
        db.session.commit()
        runs.append(run)
    return runs


def schedule(merchant_id: int, *, trigger: str, requested_by: str | None = None) -> list[FeedRun]:
    """Claim pending files and queue one ingestion job per file."""
    runs = claim(merchant_id, trigger=trigger, requested_by=requested_by)
    for run in runs:
        run.job_id = queue.enqueue("app.jobs.feeds.run_feed", run.id).id
    db.session.commit()
    return runs


def merchants_with_accounts() -> list[int]:
    return list(db.session.scalars(select(SftpAccount.merchant_id)))


def schedule_all() -> int:
    """The :00/:30 sweep over every merchant with a drop-site account."""
    recover_stale()
    return sum(len(schedule(m, trigger="schedule")) for m in merchants_with_accounts())


def _lock_name(merchant_id: int) -> str:
    return f"perennial:feeds:{merchant_id}"


def recover_stale() -> int:
    """Queue again the runs whose worker died (still queued or running long after they began).

    A crashed run committed nothing, so running it again is safe; a merchant whose lock is
    still held has a live run and is left alone.
    """
    cutoff = utcnow() - STALE_AFTER
    stale = db.session.scalars(
        select(FeedRun).where(
            FeedRun.status.in_(("claiming", "queued", "running")),
            func.coalesce(FeedRun.started_at, FeedRun.created_at) < cutoff,
        )
    ).all()
    recovered = 0
    for run in stale:
        if queue.redis().exists(_lock_name(run.merchant_id)):
            continue
        if not (_work_dir() / f"{run.public_id}.xml").exists():
            if run.status == "claiming":  # its claimer died before the file moved
                db.session.delete(run)
                continue
            run.status, run.finished_at = "failed", utcnow()
            run.error = "The claimed file was lost; upload it again."
            continue
        run.status, run.started_at = "queued", None
        run.job_id = queue.enqueue("app.jobs.feeds.run_feed", run.id).id
        recovered += 1
    db.session.commit()
    return recovered


def describe(run: FeedRun) -> str:
    """One line a person can read: file, outcome, counts and time."""
    counts = (
        f"received {run.received}, created {run.created}, updated {run.updated}, "
        f"unchanged {run.unchanged}, rejected {run.rejected}"
    )
    outcome = f"{run.status}: {run.error}" if run.error else run.status
    return f"{run.file_name}: {outcome} ({counts}; {run.duration_ms or 0} ms)"


def run_now(merchant_id: int, *, requested_by: str | None = None) -> list[FeedRun]:
    """Claim and ingest pending files in this process (the CLI's ``feeds run``)."""
    return [execute(run.id) for run in claim(merchant_id, trigger="cli", requested_by=requested_by)]


def execute(run_id: int) -> FeedRun:
    """Ingest a claimed file, after any older file of the same merchant; each run starts once.

    Under the merchant's lock a job ingests every queued run up to and including its own,
    oldest first, so files are applied in the order they arrived (an older catalog never
    overwrites a newer one) however many workers pick the jobs up.
    """
    run = db.session.get(FeedRun, run_id)
    if run is None or run.status != "queued":
        return run
    merchant = db.session.get(Merchant, run.merchant_id)
    with queue.redis().lock(_lock_name(merchant.id), timeout=7200, blocking_timeout=3600):
        while (oldest := _oldest_queued(merchant.id, up_to=run_id)) is not None:
            if _start(oldest):
                _execute_locked(db.session.get(FeedRun, oldest), merchant)
    db.session.expire_all()
    return db.session.get(FeedRun, run_id)


def _oldest_queued(merchant_id: int, *, up_to: int) -> int | None:
    return db.session.scalar(
        select(FeedRun.id)
        .where(FeedRun.merchant_id == merchant_id, FeedRun.status == "queued", FeedRun.id <= up_to)
        .order_by(FeedRun.id)
        .limit(1)
    )


def _start(run_id: int) -> bool:
    """Move a run from queued to running; False when another process got there first."""
    return claims.claim(
        FeedRun, run_id, FeedRun.status == "queued", status="running", started_at=utcnow()
    )


def _execute_locked(run: FeedRun, merchant: Merchant) -> None:
    path = _work_dir() / f"{run.public_id}.xml"
    report = _feeds_dir("reports") / f"{run.public_id}.csv"
    began = time.monotonic()
    with report.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(REPORT_HEADER)
        try:
            _ingest(run, merchant, path, writer)
            run.status = "succeeded"
        except FeedFileError as exc:
            db.session.rollback()
            run.status, run.error = "rejected", _file_error(exc)
            writer.writerow(
                [
                    getattr(exc, "line", None) or "",
                    "",
                    "file",
                    getattr(exc, "reason", None) or str(exc),
                ]
            )
        except Exception:  # noqa: BLE001 - any failure leaves the catalog as it was
            db.session.rollback()
            current_app.logger.exception("feed run %s failed", run.public_id)
            run.status, run.error = "failed", "Internal error while ingesting; it was logged."
    run.duration_ms = int((time.monotonic() - began) * 1000)
    run.finished_at = utcnow()
    run.report_path = str(report)
    run.archive_path = _archive(path, merchant, run)
    _publish_report(report, merchant, run)
    events.record(
        merchant.id,
        "feed.run",
        events.Actor("system", "feed", run.trigger),
        object_type="feed_run",
        object_id=run.public_id,
        after={
            "status": run.status,
            "file": run.file_name,
            "received": run.received,
            "created": run.created,
            "updated": run.updated,
            "rejected": run.rejected,
        },
    )
    db.session.commit()


def _file_error(exc: FeedFileError) -> str:
    line = getattr(exc, "line", None)
    reason = getattr(exc, "reason", None) or str(exc)
    return f"{reason} (line {line})" if line else reason


def _ingest(run: FeedRun, merchant: Merchant, path: Path, writer) -> None:
    if not path.exists():
        raise FeedFileError("The claimed file is missing; it will be picked up again.")
    check_file_name(run.file_name or "", merchant.public_id)
    counts, batch, refused = catalog.Counts(), [], []
    size = current_app.config["FEED_BATCH_SIZE"]
    for item in parse_feed(path, max_bytes=current_app.config["FEED_MAX_BYTES"]):
        counts.received += 1
        if isinstance(item, ProductError):
            counts.rejected += 1
            if item.product_id:
                refused.append(item.product_id)
            writer.writerow([item.line, item.product_id or "", item.field, item.reason])
            if counts.rejected <= MAX_STORED_ERRORS:
                db.session.add(
                    FeedRunError(
                        run_id=run.id,
                        line=item.line,
                        field=item.field,
                        product_id=item.product_id,
                        reason=item.reason,
                    )
                )
            continue
        batch.append(item)
        if len(batch) >= size:
            catalog.upsert_batch(merchant.id, merchant.currency, run.id, batch, counts)
            batch = []
    catalog.upsert_batch(merchant.id, merchant.currency, run.id, batch, counts)
    catalog.mark_seen(merchant.id, run.id, refused)  # in the file, kept as it was
    catalog.mark_latest(merchant.id, run.id)
    run.discontinued = discontinued.apply(merchant.id, counts.discontinued_ids, run.public_id)
    for name in ("received", "created", "updated", "unchanged", "rejected"):
        setattr(run, name, getattr(counts, name))


def _archive(path: Path, merchant: Merchant, run: FeedRun) -> str | None:
    if not path.exists():
        return None
    stamp = run.created_at.strftime("%Y%m%dT%H%M%SZ")
    target = _feeds_dir("archive", merchant.public_id) / f"{stamp}-{run.public_id}-{run.file_name}"
    shutil.move(path, target)
    return str(target)


def _publish_report(report: Path, merchant: Merchant, run: FeedRun) -> None:
    """Drop the run's report in the merchant's ``outgoing/`` (written then renamed)."""
    account = db.session.scalar(select(SftpAccount).where(SftpAccount.merchant_id == merchant.id))
    if account is None:
        return
    outgoing = home(account) / "outgoing"
    outgoing.mkdir(parents=True, exist_ok=True)
    stamp = run.created_at.strftime("%Y%m%d-%H%M%S")
    name = f"{merchant.public_id}.Products.{stamp}.{run.public_id[:8]}.{run.status}.csv"
    tmp = outgoing / f".{name}.part"
    shutil.copyfile(report, tmp)
    os.replace(tmp, outgoing / name)
