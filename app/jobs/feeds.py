"""RQ entry points for product feed ingestion."""

from __future__ import annotations

from app.services import feeds


def run_feed(run_id: int) -> None:
    """Ingest one claimed feed file (see services.feeds.execute)."""
    feeds.execute(run_id)


def ingest_all() -> None:
    """The :00/:30 sweep: claim every merchant's new files and queue their runs."""
    feeds.schedule_all()
