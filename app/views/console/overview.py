"""The console's landing page and its self-updating process status."""

from __future__ import annotations

from flask import g

from app.jobs import queue
from app.services import events, health
from app.views import htmx
from app.views.console import bp
from app.views.console.auth import login_required


@bp.get("/")
@login_required
def overview():
    return htmx.render(
        "console/overview/index.html",
        beats=health.status(),
        queue_stats=queue.stats(),
        recent_events=events.recent(g.merchant.id, limit=10),
    )


@bp.get("/status")
@login_required
def status():
    return htmx.render(
        "console/overview/index.html",
        fragment="console/overview/_status.html",
        beats=health.status(),
        queue_stats=queue.stats(),
        recent_events=events.recent(g.merchant.id, limit=10),
    )
