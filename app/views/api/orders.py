"""``POST /order/verify`` (contracts §6.4): the store confirms orders it answered with 010.

Authenticated like the purchase POST (``auth.signed_or_key_required``): ``x-api-key``, or the
signed JSON ``Authorization`` header (any ``sig_field``). JSON in, JSON out; ``002`` (HTTP 400)
when the body is unusable.
"""

from __future__ import annotations

from flask import g, jsonify, request

from app.extensions import sqlite_writer_lock
from app.integrations import wire
from app.services import order_verify
from app.views.api import bp
from app.views.api.auth import signed_or_key_required


@bp.post("/order/verify")
@bp.post("/order/verify/")
@signed_or_key_required("order_verify")
def order_verify_post():
    merchant, actor = g.merchant, g.actor
    with sqlite_writer_lock():
        try:
            payload = wire.loads(request.get_data(), max_depth=4, label="The body")
            named = payload.get("merchant_id") if isinstance(payload, dict) else None
            if named not in (None, merchant.public_id):
                raise order_verify.Fatal("merchant_id is not the authenticated merchant")
            return jsonify(order_verify.verify(merchant, payload, actor=actor))
        except (wire.WireError, order_verify.Fatal) as exc:
            return jsonify({"status": "002", "error_object": {"message": str(exc)}}), 400
