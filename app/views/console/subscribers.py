"""Subscribers (list, search, one in full) and checkouts (conversion) in the console."""

from __future__ import annotations

from flask import g, request

from app.domain import money
from app.integrations import wire
from app.services import checkouts, order_search, subscribers
from app.views import htmx, params
from app.views.console import bp
from app.views.console.auth import login_required

PERIOD_CHOICES = (7, 30, 90)


@bp.get("/subscribers/")
@login_required
def subscribers_index():
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


@bp.get("/subscribers/<path:user_id>")
@login_required
def subscriber_detail(user_id: str):
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


@bp.get("/checkouts/")
@login_required
def checkouts_index():
    days = request.args.get("days", 30, type=int)
    days = days if days in PERIOD_CHOICES else 30
    return htmx.render(
        "console/checkouts/index.html",
        summary=checkouts.summary(g.merchant.id, days),
        recent=checkouts.recent(g.merchant.id),
        choices=PERIOD_CHOICES,
        tz=g.merchant.tz,
    )
