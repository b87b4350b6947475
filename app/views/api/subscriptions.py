"""Read API (Application scope): subscriptions, customers and upcoming orders (contracts §4.3)."""

from __future__ import annotations

from flask import g, jsonify, request, url_for
from sqlalchemy import select

from app.extensions import db
from app.models import Address, PaymentMethod, Subscription
from app.services import customers, subscriptions
from app.services.errors import NotFound, ValidationError
from app.views.api import bp
from app.views.api.auth import api_key_required

MAX_PAGE = 100


@bp.get("/subscriptions/<public_id>/")
@api_key_required
def subscription_detail(public_id: str):
    return jsonify(subscriptions.subscription_dict(subscriptions.get(g.merchant.id, public_id)))


@bp.get("/subscriptions/")
@api_key_required
def subscription_list():
    """``?customer=<merchant user id>``; cursor pages of ``page_size`` (default 10, max 100)."""
    size = request.args.get("page_size", "10")
    if not size.isdigit() or not 1 <= int(size) <= MAX_PAGE:
        raise ValidationError("page_size", fields={"page_size": "Use a number from 1 to 100."})
    cursor = request.args.get("cursor", "0")
    if not cursor.isdigit():
        raise ValidationError("cursor", fields={"cursor": "Use the next link as given."})
    query = select(Subscription).where(Subscription.merchant_id == g.merchant.id,
                                       Subscription.id > int(cursor))
    user_id = request.args.get("customer")
    if user_id is not None:
        customer = customers.get_by_user_id(g.merchant.id, user_id)
        query = query.where(Subscription.customer_id == (customer.id if customer else -1))
    rows = list(db.session.scalars(query.order_by(Subscription.id).limit(int(size) + 1)))
    more = len(rows) > int(size)
    rows = rows[:int(size)]
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    return jsonify({
        "next": url_for("api.subscription_list", cursor=rows[-1].id, _external=True, **args)
        if more else None,
        "results": [subscriptions.subscription_dict(s) for s in rows],
    })


@bp.get("/customers/<path:user_id>/")
@api_key_required
def customer_detail(user_id: str):
    customer = customers.get_by_user_id(g.merchant.id, user_id)
    if customer is None:
        raise NotFound()
    addresses = db.session.scalars(select(Address).where(Address.customer_id == customer.id)
                                   .order_by(Address.id))
    payments = db.session.scalars(select(PaymentMethod).where(
        PaymentMethod.customer_id == customer.id).order_by(PaymentMethod.id))
    return jsonify({**customers.customer_dict(customer),
                    "addresses": [customers.address_dict(a) for a in addresses],
                    "payments": [customers.payment_dict(p) for p in payments]})


@bp.get("/orders/<public_id>/")
@api_key_required
def order_detail(public_id: str):
    return jsonify(subscriptions.order_dict(subscriptions.get_order(g.merchant.id, public_id)))
