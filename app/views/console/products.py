"""The catalog: search and filter products; edit a product's eligibility overrides."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app.services import pagination, products
from app.services.errors import ValidationError
from app.views import htmx
from app.views.console.auth import actor, login_required

bp = Blueprint("products", __name__, url_prefix="/products")

FILTERS = {
    "": {},
    "eligible": {"eligible": True},
    "ineligible": {"eligible": False},
    "in_stock": {"in_stock": True},
    "out_of_stock": {"in_stock": False},
    "discontinued": {"discontinued": True},
    "not_in_feed": {"in_latest_feed": False},
}


def _list_ctx():
    show = request.args.get("show", "")
    filters = {**FILTERS.get(show, {}), "search": request.args.get("q", "")}
    result = products.page(
        g.merchant.id,
        filters,
        pagination.PageRequest(size=25, cursor=request.args.get("cursor") or None),
    )
    return {
        "result": result,
        "total": products.count(g.merchant.id, filters),
        "show": show,
        "q": request.args.get("q", ""),
        "filters": FILTERS,
    }


@bp.get("/")
@login_required
def index():
    return htmx.render(
        "console/products/index.html", fragment="console/products/_table.html", **_list_ctx()
    )


@bp.get("/<path:product_id>")
@login_required
def detail(product_id: str):
    product = products.get(g.merchant.id, product_id)
    return htmx.render(
        "console/products/detail.html",
        product=product,
        errors={},
        form=_form(product),
        data=products.to_dict(product),
    )


@bp.post("/<path:product_id>")
@login_required
def update(product_id: str):
    form = {
        k: request.form.get(k, "")
        for k in (
            "eligible_override",
            "allowed_frequencies",
            "default_frequency",
            "upsell_eligible",
        )
    }
    try:
        products.update_overrides(g.merchant.id, product_id, form, actor=actor())
    except ValidationError as exc:
        product = products.get(g.merchant.id, product_id)
        flash(exc.message, "error")
        return htmx.render(
            "console/products/detail.html",
            status=400,
            product=product,
            errors=exc.fields,
            form=form,
            data=products.to_dict(product),
        )
    flash("Product settings saved.", "success")
    return redirect(url_for("console.products.detail", product_id=product_id))


def _form(product) -> dict[str, str]:
    override = {None: "", True: "yes", False: "no"}[product.eligible_override]
    allowed = " ".join(
        f"{f['every']}_{f['every_period']}" for f in product.allowed_frequencies or []
    )
    default = (
        f"{product.default_every}_{product.default_every_period}" if product.default_every else ""
    )
    return {
        "eligible_override": override,
        "allowed_frequencies": allowed,
        "default_frequency": default,
        "upsell_eligible": "on" if product.upsell_eligible else "",
    }
