"""The console's landing page: today's orders, and the self-updating process status."""

from __future__ import annotations

from flask import Blueprint, g

from app.jobs import queue
from app.services import events, health, order_search
from app.views import htmx
from app.views.console.auth import login_required

bp = Blueprint("overview", __name__)


def _ctx() -> dict:
    return {
        "orders": order_search.summary(g.merchant.id),
        "beats": health.status(),
        "queue_stats": queue.stats(),
        "recent_events": events.recent(g.merchant.id, limit=10),
    }


@bp.get("/")
@login_required
def index():
    return htmx.render("console/overview/index.html", **_ctx())


@bp.get("/status")
@login_required
def status():
    return htmx.render(
        "console/overview/index.html", fragment="console/overview/_status.html", **_ctx()
    )
