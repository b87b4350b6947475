"""Batch-mode placement (contracts §6.6, T8): a run's due orders go out in one file.

A merchant whose ``placement_mode`` is ``batch`` gets one file per run in its SFTP home's
``outgoing/``, ``<MERCHANT_ID>_batch_orders_MM-DD-YYYY_HHMMSS.xml``, written by one job:

1. A BatchFile row (``writing``) is committed. Each due order is claimed and made ready as for
   the API method (``placement_send.prepare``), with a lease that outlasts the job, and its
   ledger row, naming the file, is committed.
2. The ``<orders>`` document is written under a temporary name in Perennial's work folder
   (beside the homes, so publishing is a link on the same file system) and synced to disk.
3. The name is taken in the database (unique per merchant: a second file in the same second
   takes the next second), the file is linked into ``outgoing/`` under it (never over another
   file) and the temporary name removed. Only then is the file ``written`` and its orders go
   to status 9, where they wait for the store's response file (``placement_responses``).
4. If step 2 or 3 fails nothing was published: the file is ``failed`` (recorded before the
   temporary file goes) and each order is "not sent" (status 13, due again at the next run,
   within the connection-retry window), as when an API endpoint refuses the connection.

No file is written when nothing is due; a run of more than ``placement.BATCH_FILE_ORDERS``
orders writes one file per as many, so that no job runs out of time (a job killed by its
timeout would leave its orders to recovery, and the next run would try them all again).

The time in the name is the merchant's local time, as its placement hour is (Ordergroove does
not say which zone); the autumn's repeated hour may repeat a stamp, which the unique name
absorbs.

A worker that dies mid-file leaves orders claimed (status 11) whose ledger rows name the file.
``recover`` (from ``placement_recovery.recover``, once the lease is over) asks the file: in
``outgoing/``, or named with its temporary file gone (the merchant has taken it), it was
published and the orders wait in 9; still temporary or never named, nothing was published and
the orders are not sent (13).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.integrations import orders_http
from app.integrations.sftp.paths import prepare_home
from app.integrations.xml import order as order_xml
from app.integrations.xml import order_batch
from app.models import BatchFile, Merchant, Order, OrderStatus, PlacementAttempt, SftpAccount
from app.models.types import utcnow
from app.services import claims, events, placement, placement_outcomes, placement_send

LEASE = timedelta(hours=2)  # longer than a job may run (placement.BATCH_FILE_TIMEOUT)
NAME_TRIES = 120  # seconds to move a stamp on before giving up on a free name
RESPONSE_DAYS = 2  # after this long without an answer, an order in 9 needs staff
NO_ACCOUNT = "Batch mode needs an SFTP login for the merchant (Settings, SFTP)."


class BatchWriteError(OSError):
    """The batch file could not be published; nothing left Perennial."""


def place_file(
    merchant_id: int,
    order_ids: Sequence[int],
    *,
    run_id: int | None,
    as_of: date,
    worker: str,
    now: datetime | None = None,
) -> dict[int, str]:
    """Claim the due orders among ``order_ids`` and publish them in one file; return each
    claimed order's outcome (``batched``, or ``not_sent`` when the file could not be written)."""
    batch = BatchFile(
        merchant_id=merchant_id,
        run_id=run_id,
        kind="orders",
        status="writing",
        counts={},
        problems=[],
    )
    db.session.add(batch)
    db.session.commit()
    ready = []
    for order_id in order_ids:
        try:
            prepared = placement_send.prepare(
                order_id,
                run_id=run_id,
                as_of=as_of,
                worker=worker,
                now=now,
                lease=LEASE,
                batch_file_id=batch.id,
            )
        except Exception:  # noqa: BLE001 - one bad order must not hold the others back
            db.session.rollback()  # its claim lapses and recovery finds nothing sent
            current_app.logger.exception(
                "batch file %s: order %s not prepared", batch.public_id, order_id
            )
            continue
        if prepared is not None:
            ready.append(prepared)
    if not ready:
        db.session.delete(batch)  # nothing due after all: no file
        db.session.commit()
        return {}
    try:
        _publish(batch, [p.document for p in ready], now)
    except (OSError, ValueError) as exc:
        return _not_sent(batch, ready, str(exc), now)
    return {
        p.order_id: placement_outcomes.batched(p.order_id, p.token, p.attempt_id, now=now)
        for p in ready
    }


def files_of_run(run_id: int) -> list[BatchFile]:
    """The batch file a run wrote (none when nothing was due, or in API mode)."""
    return list(
        db.session.scalars(
            select(BatchFile).where(BatchFile.run_id == run_id).order_by(BatchFile.id)
        )
    )


def outgoing(merchant_id: int) -> Path:
    """The merchant's ``outgoing/`` folder (created if missing)."""
    account = db.session.scalar(select(SftpAccount).where(SftpAccount.merchant_id == merchant_id))
    if account is None:
        raise BatchWriteError(NO_ACCOUNT)
    home = prepare_home(current_app.config["SFTP_ROOT"], account.username)
    return Path(home) / "outgoing"


def work_dir() -> Path:
    """Perennial's own folder beside the homes (merchants never see it)."""
    path = Path(current_app.config["SFTP_ROOT"]) / ".perennial-work" / "batch"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _temp_path(batch: BatchFile) -> Path:
    return work_dir() / f"{batch.public_id}.part"


