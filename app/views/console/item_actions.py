"""Staff act on one item of a subscriber's upcoming order, from the subscriber's page: its
quantity this time, taking it out of the order, or making a one-time item a subscription.

The same item services as the dashboard and the REST API (``services.item_actions``), called
in the Application scope as staff; the answer is the subscriber's page body (``#subscriber``),
the confirmation or the refusal shown at that item's form (as ``subscriber_actions``).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, g, request
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import Order, OrderItem
from app.services import events, item_actions
from app.services import subscriber_scope as scope
from app.services.errors import NotFound
from app.views.console.auth import actor, login_required
from app.views.console.subscriber_actions import answer

bp = Blueprint("item_actions", __name__, url_prefix="/subscribers/items")

Action = Callable[[int, OrderItem, MultiDict, events.Actor], str]


def _quantity(m: int, item: OrderItem, form: MultiDict, who: events.Actor) -> str:
    changed = item_actions.change_item_quantity(
        m, None, item.public_id, form.get("quantity", ""), actor=who
    )
    return f"{changed.quantity} in this order."


def _remove(m: int, item: OrderItem, form: MultiDict, who: events.Actor) -> str:
    one_time = item.one_time or item.subscription_id is None
    item_actions.remove_item(m, None, item.public_id, actor=who)
    return "Taken out of the order." if one_time else "Moved to its next order."


def _subscribe(m: int, item: OrderItem, form: MultiDict, who: events.Actor) -> str:
    sub = item_actions.subscribe_item(
        m, None, item.public_id, form.get("every", ""), form.get("every_period", ""), actor=who
    )
    return f"Now a subscription, {sub.frequency_label}."


ACTIONS: dict[str, Action] = {
    "item_quantity": _quantity,
    "remove_item": _remove,
    "subscribe_item": _subscribe,
}


@bp.post("/<public_id>/<action>")
@login_required
def act(public_id: str, action: str):
    item = scope.item(g.merchant.id, None, public_id)  # NotFound: 404
    run = ACTIONS.get(action)
    if run is None:
        raise NotFound()
    user_id = db.session.get(Order, item.order_id).customer.merchant_user_id
    return answer(
        user_id, item.public_id, action, lambda: run(g.merchant.id, item, request.form, actor())
    )
