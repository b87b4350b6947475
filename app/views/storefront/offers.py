"""The offers' routes: the loader script, offer fragments and opt-ins, and the cart view."""

from __future__ import annotations

from flask import g, jsonify, render_template, request
from jinja2.utils import htmlsafe_json_dumps

from app.domain import frequency as frequencies
from app.services import offer_views, offers, opt_ins, shopper_sessions, shops
from app.services.errors import ValidationError
from app.views.storefront import allowed_shop, bp, fragment, loader_response, upsell


@bp.get("/<merchant_id>/main.js")
def loader():
    return loader_response("main.js")


@bp.get("/<merchant_id>/offers/")
def offers_batch():
    shop = allowed_shop()
    args = request.args
    keys, products = args.getlist("k"), args.getlist("p")
    locations, defaults, types = args.getlist("l"), args.getlist("d"), args.getlist("t")
    if not (len(keys) == len(products) == len(locations) == len(defaults) == len(types)):
        raise ValidationError("Each offer needs k, p, l, d and t parameters.")
    slots = [
        _slot(*fields) for fields in zip(keys, products, locations, defaults, types, strict=True)
    ]
    session_id = args.get("session", "")
    customer_id = upsell.subscriber(shop, slots)  # None unless signed in, upsell on
    action = _action_url()
    html, context = offer_views.fragments(
        shop,
        session_id,
        slots,
        lambda view: render_template("storefront/_offer.html", v=view, action=action),
        variant=action,
    )
    if customer_id is not None:
        upsold = upsell.upsell_html(context, customer_id, slots)
        html = [upsold.get(slot.key, inner) for slot, inner in zip(slots, html, strict=True)]
    state = [
        {"id": o.product_id, "frequency": o.frequency, "offer": o.offer_id}
        for o in context.optins.values()
    ]
    parts = [f"<div hidden data-og-optins='{htmlsafe_json_dumps(state, sort_keys=True)}'></div>"]
    parts += [
        f'<div data-og-slot="{slot.key}">{inner}</div>'  # keys are [A-Za-z0-9_-]
        for slot, inner in zip(slots, html, strict=True)
    ]
    return fragment("\n".join(parts))


@bp.post("/<merchant_id>/offers/choose")
def offers_choose():
    shop = allowed_shop()
    form = request.form
    slot = _slot(
        form.get("og_key", ""),
        form.get("og_product", ""),
        form.get("og_location", ""),
        form.get("og_default", ""),
        form.get("og_type", ""),
    )
    choice = form.get("og_choice")
    if choice is not None:  # the select-type offer: "" buys once, a frequency subscribes
        subscribed, frequency = bool(choice), choice or None
    else:
        subscribed = form.get("og_subscribed") == "1"
        frequency = form.get("og_frequency") or None
    view = opt_ins.choose(
        shop, form.get("og_session", ""), slot, subscribed=subscribed, frequency=frequency
    )
    html = render_template("storefront/_offer.html", v=view, action=_action_url()) if view else ""
    return fragment(html)


@bp.post("/<merchant_id>/optins/clear")
def optins_clear():
    shop = allowed_shop()
    cleared = opt_ins.clear(shop, request.form.get("session", ""))
    return jsonify({"cleared": cleared})


@bp.get("/<merchant_id>/optins/")
def optins_list():
    shop = allowed_shop()
    session_id = shopper_sessions.check_session(shop, request.args.get("session", ""))
    return jsonify(
        opt_ins.tracking(session_id, shopper_sessions.tracked(shop.id, session_id).values())
    )


@bp.get("/carts/<session_id>/")
def cart(session_id: str):
    """The session's opted-in items (contracts §2.3); the session id names the merchant."""
    g.shop = shops.shop_for(shopper_sessions.session_merchant(session_id) or "")
    return jsonify(opt_ins.cart(allowed_shop(), session_id))


def _slot(key: str, product: str, location: str, default: str, offer_type: str) -> offer_views.Slot:
    if not offer_views.KEY_RE.fullmatch(key):
        raise ValidationError("Each offer needs a key of letters, digits, '_' or '-'.")
    if not product or len(product) > 64:
        raise ValidationError("Each offer needs a product id of at most 64 characters.")
    location = location or "pdp"
    if not offers.LOCATION_RE.fullmatch(location):
        raise ValidationError("A location is letters, digits, '.', '_' or '-', at most 40.")
    default = default if frequencies.CODE_RE.fullmatch(default or "") else None
    offer_type = offer_type if offer_type in ("radio", "toggle", "select") else None
    return offer_views.Slot(
        key=key,
        product_id=product,
        location=location,
        default_frequency=default,
        offer_type=offer_type,
    )


def _action_url() -> str:
    return request.host_url.rstrip("/") + f"/{g.shop.public_id}/offers/choose"
