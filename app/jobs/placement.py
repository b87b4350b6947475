"""RQ entry points for recurring order placement."""

from __future__ import annotations

from datetime import date

from app.services import placement, placement_responses


def schedule() -> None:
    """The hourly cron: start a run for each merchant whose placement hour has come."""
    placement.schedule_all()


def place_batch(run_id: int, order_ids: list[int], as_of: str) -> None:
    """Place one batch of a run's due orders (see services.placement)."""
    placement.place_batch(run_id, order_ids, date.fromisoformat(as_of))


def batch_failed(job, connection, *exc_info) -> None:
    """RQ's failure callback of ``place_batch`` jobs (see services.placement.batch_stopped)."""
    run_id, order_ids, _as_of = job.args
    placement.batch_stopped(run_id, order_ids)


def place_order(order_id: int, as_of: str) -> None:
    """Place one order now if it is due (see services.placement.place_soon)."""
    placement.place_one(order_id, date.fromisoformat(as_of))


def ingest_batch_responses() -> None:
    """The five-minute sweep: apply the batch response files stores uploaded."""
    placement_responses.sweep_all()
