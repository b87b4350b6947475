"""Subscribers in the console: list and search them, and one in full."""

from __future__ import annotations

from flask import Blueprint, g

from app.domain import money
from app.integrations import wire
from app.services import order_search, subscribers
from app.views import htmx, params
from app.views.console.auth import login_required

bp = Blueprint("subscribers", __name__, url_prefix="/subscribers")


@bp.get("/")
@login_required
def index():
    q = params.text("q")
    before = params.integer("before", default=None, low=1, high=wire.DB_INT_MAX)
    rows = subscribers.page(g.merchant.id, q, before=before)
    return htmx.render(
        "console/subscribers/index.html",
        fragment="console/subscribers/_table.html",
        rows=rows,
        q=q,
        more=len(rows) == subscribers.PAGE_SIZE,
    )


@bp.get("/<path:user_id>")
@login_required
def detail(user_id: str):
    found = subscribers.detail(g.merchant.id, user_id)
    return htmx.render(
        "console/subscribers/detail.html",
        d=found,
        tz=g.merchant.tz,
        card_label=subscribers.card_label,
        lines=subscribers.address_lines,
        change=subscribers.change_summary,
        money=money.display,
        orders=order_search.for_customer(g.merchant.id, found.customer.id),
        labels=order_search.LABELS,
        tones=order_search.TONES,
    )
