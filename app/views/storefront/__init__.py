"""The storefront: every route a merchant's pages call, and their shared plumbing.

These routes are called from the merchant's pages (another origin), so they answer CORS only
for the merchant's registered origins, refuse writes from any other origin, and never use
cookies: the shopper's ``og_session_id`` travels as a parameter, a signed-in shopper's
``og_auth`` value in the ``X-OG-Auth`` header. The blueprint does this for every route module
registered on it (``offers``: ``main.js``, offer fragments, opt-ins and the cart view;
``upsell``: the signed-in shopper's instant upsell; ``msi``: ``msi.js`` and the subscriber
dashboard); a route module reads the URL's merchant with ``allowed_shop()``, serves its loader
script with ``loader_response`` and its fragments with ``fragment``.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, current_app, g, request

from app import assets
from app.services import shops
from app.services.errors import NotFound

bp = Blueprint("storefront", __name__)

LOADER_MAX_AGE = 300  # merchants hard-code the URL; a short cache lets fixes reach them
EMPTY_SCRIPT = "/* Perennial: no such merchant. */\n"
CORS_HEADERS = (
    "Content-Type, HX-Request, HX-Current-URL, HX-Target, HX-Trigger, HX-Trigger-Name, X-OG-Auth"
)
# htmx reads these response headers; exposing them (we never send them) keeps the browser from
# logging "Refused to get unsafe header" on the host page for each response.
EXPOSED = (
    "HX-Trigger, HX-Trigger-After-Swap, HX-Trigger-After-Settle, HX-Location, HX-Refresh, "
    "HX-Redirect, HX-Push, HX-Push-Url, HX-Replace-Url, HX-Retarget, HX-Reswap, "
    "HX-Reselect"
)


@bp.url_value_preprocessor
def _merchant(endpoint, values):
    if values and "merchant_id" in values:
        g.shop = shops.shop_for(values.pop("merchant_id"))


@bp.after_request
def _cors(response: Response) -> Response:
    origin = request.headers.get("Origin")
    shop = g.get("shop")
    response.vary.add("Origin")
    if origin and shop is not None and origin in (shop.allowed_origins or []):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Access-Control-Expose-Headers"] = EXPOSED
    return response


def allowed_shop():
    """The merchant of the URL, for a request from one of its origins (or server-side)."""
    shop = g.get("shop")
    if shop is None:
        raise NotFound()
    origin = request.headers.get("Origin")
    if origin and origin not in (shop.allowed_origins or []):
        abort(403, f"Origin {origin} is not registered for this merchant.")
    return shop


def loader_response(script: str, settings: dict[bytes, bytes] | None = None) -> Response:
    """The loader ``script`` (one of ``assets.LOADERS``) for the URL's merchant, or an empty,
    harmless script when there is no such merchant. ``settings`` replaces placeholders of the
    built script with the merchant's values (its ETag follows them)."""
    if g.shop is None:
        response = Response(EMPTY_SCRIPT, mimetype="text/javascript")
        response.cache_control.public = True
        response.cache_control.max_age = LOADER_MAX_AGE
        return response
    body, etag = assets.storefront_loader(current_app, script)
    if settings:
        for placeholder, value in settings.items():
            body = body.replace(placeholder, value)
        etag = hashlib.sha256(etag.encode() + b"|" + b"|".join(settings.values())).hexdigest()[:20]
    response = Response(body, mimetype="text/javascript")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = LOADER_MAX_AGE
    return response.make_conditional(request)


def fragment(html: str) -> Response:
    response = Response(html, mimetype="text/html")
    response.cache_control.no_store = True
    return response


from app.views.storefront import msi, offers, upsell  # noqa: E402, F401  (routes register on bp)
