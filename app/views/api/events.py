"""``GET /events/`` (Application scope): the merchant's event log (``services.event_log``)."""

from __future__ import annotations

from flask import g, jsonify, request

from app.services import customers, event_log
from app.views import params
from app.views.api import bp, paging
from app.views.api.auth import api_key_required


@bp.get("/events/")
@api_key_required
def event_list():
    """Filters ``type`` (``order.*|subscription.cancel``), ``object_type``, ``object_id``,
    ``customer`` (merchant user id), ``created_start`` and ``created_end``."""
    customer_id = None
    user_id = request.args.get("customer")
    if user_id is not None:
        customer = customers.get_by_user_id(g.merchant.id, user_id)
        customer_id = customer.id if customer else -1  # an unknown customer has none
    result = event_log.page(
        g.merchant.id,
        request=paging.page_request(),
        types=params.text("type", limit=500) or None,
        object_type=params.text("object_type", limit=32) or None,
        object_id=params.text("object_id", limit=64) or None,
        customer_id=customer_id,
        created_start=params.moment("created_start"),
        created_end=params.moment("created_end"),
    )
    return jsonify(paging.body("api.event_list", result, event_log.event_dict))
