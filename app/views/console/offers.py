"""Offers per page location: type, copy, frequencies, advertised incentives; a live preview."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app.services import incentives, offer_views, offers
from app.services.errors import ValidationError
from app.views import htmx
from app.views.console.auth import actor, login_required

bp = Blueprint("offers", __name__, url_prefix="/offers")

FIELDS = (
    "offer_type",
    "optin_label",
    "optout_label",
    "every_label",
    "tooltip_trigger",
    "tooltip",
    "frequencies",
    "default_frequency",
    "show_tooltip",
    "active",
)
TYPE_LABELS = {"radio": "Radio buttons", "toggle": "Toggle (checkbox)", "select": "Drop-down"}
SUGGESTED = ("pdp", "cart", "or", "qv", "confirmation")


@bp.get("/")
@login_required
def index():
    existing = offers.list_for(g.merchant.id)
    taken = {o.location for o in existing}
    return htmx.render(
        "console/offers/index.html",
        offers=existing,
        suggested=[s for s in SUGGESTED if s not in taken],
        types=TYPE_LABELS,
    )


@bp.get("/<location>")
@login_required
def detail(location: str):
    offer = _existing(location)
    return _page(location, offer, _form(offer), {})


@bp.post("/<location>")
@login_required
def update(location: str):
    data = _posted()
    try:
        offers.save(g.merchant.id, location, data, actor=actor())
    except ValidationError as exc:
        flash(exc.message, "error")
        return _page(location, _existing(location), data, exc.fields, status=400)
    flash(f"Offer for “{location}” saved.", "success")
    return redirect(url_for("console.offers.detail", location=location))


@bp.post("/<location>/preview")
@login_required
def preview(location: str):
    data = _posted()
    preview, errors = offer_views.preview(g.merchant, data, request.form.get("preview_product", ""))
    return htmx.render(
        "console/offers/_preview.html", preview=preview, errors=errors, location=location
    )


def _existing(location: str):
    if not offers.LOCATION_RE.fullmatch(location):
        return None
    return next((o for o in offers.list_for(g.merchant.id) if o.location == location), None)


def _posted() -> dict:
    data = {key: request.form.get(key, "") for key in FIELDS}
    data["incentive_ids"] = request.form.getlist("incentive_ids")
    return data


def _form(offer) -> dict:
    if offer is None:
        offer = offers.default(g.merchant.id)
        form = _form(offer)
        return {**form, "active": "on"}
    form = {key: getattr(offer, key) for key in FIELDS}
    form["frequencies"] = " ".join(offer.frequencies or [])
    form["show_tooltip"] = "on" if offer.show_tooltip else ""
    form["active"] = "on" if offer.active else ""
    form["incentive_ids"] = offer.incentive_ids if offer.incentive_ids is not None else ["all"]
    return form


def _page(location: str, offer, form: dict, errors: dict, status: int = 200):
    products = offer_views.preview_products(g.merchant.id)
    preview, _ = offer_views.preview(g.merchant, form, products[0].product_id if products else "")
    return htmx.render(
        "console/offers/form.html",
        status=status,
        location=location,
        offer=offer,
        form=form,
        errors=errors,
        types=TYPE_LABELS,
        incentives=incentives.list_for(g.merchant.id),
        products=products,
        preview=preview,
        preview_errors={},
    )
