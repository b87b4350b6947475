"""API authentication (contracts §8.2).

* Application scope: ``x-api-key`` loads the key's merchant; the whole merchant is in reach.
* The purchase POST and ``/order/verify`` (``signed_or_key_required``): ``x-api-key``, or the
  signed JSON ``Authorization`` header of §0.2 with any customer as ``sig_field`` (the store's
  server signs for the merchant): the whole merchant in reach. No credentials: 401.
* Storefront scope: the signed JSON ``Authorization`` header of §0.2 (``public_id`` the
  merchant, ``sig_field`` the customer's merchant user id), or an ``og_auth`` value
  (``user_id|ts|sig``, raw or URL-encoded) with the merchant given by the URL or by
  ``X-OG-Merchant``. Both are signed with the merchant's hash key over the user id and are
  fresh for two hours. Only that one customer's objects are in reach: ``g.customer_id`` is
  set (-1 for a signed-in shopper Perennial has no record of, who owns nothing).
"""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import g, jsonify, request

from app.extensions import db
from app.integrations import signing
from app.models import Merchant
from app.models.types import utcnow
from app.services import api_keys, customers, events, merchants

AUTH_FAILED = {"detail": "Authentication Failed"}
NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
TOUCH_EVERY = timedelta(minutes=1)


def forbidden():
    return jsonify(AUTH_FAILED), 403


def api_key_required(view):
    """Application scope only (``x-api-key``); 403 otherwise."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not _key_scope():
            return forbidden()
        return view(*args, **kwargs)

    return wrapped


def _key_scope(actor: str = "api", source: str | None = None, *, touch: bool = True) -> bool:
    """Load the ``x-api-key``'s merchant; its events' actor is ``actor`` with ``source`` (else
    the caller's address). ``touch``: note when the key was last used."""
    key = api_keys.authenticate(request.headers.get("x-api-key"))
    if key is None:
        return False
    g.api_key = key
    g.merchant = db.session.get(Merchant, key.merchant_id)
    g.customer_id = None
    g.actor = events.Actor(actor, key.prefix, source or request.remote_addr)
    now = utcnow()
    if touch and (key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY):
        key.last_used_at = now  # coarse, so a busy key costs one write a minute
        db.session.commit()
    return True


def signed_or_key_required(source: str):
    """``x-api-key`` or the merchant's signed ``Authorization`` header, the whole merchant in
    reach (see the module docstring); 401 without credentials, 403 with bad ones. ``source``
    names the endpoint in the events' actor."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if request.headers.get("x-api-key"):
                # No write here: the purchase POST takes SQLite's writer lock itself.
                ok = _key_scope("api_key", source, touch=False)
            elif not request.headers.get("Authorization"):
                return jsonify(NO_CREDENTIALS), 401
            else:
                ok = _signature_scope(request.headers["Authorization"], source)
            if not ok:
                return forbidden()
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _signature_scope(header: str, source: str) -> bool:
    try:
        parsed = signing.parse_auth_header(header)
        merchant = merchants.get_by_public_id(parsed.public_id)
        if merchant is None:
            return False
        signing.verify_auth_header(header, public_id=merchant.public_id, hash_key=merchant.hash_key)
    except signing.SignatureError:
        return False
    g.merchant = merchant
    g.customer_id = None
    g.actor = events.Actor("signature", parsed.sig_field[:64], source)
    return True


def storefront_scope(value: str | None, merchant_public_id: str | None) -> bool:
    """Verify a Storefront credential (see the module docstring); set ``g.merchant``,
    ``g.customer_id`` and ``g.actor`` and return True, or return False."""
    value = (value or "").strip()
    try:
        if value.startswith("{"):
            header = signing.parse_auth_header(value)
            merchant = merchants.get_by_public_id(header.public_id)
            if merchant is None:
                return False
            signing.verify_auth_header(
                value, public_id=merchant.public_id, hash_key=merchant.hash_key
            )
            user_id = header.sig_field
        else:
            merchant = merchants.get_by_public_id(merchant_public_id or "")
            if merchant is None or not value:
                return False
            user_id = signing.verify_og_auth(merchant.hash_key, value)
    except signing.SignatureError:
        return False
    customer = customers.get_by_user_id(merchant.id, user_id)
    g.merchant = merchant
    g.customer = customer  # held for the request: the session keeps the row, not a weak copy
    g.customer_id = customer.id if customer is not None else -1
    g.actor = events.Actor("subscriber", user_id, request.remote_addr)
    return True


def customer_or_key_required(view):
    """Application or Storefront scope (see the module docstring); 403 otherwise."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if request.headers.get("x-api-key"):
            ok = _key_scope()
        else:
            ok = storefront_scope(
                request.headers.get("Authorization"), request.headers.get("X-OG-Merchant")
            )
        if not ok:
            return forbidden()
        return view(*args, **kwargs)

    return wrapped
