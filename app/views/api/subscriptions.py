"""Read API: subscriptions, customers and orders (contracts §4.3), in both scopes (see
``auth``): the Storefront scope reads only its own customer's. Lists page as ``paging`` says."""

from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select

from app.extensions import db
from app.models import Address, PaymentMethod
from app.services import customers, subscriptions
from app.services import subscriber_scope as scope
from app.services.errors import NotFound
from app.views import params
from app.views.api import bp, paging
from app.views.api.auth import customer_or_key_required


@bp.get("/subscriptions/<public_id>/")
@customer_or_key_required
def subscription_detail(public_id: str):
    sub = scope.subscription(g.merchant.id, g.customer_id, public_id)
    return jsonify(subscriptions.subscription_dict(sub))


@bp.get("/subscriptions/")
@customer_or_key_required
def subscription_list():
    """Filters ``customer`` (merchant user id), ``status`` (active, paused, cancelled),
    ``updated_start`` and ``updated_end``; pages as ``paging`` says."""
    user_id, customer_id = request.args.get("customer"), None
    if user_id is not None:
        customer = customers.get_by_user_id(g.merchant.id, user_id)
        customer_id = customer.id if customer else -1  # an unknown customer has none
    if g.customer_id is not None:  # Storefront scope: its own customer, whatever was asked
        customer_id = g.customer_id if customer_id in (None, g.customer_id) else -1
    status = params.choice("status", subscriptions.LIST_STATUSES)
    result = subscriptions.page(
        g.merchant.id,
        customer_id=customer_id,
        request=paging.page_request(),
        status=status,
        updated_start=params.moment("updated_start"),
        updated_end=params.moment("updated_end"),
    )
    return jsonify(paging.body("api.subscription_list", result, subscriptions.subscription_dict))


@bp.get("/customers/<path:user_id>/")
@customer_or_key_required
def customer_detail(user_id: str):
    customer = customers.get_by_user_id(g.merchant.id, user_id)
    if customer is None or g.customer_id not in (None, customer.id):
        raise NotFound()
    addresses = db.session.scalars(
        select(Address).where(Address.customer_id == customer.id).order_by(Address.id)
    )
    payments = db.session.scalars(
        select(PaymentMethod)
        .where(PaymentMethod.customer_id == customer.id)
        .order_by(PaymentMethod.id)
    )
    return jsonify(
        {
            **customers.customer_dict(customer),
            "addresses": [customers.address_dict(a) for a in addresses],
            "payments": [customers.payment_dict(p) for p in payments],
        }
    )


@bp.get("/orders/<public_id>/")
@customer_or_key_required
def order_detail(public_id: str):
    order = scope.order(g.merchant.id, g.customer_id, public_id)
    return jsonify(subscriptions.order_dict(order))
