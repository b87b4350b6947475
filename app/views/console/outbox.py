"""The outbox: every email to the merchant's subscribers, and one in full."""

from __future__ import annotations

from flask import Blueprint, g

from app.integrations import wire
from app.services import notifications
from app.views import htmx, params
from app.views.console.auth import login_required

bp = Blueprint("outbox", __name__, url_prefix="/outbox")


@bp.get("/")
@login_required
def index():
    before = params.integer("before", default=None, low=1, high=wire.DB_INT_MAX)
    return htmx.render(
        "console/outbox/index.html",
        fragment="console/outbox/_table.html",
        outbox=notifications.page(g.merchant.id, before=before),
        tz=g.merchant.tz,
    )


@bp.get("/<public_id>")
@login_required
def detail(public_id: str):
    return htmx.render(
        "console/outbox/detail.html",
        email=notifications.get(g.merchant.id, public_id),
        tz=g.merchant.tz,
    )
