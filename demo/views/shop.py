"""Browsing: the catalog grid, product pages and their generated images."""

from flask import Blueprint, abort, render_template

from demo import catalog

bp = Blueprint("shop", __name__)


@bp.get("/")
def index():
    return render_template("shop/index.html", categories=catalog.by_category())


@bp.get("/products/<product_id>")
def product(product_id: str):
    item = catalog.get(product_id) or abort(404)
    replacement = catalog.get(item.replacement_id) if item.replacement_id else None
    related = [
        p
        for p in catalog.listed()
        if p.category == item.category and p.product_id != item.product_id
    ][:3]
    return render_template(
        "shop/product.html", product=item, replacement=replacement, related=related
    )


@bp.get("/img/products/<product_id>.svg")
def image(product_id: str):
    item = catalog.get(product_id) or abort(404)
    svg = render_template("shop/product.svg", product=item)
    return svg, 200, {"Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=3600"}


@bp.get("/healthz")
def healthz():
    return "ok", 200, {"Content-Type": "text/plain"}
