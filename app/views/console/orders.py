"""Orders: search and filter them, one in full with every attempt, and what staff can do."""

from __future__ import annotations

from flask import Blueprint, g, request

from app.domain import money
from app.integrations.xml import display
from app.models import OrderStatus
from app.services import order_search, orders, placement, subscribers
from app.services.errors import Conflict, ValidationError
from app.views import htmx, params
from app.views.console.auth import actor, login_required

bp = Blueprint("orders", __name__, url_prefix="/orders")

# The buttons, in the order shown; each appears only while orders.ACTIONABLE allows it.
ACTIONS = {
    "retry": "Retry now",
    "send_again": "Send again",
    "confirm": "Confirm placed",
    "rescue": "Rescue and send now",
    "send_now": "Send now",
    "reject": "Reject",
}
DONE = {
    "retry": "Queued to send again now.",
    "send_again": "Queued to send again now.",
    "confirm": "Marked as placed.",
    "rescue": "Rescued: queued to send now.",
    "send_now": "Queued to send now.",
    "reject": "Rejected. The subscription goes on with its next order.",
}
MAX_STORE_ORDER_ID = 200


def _list_ctx() -> dict:
    chosen = order_search.filters(
        params.text("status"),
        params.text("from"),
        params.text("to"),
        params.text("q"),
        params.text("sort"),
    )
    result = order_search.page(
        g.merchant.id, chosen, cursor=params.text("cursor", limit=512) or None
    )
    return {
        "result": result,
        "total": order_search.count(g.merchant.id, chosen),
        "f": chosen,
        "groups": order_search.GROUPS,
        "sorts": order_search.SORTS,
        "labels": order_search.LABELS,
        "tones": order_search.TONES,
        "carry": _carry(chosen),
        "money": money.display,
    }


def _carry(chosen: order_search.Filters) -> dict[str, str]:
    """The filters as a next-page link repeats them."""
    values = {
        "q": chosen.q,
        "status": chosen.status,
        "sort": chosen.sort,
        "from": chosen.since.isoformat() if chosen.since else "",
        "to": chosen.until.isoformat() if chosen.until else "",
    }
    return {name: value for name, value in values.items() if value}


@bp.get("/")
@login_required
def index():
    return htmx.render(
        "console/orders/index.html", fragment="console/orders/_table.html", **_list_ctx()
    )


def actions_for(status: int) -> list[str]:
    """What staff can do to an order in this status ("send now" only where "retry" is not)."""
    return [
        a
        for a in ACTIONS
        if status in orders.ACTIONABLE[a]
        and not (a == "send_now" and status in orders.ACTIONABLE["retry"])
    ]


def _detail(public_id: str, *, status: int = 200, **ctx):
    order = orders.get(g.merchant.id, public_id)
    return htmx.render(
        "console/orders/detail.html",
        fragment="console/orders/_order.html",
        status=status,
        order=order,
        attempts=order_search.attempts(g.merchant.id, order.id),
        actions=actions_for(order.status),
        action_labels=ACTIONS,
        live=order.status in order_search.SENDING,
        labels=order_search.LABELS,
        tones=order_search.TONES,
        outcomes=order_search.OUTCOMES,
        outcome_tones=order_search.OUTCOME_TONES,
        tz=g.merchant.tz,
        money=money.display,
        card_label=subscribers.card_label,
        lines=subscribers.address_lines,
        indent_xml=display.indent,
        **ctx,
    )


@bp.get("/<public_id>")
@login_required
def detail(public_id: str):
    return _detail(public_id)


@bp.post("/<public_id>/<any(retry, send_again, confirm, rescue, send_now, reject):action>")
@login_required
def act(public_id: str, action: str):
    try:
        order = orders.act(
            g.merchant.id,
            public_id,
            action,
            actor=actor(),
            store_order_id=_store_order_id() if action == "confirm" else None,
        )
    except Conflict:  # shown in place, with the order as it is now
        label = order_search.LABELS.get(orders.get(g.merchant.id, public_id).status, "")
        return _detail(
            public_id,
            status=409,
            notice_error=True,
            notice=(
                f"Not done: the order is “{label}” now; it changed since this page was loaded."
            ),
        )
    except ValidationError as exc:
        return _detail(public_id, status=exc.status, notice=exc.message, notice_error=True)
    if order.status == OrderStatus.SEND_NOW:
        placement.place_soon(order.id)
    return _detail(public_id, notice=DONE[action])


def _store_order_id() -> str | None:
    """The store's order id typed in with "Confirm placed" (empty: keep what we have)."""
    text = " ".join(request.form.get("store_order_id", "").split())
    if len(text) > MAX_STORE_ORDER_ID:
        raise ValidationError(f"The store's order id is at most {MAX_STORE_ORDER_ID} characters.")
    return text or None
