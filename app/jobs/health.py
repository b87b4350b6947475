"""The heartbeat job: proves cron -> Redis -> worker -> database works end to end."""

from __future__ import annotations

from datetime import UTC

from rq import get_current_job

from app.services import health


def heartbeat() -> None:
    """RQ entry point: record the worker's and the scheduler's last sign of life."""
    job = get_current_job()
    at = job.enqueued_at if job else None
    health.beat(
        scheduled_at=at.replace(tzinfo=at.tzinfo or UTC) if at else None,
        worker=job.worker_name if job else None,
    )
