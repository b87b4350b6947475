"""The purchase POST (contracts §5): create, status, and the verification hold.

Authentication (``auth.signed_or_key_required``) is the ``x-api-key`` header or the signed JSON
``Authorization`` header (contracts §0.2; the signed ``sig_field`` is the customer's id).
No credentials: 401. Wrong credentials, or a body for another merchant: 403.
"""

from __future__ import annotations

from flask import current_app, g, jsonify, request
from sqlalchemy.exc import OperationalError

from app.extensions import db, sqlite_writer_lock
from app.integrations import signing
from app.models import Merchant
from app.services import events, merchants, purchases
from app.views.api import bp
from app.views.api.auth import AUTH_FAILED, api_key_required, signed_or_key_required


@bp.post("/subscription/create")
@bp.post("/subscription/create/")
@signed_or_key_required("purchase_post")
def subscription_create():
    with sqlite_writer_lock():
        return _create(g.merchant, g.actor)


def _create(merchant: Merchant, actor: events.Actor):
    try:
        payload = purchases.parse_body(request.get_data())
        named = purchases.check_merchant_field(payload)
        if named != merchant.public_id:
            if merchants.get_by_public_id(named) is None:
                return jsonify({"error": f"Invalid Merchant {named[:64]}"}), 400
            return jsonify(AUTH_FAILED), 403
        status, body = purchases.receive(merchant, payload, actor=actor)
    except purchases.Refused as exc:
        return jsonify(exc.body), exc.status
    except OperationalError:  # the database is busy or away: nothing was written, send again
        db.session.rollback()
        current_app.logger.exception("purchase POST could not reach the database")
        return jsonify({"error_message": "Temporarily unavailable; please retry."}), 503
    finally:
        db.session.close()  # end the transaction before the next request gets the lock
    return jsonify(body), status


@bp.get("/subscription/<subs_req_id>/response")
@bp.get("/subscription/<subs_req_id>/response/")
@api_key_required
def subscription_response(subs_req_id: str):
    status, body = purchases.status_of(g.merchant, subs_req_id)
    return jsonify(body), status


@bp.route("/subscription/verify/", methods=["GET", "POST"])
@bp.route("/subscription/verify", methods=["GET", "POST"])
def subscription_verify():
    """Release or decline a held request; signed with ``order_id|ts`` (contracts §5.5)."""
    args = request.values
    merchant_id = args.get("merchant_id")
    if not merchant_id:
        return _text("Merchant ID must be string", 400)
    merchant = merchants.get_by_public_id(merchant_id)
    if merchant is None:
        return _text(f"Invalid Merchant {merchant_id[:64]}", 400)
    order_id = args.get("order_id", "")
    if not order_id:
        return _text("order id is required", 400)
    try:
        signing.verify_signature(
            merchant.hash_key, order_id, args.get("ts", ""), args.get("sig", "")
        )
    except signing.SignatureError:
        return _text("Authentication failed", 400)
    actor = events.Actor("signature", "verify", "purchase_post")
    try:
        return _text(purchases.verify(merchant, order_id, args.get("action", ""), actor=actor), 200)
    except purchases.Refused as exc:
        return _text(exc.body.get("error_message", "Invalid action"), exc.status)


def _text(message: str, status: int):
    return message, status, {"Content-Type": "text/plain; charset=utf-8"}
