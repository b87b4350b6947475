"""Subscribers in the console: list and search them (with what they do most), and one in
full with the forms staff act through (``subscriber_actions``)."""

from __future__ import annotations

from flask import Blueprint, g

from app.domain import money
from app.domain.frequency import PERIODS
from app.integrations import wire
from app.models import Order, OrderStatus, Subscription
from app.services import cancel_reasons, dashboard_settings, order_search, save_offers, subscribers
from app.services import subscriber_scope as scope
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
        activity=subscribers.activity(g.merchant.id),
        activity_days=subscribers.ACTIVITY_DAYS,
        more=len(rows) == subscribers.PAGE_SIZE,
    )


@bp.get("/<path:user_id>")
@login_required
def detail(user_id: str):
    return render_detail(user_id)


def render_detail(user_id: str, *, status: int = 200, **ctx):
    """The subscriber's page, or for htmx its body (``#subscriber``) after an action."""
    found = subscribers.detail(g.merchant.id, user_id)
    subs = [sub for sub, _ in found.subscriptions]
    swaps = {sub.id: subscribers.swap_choices(sub) for sub in subs if sub.live}
    save_offer = dashboard_settings.settings(g.merchant).save_offer
    return htmx.render(
        "console/subscribers/detail.html",
        fragment="console/subscribers/_subscriber.html",
        status=status,
        d=found,
        tz=g.merchant.tz,
        card_label=subscribers.card_label,
        lines=subscribers.address_lines,
        change=subscribers.change_summary,
        money=money.display,
        orders=order_search.for_customer(g.merchant.id, found.customer.id),
        labels=order_search.LABELS,
        tones=order_search.TONES,
        actions={
            sub.id: available(sub, order, swaps.get(sub.id), save_offer)
            for sub, order in found.subscriptions
        },
        swaps=swaps,
        save_discount=save_offers.current,
        products=subscribers.orderable_products(g.merchant.id) if subs else [],
        reasons=cancel_reasons.reasons(g.merchant.id),
        save_offer=save_offer,
        periods=PERIODS,
        today=scope.today(g.merchant),
        errors=ctx.pop("errors", None) or {},
        **ctx,
    )


def available(
    sub: Subscription,
    order: Order | None,
    swaps: list | None,
    save_offer: dashboard_settings.SaveOffer | None = None,
) -> list[str]:
    """What staff can do to the subscription as it is now (its card shows these forms)."""
    if not sub.live:
        return ["reactivate"]
    always = ["quantity", "frequency", "shipping", "payment", "reminder", "cancel"]
    if sub.paused:
        return ["resume", *always]
    found = ["pause", *always]
    if order is not None and order.status == OrderStatus.UNSENT:
        found += ["next_date", "skip", "send_now", "add_item"]
    if swaps:
        found.append("swap")
    if save_offer is not None and save_offer.kind == "discount" and not save_offers.current(sub):
        found.append("save_discount")
    return found
