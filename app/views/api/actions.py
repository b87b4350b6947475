"""Subscriber actions over REST (contracts §4.3), in both scopes.

Storefront scope reaches only the signed-in customer's objects (another customer's are 404,
untouched); Application scope reaches the whole merchant. Each route reads its JSON body's
fields and calls the same service the dashboard and the console call, then answers the
subscription, order or item as it now reads. A bad field is a 400 naming it; an order being
placed is a 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, jsonify, request

from app.models import Order, OrderItem, Subscription
from app.services import (
    cancel_reasons,
    instant_upsell,
    item_actions,
    order_actions,
    shipping_payment,
    subscription_actions,
    subscription_lifecycle,
    subscriptions,
    transactions,
)
from app.services.errors import ValidationError
from app.views.api import bp
from app.views.api.auth import customer_or_key_required

# action name in the URL -> (service, body fields passed in order, body fields by keyword)
Action = tuple[Callable[..., Any], tuple[str, ...], tuple[str, ...]]

SUBSCRIPTION: dict[str, Action] = {
    "change_quantity": (subscription_actions.change_quantity, ("quantity",), ()),
    "change_frequency": (subscription_actions.change_frequency, ("every", "every_period"), ()),
    "change_next_order_date": (subscription_actions.change_next_order_date, ("order_date",), ()),
    "change_product": (subscription_actions.change_product, ("product",), ()),
    "change_email_reminder": (subscription_actions.change_reminder_days, ("reminder_days",), ()),
    "change_shipping": (shipping_payment.change_subscription_shipping, ("shipping_address",), ()),
    "change_payment": (shipping_payment.change_subscription_payment, ("payment",), ()),
    "pause": (subscription_lifecycle.pause, ("until",), ()),
    "resume": (subscription_lifecycle.resume, ("order_date",), ()),
    "cancel": (subscription_lifecycle.cancel, ("cancel_reason",), ()),
    "reactivate": (
        subscription_lifecycle.reactivate,
        (),
        ("every", "every_period", "start_date", "next_order_date"),
    ),
}
ORDER: dict[str, Action] = {
    "send_now": (order_actions.send_now, (), ()),
    "change_place_date": (order_actions.change_place_date, ("place",), ()),
    "skip_subscription": (order_actions.skip_subscription, ("subscription",), ()),
    "cancel": (order_actions.cancel_order, (), ()),
    "change_shipping": (shipping_payment.change_order_shipping, ("shipping_address",), ()),
    "change_payment": (shipping_payment.change_order_payment, ("payment",), ()),
}
ITEM: dict[str, Action] = {
    "change_quantity": (item_actions.change_item_quantity, ("quantity",), ()),
    "delete": (item_actions.remove_item, (), ()),
    "change_product": (item_actions.change_product, ("product",), ()),
}


def _body() -> dict[str, Any]:
    if not request.get_data():
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("The body must be a JSON object.")
    return data


def _run(action: Action, *ids: Any) -> Any:
    service, positional, keywords = action
    body = _body()
    with transactions.keeping_loaded():  # the answer is what this request just committed
        result = service(
            g.merchant.id,
            g.customer_id,
            *ids,
            *(body.get(name) for name in positional),
            **{name: body.get(name) for name in keywords},
            actor=g.actor,
        )
        return _answer(result)


def _answer(result: Any):
    if isinstance(result, Subscription):
        return jsonify(subscriptions.subscription_dict(result))
    if isinstance(result, Order):
        return jsonify(subscriptions.order_dict(result))
    if isinstance(result, OrderItem):
        order = subscriptions.order_dict(result.order)
        item = next(i for i in order["items"] if i["public_id"] == result.public_id)
        return jsonify({**item, "order": order["public_id"]})
    return jsonify({"results": [subscriptions.subscription_dict(s) for s in result]})


def _names(table: dict[str, Action]) -> str:
    return "any(" + ", ".join(table) + ")"


@bp.route(f"/subscriptions/<public_id>/<{_names(SUBSCRIPTION)}:action>/", methods=["PATCH"])
@customer_or_key_required
def subscription_action(public_id: str, action: str):
    return _run(SUBSCRIPTION[action], public_id)


@bp.route(f"/orders/<public_id>/<{_names(ORDER)}:action>/", methods=["PATCH"])
@customer_or_key_required
def order_action(public_id: str, action: str):
    return _run(ORDER[action], public_id)


@bp.route("/items/<public_id>/change_quantity/", methods=["PATCH"])
@bp.route("/items/<public_id>/change_product/", methods=["PATCH"])
@bp.route("/items/<public_id>/delete/", methods=["DELETE"])
@customer_or_key_required
def item_action(public_id: str):
    action = request.path.rstrip("/").rsplit("/", 1)[1]
    return _run(ITEM[action], public_id)


@bp.post("/items/iu/")
@customer_or_key_required
def item_instant_upsell():
    """A one-time item added to an upcoming order: ``{"order", "product", "quantity", "offer"}``."""
    body = _body()
    item = item_actions.add_one_time_item(
        g.merchant.id,
        g.customer_id,
        body.get("order"),
        body.get("product"),
        body.get("quantity", 1),
        offer=body.get("offer"),
        actor=g.actor,
    )
    return _answer(item), 201


@bp.post("/subscriptions/create_from_item/")
@customer_or_key_required
def subscription_from_item():
    """A one-time item made a subscription: ``{"item", "every", "every_period", "offer"}``."""
    body = _body()
    sub = item_actions.subscribe_item(
        g.merchant.id,
        g.customer_id,
        body.get("item"),
        body.get("every"),
        body.get("every_period"),
        offer=body.get("offer"),
        actor=g.actor,
    )
    return _answer(sub), 201


@bp.post("/subscriptions/iu/")
@customer_or_key_required
def subscription_instant_upsell():
    """A new subscription inside an upcoming order (its first order):
    ``{"order", "product", "every", "every_period", "quantity", "offer"}``."""
    body = _body()
    sub = instant_upsell.subscribe_in_order(
        g.merchant.id,
        g.customer_id,
        body.get("order"),
        body.get("product"),
        body.get("every"),
        body.get("every_period"),
        body.get("quantity", 1),
        offer=body.get("offer"),
        actor=g.actor,
    )
    return _answer(sub), 201


@bp.post("/addresses/<public_id>/use_for_all/")
@customer_or_key_required
def address_use_for_all(public_id: str):
    subs = shipping_payment.use_address_for_all(
        g.merchant.id, g.customer_id, public_id, actor=g.actor
    )
    return _answer(subs)


@bp.post("/payments/<public_id>/use_for_all/")
@customer_or_key_required
def payment_use_for_all(public_id: str):
    subs = shipping_payment.use_payment_for_all(
        g.merchant.id, g.customer_id, public_id, actor=g.actor
    )
    return _answer(subs)


@bp.get("/merchant/cancel_reason/")
@customer_or_key_required
def cancel_reason_list():
    """The merchant's cancel reasons: ``[{"code", "text", "needs_text"}]`` (either scope)."""
    return jsonify({"results": cancel_reasons.reasons(g.merchant.id)})
