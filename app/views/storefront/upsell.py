"""Instant upsell on the storefront (contracts §2.1): the signed-in shopper's variant of an
offer, and its one-click add.

main.js sends the store's ``og_auth`` cookie value (raw or URL-encoded, as the store set it)
in the ``X-OG-Auth`` header, with the offers request and with an upsell's click. Only a value
that verifies for this merchant (``api.auth.storefront_scope``) names a customer; without one
(or with an expired, tampered or other merchant's value) the shopper sees the standard offer.
The header is read only where the merchant switched upsell on, so the anonymous path pays
nothing for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import g, render_template, request

from app.services import instant_upsell, offer_views, offers
from app.services.errors import DomainError, ValidationError
from app.views.api.auth import storefront_scope
from app.views.storefront import allowed_shop, bp, fragment

SIGN_IN_AGAIN = "Please sign in again to add this to your order."


def subscriber(shop, slots: Sequence[offer_views.Slot] = ()) -> int | None:
    """The signed-in customer's id by ``X-OG-Auth``, or None: no header, upsell off at every
    location of ``slots`` (when given), or a value that is not this merchant's customer's."""
    value = request.headers.get("X-OG-Auth")
    if not value or not shop.upsell_locations:
        return None
    if slots and not any(slot.location in shop.upsell_locations for slot in slots):
        return None
    if not storefront_scope(value, shop.public_id) or g.merchant.id != shop.id:
        return None
    return g.customer_id if g.customer_id > 0 else None


def upsell_html(
    context: offer_views.Context, customer_id: int, slots: Sequence[offer_views.Slot]
) -> dict[str, str]:
    """The upsell variant of the slots that get one, rendered, by slot key (never cached)."""
    action = request.host_url.rstrip("/") + f"/{context.shop.public_id}/offers/upsell"
    return {
        key: render_template("storefront/_upsell.html", u=view, action=action)
        for key, view in instant_upsell.views(context, customer_id, slots).items()
    }


@bp.post("/<merchant_id>/offers/upsell")
def offers_upsell():
    """One click of an upsell: add the product to the order once or as a subscription, and
    answer the offer confirmed in place (or with the reason it was not added)."""
    shop = allowed_shop()
    form = request.form
    key, location = form.get("og_key", ""), form.get("og_location", "") or "pdp"
    if not offer_views.KEY_RE.fullmatch(key) or not offers.LOCATION_RE.fullmatch(location):
        raise ValidationError("An upsell needs its offer's key and location.")
    context = {"key": key, "product": form.get("og_product", "")}
    customer_id = subscriber(shop)
    if customer_id is None:
        return _answer(context, SIGN_IN_AGAIN, 403)
    if location not in shop.upsell_locations:
        return _answer(context, "This offer cannot add to your order here.", 400)
    offer = shop.offer_for(location)
    try:  # refusals are said in place, where the shopper clicked
        result = instant_upsell.add(
            shop.id,
            customer_id,
            form.get("og_order"),
            form.get("og_product"),
            form.get("og_kind"),
            form.get("og_frequency"),
            offer=offer.public_id if offer else None,
            actor=g.actor,
        )
    except DomainError as exc:
        return _answer(context, exc.message, exc.status)
    return _answer({**context, "done": instant_upsell.added(result)})


def _answer(context: dict, message: str = "", status: int = 200):
    html = render_template("storefront/_upsell_result.html", message=message, **context)
    return fragment(html), status
