"""Enqueue by dotted path, so services never import the job modules that import them."""

from __future__ import annotations

from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue, Worker
from rq.job import Job


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
