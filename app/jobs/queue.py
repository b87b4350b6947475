"""Enqueue by dotted path, so services never import the job modules that import them."""

from __future__ import annotations

from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue, Worker
from rq.callbacks import execute_failure_callback
from rq.exceptions import AbandonedJobError
from rq.job import Job
from sqlalchemy.orm import configure_mappers

from app.extensions import db


def redis() -> Redis:
    return current_app.extensions["rq"]["redis"]


def get_queue(name: str = "default") -> Queue:
    return current_app.extensions["rq"]["queues"][name]


def enqueue(dotted: str, *args: Any, queue: str = "default", **kwargs: Any) -> Job:
    """Enqueue ``dotted`` (e.g. ``"app.jobs.health.heartbeat"``) with plain-value args."""
    return get_queue(queue).enqueue(dotted, *args, **kwargs)


def stats() -> dict[str, Any]:
    """Queue depth and live RQ workers as Redis reports them (None when Redis is down)."""
    try:
        conn = redis()
        return {
            "queued": sum(len(q) for q in current_app.extensions["rq"]["queues"].values()),
            "workers": len(Worker.all(connection=conn)),
            "redis": True,
        }
    except Exception:  # noqa: BLE001 - any Redis failure is shown as "unreachable"
        current_app.logger.warning("Redis unreachable for queue stats")
        return {"queued": None, "workers": None, "redis": False}


_INHERITED: list = []  # in a work-horse: the parent's session, kept from the collector


class AppWorker(Worker):
    """An RQ worker whose forked work-horses never share the parent's database connections,
    and inherit the ORM's mappers configured (each would otherwise configure them again)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("work_horse_killed_handler", self._horse_killed)
        super().__init__(*args, **kwargs)

    def _horse_killed(self, job: Job, *_: Any) -> None:
        """A work-horse that died (SIGKILL, out of memory) runs its job's failure callback, as
        RQ runs it for a job whose whole worker died."""
        execute_failure_callback(
            job, self.death_penalty_class, AbandonedJobError, AbandonedJobError(), None
        )

    def work(self, *args: Any, **kwargs: Any) -> bool:
        configure_mappers()
        return super().work(*args, **kwargs)

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        # SQLAlchemy's recipe for os.fork(): the child drops the inherited pool without closing
        # the parent's sockets, and opens its own connections. A session the parent had open
        # (a worker started inside a test or a command) is set aside, never used nor closed:
        # closing it would roll back the parent's transaction on their shared socket.
        _INHERITED.append(db.session.registry())
        db.session.registry.clear()
        db.engine.dispose(close=False)
        super().main_work_horse(job, queue)
