"""Heartbeats of the background processes, written by a real job round trip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.extensions import db
from app.models import Heartbeat
from app.models.types import utcnow

PROCESSES = ("worker", "scheduler")
STALE_AFTER_SECONDS = 90


@dataclass(frozen=True)
class Beat:
    name: str
    seen_at: datetime | None
    age_seconds: int | None
    detail: str | None

    @property
    def fresh(self) -> bool:
        return self.age_seconds is not None and self.age_seconds <= STALE_AFTER_SECONDS


def beat(*, scheduled_at: datetime | None, worker: str | None = None) -> None:
    """Record that the worker ran a job now, and when the scheduler enqueued it."""
    now = utcnow()
    _upsert("worker", now, worker)
    if scheduled_at is not None:
        _upsert("scheduler", scheduled_at, "rq cron")
    db.session.commit()


def _upsert(name: str, seen_at: datetime, detail: str | None) -> None:
    row = db.session.get(Heartbeat, name)
    if row is None:
        db.session.add(Heartbeat(name=name, seen_at=seen_at, detail=detail))
    elif row.seen_at is None or seen_at >= row.seen_at:
        row.seen_at, row.detail = seen_at, detail


def status() -> list[Beat]:
    """Return one Beat per background process, with its age in seconds."""
    now = utcnow()
    rows = {row.name: row for row in db.session.scalars(db.select(Heartbeat))}
    beats = []
    for name in PROCESSES:
        row = rows.get(name)
        age = max(0, int((now - row.seen_at).total_seconds())) if row else None
        beats.append(Beat(name, row.seen_at if row else None, age, row.detail if row else None))
    return beats
