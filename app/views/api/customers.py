"""Customer update APIs (contracts §7): Set Contact Details (§7.1, T9) and the legacy default
payment update (§7.2).

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
from app.services import contact_details, customers, payment_updates
from app.services.errors import NotFound, ValidationError
from app.views.api import bp
from app.views.api.auth import customer_or_key_required


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
        contact_details.set_contact_details(
            g.merchant.id, g.merchant.public_id, customer, body, actor=g.actor
        )
    return jsonify({"phone_number": customer.phone_number, "email": customer.email})


@bp.post("/customer/update_payment_default")
@bp.post("/customer/update_payment_default/")
def update_payment_default():
    """The legacy default-payment update (contracts §7.2): authenticated inside its body,
    answered in plain text (``services.payment_updates``)."""
    with sqlite_writer_lock():
        answer = payment_updates.update(request.get_data())
    return answer.text, answer.status, {"Content-Type": "text/plain; charset=utf-8"}
