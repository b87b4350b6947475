"""Staff do what a subscriber can do on their dashboard, from the subscriber's page.

Each action is one form on a subscription's card, posted with htmx; the answer is the
subscriber's page body (``#subscriber``), the confirmation or the refusal shown at that form.
The action services are called in the Application scope (``customer_id`` None) as staff, so
their events carry the staff member as actor.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, g, request
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import Order, OrderStatus, Subscription
from app.services import (
    events,
    item_actions,
    order_actions,
    placement,
    save_offers,
    shipping_payment,
    subscription_actions,
    subscription_lifecycle,
    subscriptions,
)
from app.services import subscriber_scope as scope
from app.services.errors import Conflict, NotFound, ValidationError
from app.views.console.auth import actor, login_required
from app.views.console.subscribers import render_detail

bp = Blueprint("subscriber_actions", __name__, url_prefix="/subscribers/subscriptions")

Action = Callable[[int, Subscription, MultiDict, events.Actor], str]
NO_ORDER = "The subscription has no upcoming order."


def _order(sub: Subscription) -> Order:
    order = subscriptions.upcoming_order(sub)
    if order is None:
        raise Conflict(NO_ORDER)
    return order


def _quantity(m, sub, form, who) -> str:
    sub = subscription_actions.change_quantity(
        m, None, sub.public_id, form.get("quantity", ""), actor=who
    )
    return f"Quantity is now {sub.quantity}."


def _frequency(m, sub, form, who) -> str:
    sub = subscription_actions.change_frequency(
        m, None, sub.public_id, form.get("every", ""), form.get("every_period", ""), actor=who
    )
    return f"Ships {sub.frequency_label} now; the next order keeps its date."


def _next_date(m, sub, form, who) -> str:
    subscription_actions.change_next_order_date(
        m, None, sub.public_id, form.get("order_date", ""), actor=who
    )
    return f"Next order moved to {form.get('order_date')}."


def _skip(m, sub, form, who) -> str:
    order = _order(sub)
    order_actions.skip_subscription(m, None, order.public_id, sub.public_id, actor=who)
    return "Skipped: its item moved to the order after."


def _send_now(m, sub, form, who) -> str:
    order = order_actions.send_now(m, None, _order(sub).public_id, actor=who)
    if order.status == OrderStatus.SEND_NOW:
        placement.place_soon(order.id)
    return "The order is queued to send now."


def _swap(m, sub, form, who) -> str:
    sub = subscription_actions.change_product(
        m, None, sub.public_id, form.get("product", ""), actor=who
    )
    return f"Swapped to {sub.product.name}."


def _add_item(m, sub, form, who) -> str:
    item = item_actions.add_one_time_item(
        m,
        None,
        _order(sub).public_id,
        form.get("product", "").strip(),
        form.get("quantity", ""),
        actor=who,
    )
    return f"Added {item.quantity} × {item.product.name} to the next order, once."


def _pause(m, sub, form, who) -> str:
    until = form.get("until", "").strip() or None
    subscription_lifecycle.pause(m, None, sub.public_id, until, actor=who)
    return f"Paused until {until}." if until else "Paused until resumed."


def _resume(m, sub, form, who) -> str:
    subscription_lifecycle.resume(m, None, sub.public_id, form.get("order_date"), actor=who)
    return "Resumed."


def _cancel(m, sub, form, who) -> str:
    reason = f"{form.get('cancel_code', '')}|{form.get('cancel_text', '')}".strip("|")
    subscription_lifecycle.cancel(m, None, sub.public_id, reason, actor=who)
    return "Cancelled."


def _save_discount(m, sub, form, who) -> str:
    save_offers.accept_discount(m, None, sub.public_id, actor=who)
    return "Discount to stay given."


def _reactivate(m, sub, form, who) -> str:
    subscription_lifecycle.reactivate(
        m, None, sub.public_id, next_order_date=form.get("next_order_date"), actor=who
    )
    return "Reactivated."


def _shipping(m, sub, form, who) -> str:
    address = form.get("address", "")
    if form.get("for_all"):
        shipping_payment.use_address_for_all(m, None, address, actor=who)
        return "All their live subscriptions ship to this address now."
    shipping_payment.change_subscription_shipping(m, None, sub.public_id, address, actor=who)
    return "Ships to this address now."


def _payment(m, sub, form, who) -> str:
    payment = form.get("payment", "")
    if form.get("for_all"):
        shipping_payment.use_payment_for_all(m, None, payment, actor=who)
        return "All their live subscriptions are paid with this method now."
    shipping_payment.change_subscription_payment(m, None, sub.public_id, payment, actor=who)
    return "Paid with this method now."


def _reminder(m, sub, form, who) -> str:
    sub = subscription_actions.change_reminder_days(
        m, None, sub.public_id, form.get("reminder_days", ""), actor=who
    )
    days = sub.reminder_days
    return f"Reminder {days} days before." if days else "Reminder as the store's setting."


ACTIONS: dict[str, Action] = {
    "quantity": _quantity,
    "frequency": _frequency,
    "next_date": _next_date,
    "skip": _skip,
    "send_now": _send_now,
    "swap": _swap,
    "add_item": _add_item,
    "pause": _pause,
    "resume": _resume,
    "shipping": _shipping,
    "payment": _payment,
    "reminder": _reminder,
    "cancel": _cancel,
    "save_discount": _save_discount,
    "reactivate": _reactivate,
}
# An unknown address or card is bad input on that form, not a missing page.
NOT_FOUND_FIELDS = {"shipping": "address", "payment": "payment"}


@bp.post("/<public_id>/<action>")
@login_required
def act(public_id: str, action: str):
    sub = scope.subscription(g.merchant.id, None, public_id)  # NotFound: 404
    run = ACTIONS.get(action)
    if run is None:
        raise NotFound()
    return answer(
        sub.customer.merchant_user_id,
        sub.public_id,
        action,
        lambda: run(g.merchant.id, sub, request.form, actor()),
    )


def answer(user_id: str, acted: str, action: str, run: Callable[[], str]):
    """The subscriber's page after ``run``: its notice, or its refusal at the form (for
    ``acted``, the public id of what the form is about)."""
    shown = {"acted": acted, "action": action}
    try:
        notice = run()
    except (ValidationError, Conflict, NotFound) as exc:
        db.session.rollback()  # the page shows what is stored, not what the action began
        # the form keeps what was typed, beside what is wrong with it
        return render_detail(user_id, posted=request.form, **shown, **refusal(action, exc))
    return render_detail(user_id, notice=notice, **shown)


def refusal(action: str, exc: ValidationError | Conflict | NotFound) -> dict:
    """The status and what to show at the form."""
    if isinstance(exc, NotFound):  # an address, card or product that is not the customer's
        field = NOT_FOUND_FIELDS.get(action, "product")
        message = "Choose one of the listed options; that one is not the customer's."
        return {"status": 400, "error": message, "errors": {field: message}}
    return {"status": exc.status, "error": exc.message, "errors": exc.fields}