def _publish(
    batch: BatchFile, documents: list[order_xml.OrderDocument], now: datetime | None
) -> None:
    """Write, name and link the file into ``outgoing/`` (see the module docstring)."""
    merchant = db.session.get(Merchant, batch.merchant_id)
    folder = outgoing(merchant.id)
    temp = _temp_path(batch)
    with open(temp, "xb") as out:
        order_xml.write_batch(out, documents)
        out.flush()
        os.fsync(out.fileno())
    when = (now or utcnow()).astimezone(merchant.tz)
    for _ in range(NAME_TRIES):
        name = order_batch.batch_file_name(merchant.public_id, when)
        when += timedelta(seconds=1)
        if not _take_name(batch, name):
            continue
        try:
            os.link(temp, folder / name)
        except FileExistsError:  # a file of that name is still there from before
            continue
        break
    else:
        raise BatchWriteError("No free file name in outgoing/.")
    temp.unlink()
    _sync_dir(folder)
    batch.status, batch.orders, batch.path = "written", len(documents), str(folder / name)
    batch.finished_at = utcnow()
    events.record(
        merchant.id,
        "placement.batch_file",
        placement.SYSTEM,
        object_type="batch_file",
        object_id=batch.public_id,
        after={"file": name, "orders": len(documents)},
    )
    db.session.commit()


def _take_name(batch: BatchFile, name: str) -> bool:
    """Record the name before the file has it, so a recovery knows where to look."""
    batch.file_name = name
    try:
        db.session.commit()
    except IntegrityError:  # another file of this merchant has it
        db.session.rollback()
        return False
    return True


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _not_sent(
    batch: BatchFile, ready: list[placement_send.Prepared], reason: str, now: datetime | None
) -> dict[int, str]:
    """Nothing was published: record it before the temporary file goes, then free the orders."""
    db.session.rollback()
    batch = db.session.get(BatchFile, batch.id)
    batch.status, batch.error, batch.finished_at = "failed", reason[:1000], utcnow()
    batch.orders = len(ready)
    events.record(
        batch.merchant_id,
        "placement.batch_file_failed",
        placement.SYSTEM,
        object_type="batch_file",
        object_id=batch.public_id,
        after={"orders": len(ready), "error": batch.error},
    )
    db.session.commit()
    current_app.logger.warning("batch file %s not written: %s", batch.public_id, reason)
    _temp_path(batch).unlink(missing_ok=True)
    delivery = orders_http.Delivery(
        "not_sent", reason=f"The batch file could not be written: {reason}"[:500]
    )
    return {
        p.order_id: placement_outcomes.apply(p.order_id, p.token, p.attempt_id, delivery, now=now)
        for p in ready
    }


def recover(order: Order, last: PlacementAttempt, now: datetime) -> str:
    """Settle an order whose batch-file worker died, by what became of its file."""
    if _was_published(db.session.get(BatchFile, last.batch_file_id)):
        return placement_outcomes.batched(order.id, order.lease_token, last.id, now=now)
    delivery = orders_http.Delivery(
        "not_sent", reason="The worker stopped before the batch file was published."
    )
    return placement_outcomes.apply(order.id, order.lease_token, last.id, delivery, now=now)


def _was_published(batch: BatchFile) -> bool:
    if batch.status in ("written", "failed"):
        return batch.status == "written"
    temp = _temp_path(batch)
    try:
        final = outgoing(batch.merchant_id) / batch.file_name if batch.file_name else None
    except OSError:
        final = None
    published = (final is not None and final.exists()) or (
        batch.file_name is not None and not temp.exists()
    )
    values = (
        {"status": "written", "path": str(final)}
        if published
        else {"status": "failed", "error": "The worker stopped while writing the file."}
    )
    if claims.take(
        BatchFile, batch.id, BatchFile.status == "writing", finished_at=utcnow(), **values
    ):
        events.record(
            batch.merchant_id,
            "placement.batch_file_recovered",
            placement.SYSTEM,
            object_type="batch_file",
            object_id=batch.public_id,
            after={"file": batch.file_name, "published": published},
        )
    db.session.commit()
    # Unpublished, it is gone; published, the temporary name may still link to it (the worker
    # died between the link and the unlink): only the name goes.
    temp.unlink(missing_ok=True)
    return published


def overdue(merchant_id: int, *, now: datetime | None = None) -> list[Order]:
    """Orders in a file written over ``RESPONSE_DAYS`` ago (the batched attempt's
    ``finished_at``) whose answer has not come. They
    stay in status 9 (the store may have placed them; sending again could ship twice) until
    the response comes or staff confirm, reject or send them again."""
    cutoff = (now or utcnow()) - timedelta(days=RESPONSE_DAYS)
    latest = (PlacementAttempt.order_id == Order.id) & (PlacementAttempt.attempt == Order.tries)
    return list(
        db.session.scalars(
            select(Order)
            .join(PlacementAttempt, latest)
            .where(
                Order.merchant_id == merchant_id,
                Order.status == OrderStatus.PENDING_BATCH_RESPONSE,
                PlacementAttempt.finished_at < cutoff,
            )
            .order_by(PlacementAttempt.finished_at)
        )
    )
