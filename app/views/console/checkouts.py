"""Checkouts the store reported: subscription vs one-time, and offer conversion, per period."""

from __future__ import annotations

from flask import Blueprint, g, request

from app.services import checkouts
from app.views import htmx
from app.views.console.auth import login_required

bp = Blueprint("checkouts", __name__, url_prefix="/checkouts")

PERIOD_CHOICES = (7, 30, 90)


@bp.get("/")
@login_required
def index():
    days = request.args.get("days", 30, type=int)
    days = days if days in PERIOD_CHOICES else 30
    return htmx.render(
        "console/checkouts/index.html",
        summary=checkouts.summary(g.merchant.id, days),
        recent=checkouts.recent(g.merchant.id),
        choices=PERIOD_CHOICES,
        tz=g.merchant.tz,
    )
