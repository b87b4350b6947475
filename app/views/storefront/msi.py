"""The subscriber dashboard's routes (Subscription Manager, contracts §4): ``msi.js``, the
dashboard fragment and its actions.

The subscriber is proven on every request by the ``og_auth`` value the store set (contracts
§4.2: ``user_id|ts|sig``, raw or URL-encoded, signed with the merchant's hash key, two hours
fresh) that msi.js sends in the ``X-OG-Auth`` header, or by the §0.2 JSON header there. A
missing, expired, tampered or another merchant's value gets the "please sign in again" state
(403), never data. Actions are POSTs from the merchant's registered origins only; each calls
the subscriber action service the REST API calls (``msi_actions``) and answers the whole
dashboard again with the outcome beside the object it was about: a confirmation
(``role=status``) or the service's refusal (``role=alert``, with a 4xx status msi.js swaps
in all the same), which carries what was typed and each refused field, for the forms that
give them back (the new address).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import abort, g, render_template, request

from app.services import dashboard, merchants
from app.services.dashboard_settings import settings
from app.services.errors import DomainError, NotFound, ValidationError
from app.views.api.auth import storefront_scope
from app.views.storefront import allowed_shop, bp, fragment, loader_response
from app.views.storefront.msi_actions import ACTIONS, Call

AUTH_HEADER = "X-OG-Auth"
AUTH_PAGE = b'"%%OG_AUTH_PAGE%%"'  # msi.js's placeholder for the merchant's auth page URL
REFUSED = {ValidationError: 422, NotFound: 404}
TYPED = 400  # characters of each refused field given back to its form (longer than any allows)


@bp.get("/<merchant_id>/msi.js")
def msi_loader():
    url = ""
    if g.shop is not None:
        merchant = merchants.get_by_public_id(g.shop.public_id)
        url = _web_url(merchant.auth_page_url if merchant else None)
    return loader_response("msi.js", {AUTH_PAGE: json.dumps(url).encode()})


@bp.get("/<merchant_id>/msi/")
def msi_dashboard():
    shop = allowed_shop()
    if not _signed_in(shop.public_id):
        return _signed_out()
    return _render(dashboard.build(g.merchant, g.customer_id))


@bp.post(f"/<merchant_id>/msi/<any({', '.join(ACTIONS)}):action>")
def msi_action(action: str):
    shop = allowed_shop()
    if request.headers.get("Origin") not in shop.allowed_origins:
        abort(403, "Dashboard actions come from the store's own pages only.")
    if not _signed_in(shop.public_id):
        return _signed_out()
    chosen = ACTIONS[action]
    key = request.form.get(chosen.key, "")[:64]
    status = 200
    try:
        if chosen.setting and not getattr(settings(g.merchant), chosen.setting):
            raise ValidationError("The store does not offer this.")
        text = chosen.run(Call(g.merchant.id, g.customer_id, request.form, g.actor))
        notice = dashboard.Notice(key, text, action=action)
    except DomainError as exc:
        status = REFUSED.get(type(exc), exc.status if exc.status != 400 else 422)
        notice = dashboard.Notice(
            key,
            exc.message or "That could not be done.",
            error=True,
            action=action,
            fields={k: str(v)[:200] for k, v in exc.fields.items()},
            typed={k: v[:TYPED] for k, v in request.form.items()},
        )
    board = dashboard.build(g.merchant, g.customer_id, notice=notice)
    response = _render(board)
    response.status_code = status
    return response


def _signed_in(merchant_public_id: str) -> bool:
    """Whether the request proves a subscriber of this merchant (sets ``g.merchant``,
    ``g.customer_id`` and ``g.actor``)."""
    value = request.headers.get(AUTH_HEADER, "")
    if not value or len(value) > 4096:
        return False
    return storefront_scope(value, merchant_public_id) and (
        g.merchant.public_id == merchant_public_id
    )


def _signed_out():
    response = fragment(render_template("dashboard/_signed_out.html"))
    response.status_code = 403
    return response


def _render(board: dashboard.Dashboard):
    base = request.host_url.rstrip("/") + f"/{g.merchant.public_id}/msi/"
    return fragment(render_template("dashboard/_dashboard.html", d=board, action=base))


def _web_url(value: str | None) -> str:
    """The auth page URL if it is an http(s) URL, else ""."""
    if not value:
        return ""
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.netloc else ""
