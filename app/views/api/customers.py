"""Customer update APIs (contracts §7): Set Contact Details (§7.1, T9), the legacy default
payment update (§7.2), a customer's addresses and payment methods over REST, and customers
(§7.3: list, create, update). Either scope (the Storefront scope reaches its own customer
only), but creating a customer takes the Application scope.

``PATCH /customers/<merchant_user_id>/set_contact_details`` (with or without the trailing
slash), authenticated by the signed JSON ``Authorization`` header (its ``sig_field`` the
customer's id: that customer only) or ``x-api-key`` (any customer of the merchant). 200
``{"phone_number", "email"}``; 400 ``{"<field>": "<detail>"}``; 403 ``{"detail":
"Authentication Failed"}``; 404 ``{"detail": "Unable to find requested asset."}``.
"""

from __future__ import annotations

from flask import g, jsonify, request

from app.extensions import sqlite_writer_lock
from app.integrations import wire
from app.services import (
    addresses,
    contact_details,
    customer_records,
    customers,
    payment_methods,
    payment_updates,
)
from app.services import subscriber_scope as scope
from app.services.errors import NotFound, ValidationError
from app.views import params
from app.views.api import bp, paging
from app.views.api.auth import api_key_required, customer_or_key_required


@bp.patch("/customers/<user_id>/set_contact_details")
@bp.patch("/customers/<user_id>/set_contact_details/")
@customer_or_key_required
def set_contact_details(user_id: str):
    customer = customers.get_by_user_id(g.merchant.id, user_id)
    if customer is None or g.customer_id not in (None, customer.id):
        raise NotFound()
    try:
        body = wire.loads(request.get_data(), max_depth=4, label="The body")
    except wire.WireError as exc:
        raise ValidationError(str(exc), fields={"non_field_errors": str(exc)}) from None
    with sqlite_writer_lock():
        contact_details.set_contact_details(g.merchant.public_id, customer, body, actor=g.actor)
    return jsonify({"phone_number": customer.phone_number, "email": customer.email})


@bp.post("/customer/update_payment_default")
@bp.post("/customer/update_payment_default/")
def update_payment_default():
    """The legacy default-payment update (contracts §7.2): authenticated inside its body,
    answered in plain text (``services.payment_updates``)."""
    with sqlite_writer_lock():
        answer = payment_updates.update(request.get_data())
    return answer.text, answer.status, {"Content-Type": "text/plain; charset=utf-8"}


# -- addresses and payment methods (contracts §7.2's REST alternatives, §4.3) ------------------


def json_body() -> dict:
    try:
        body = wire.loads(request.get_data() or b"{}", max_depth=4, label="The body")
    except wire.WireError as exc:
        raise ValidationError(str(exc), fields={"non_field_errors": str(exc)}) from None
    if not isinstance(body, dict):
        raise ValidationError(
            "The body must be a JSON object.",
            fields={"non_field_errors": "The body must be a JSON object."},
        )
    return body


@bp.post("/addresses/create/")
@customer_or_key_required
def address_create():
    body = json_body()
    customer = scope.customer(g.merchant.id, g.customer_id, body.get("customer"))
    with sqlite_writer_lock():
        address = addresses.create(g.merchant.id, customer.id, body, actor=g.actor)
    return jsonify(customers.address_dict(address)), 201


@bp.patch("/addresses/<public_id>/update/")
@customer_or_key_required
def address_update(public_id: str):
    body = json_body()
    with sqlite_writer_lock():
        address = addresses.update(g.merchant.id, g.customer_id, public_id, body, actor=g.actor)
    return jsonify(customers.address_dict(address))


@bp.post("/payments/create/")
@customer_or_key_required
def payment_create():
    body = json_body()
    customer = scope.customer(g.merchant.id, g.customer_id, body.get("customer"))
    with sqlite_writer_lock():
        payment = payment_methods.create(g.merchant, customer, body, actor=g.actor)
    return jsonify(customers.payment_dict(payment)), 201


@bp.patch("/payments/<public_id>/update/")
@customer_or_key_required
def payment_update(public_id: str):
    body = json_body()
    with sqlite_writer_lock():
        payment = payment_methods.update(g.merchant, g.customer_id, public_id, body, actor=g.actor)
    return jsonify(customers.payment_dict(payment))


# -- customers (contracts §7.3) ----------------------------------------------------------------


@bp.get("/customers/")
@customer_or_key_required
def customer_list():
    """The merchant's customers, oldest first (the Storefront scope: its own); filters
    ``updated_start`` and ``updated_end``; pages as ``paging`` says."""
    result = customer_records.page(
        g.merchant.id,
        customer_id=g.customer_id,
        request=paging.page_request(),
        updated_start=params.moment("updated_start"),
        updated_end=params.moment("updated_end"),
    )
    return jsonify(paging.body("api.customer_list", result, customers.customer_dict))


@bp.post("/customers/create/")
@api_key_required
def customer_create():
    body = json_body()
    with sqlite_writer_lock():
        customer = customer_records.create(g.merchant.id, body, actor=g.actor)
    return jsonify(customers.customer_dict(customer)), 201


@bp.patch("/customers/<user_id>/update")
@bp.patch("/customers/<user_id>/update/")
@customer_or_key_required
def customer_update(user_id: str):
    customer = customers.get_by_user_id(g.merchant.id, user_id)
    if customer is None or g.customer_id not in (None, customer.id):
        raise NotFound()
    body = json_body()
    with sqlite_writer_lock():
        customer_records.update(customer, body, actor=g.actor)
    return jsonify(customers.customer_dict(customer))
