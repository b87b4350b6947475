"""API authentication: Application scope (``x-api-key``) loads the key's merchant."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import g, jsonify, request

from app.extensions import db
from app.models import Merchant
from app.models.types import utcnow
from app.services import api_keys

AUTH_FAILED = {"detail": "Authentication Failed"}
TOUCH_EVERY = timedelta(minutes=1)


def forbidden():
    return jsonify(AUTH_FAILED), 403


def api_key_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        key = api_keys.authenticate(request.headers.get("x-api-key"))
        if key is None:
            return forbidden()
        g.api_key = key
        g.merchant = db.session.get(Merchant, key.merchant_id)
        now = utcnow()
        if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
            key.last_used_at = now  # coarse, so a busy key costs one write a minute
            db.session.commit()
        return view(*args, **kwargs)

    return wrapped
