"""``GET /products/`` and ``GET /products/<product_id>/`` (Application scope)."""

from __future__ import annotations

from flask import g, jsonify

from app.services import products
from app.views import params
from app.views.api import bp, paging
from app.views.api.auth import api_key_required


@bp.get("/products/")
@api_key_required
def product_list():
    filters = {name: params.flag(name) for name in products.FLAG_FILTERS}
    filters.update(
        search=params.text("search"),
        updated_start=params.moment("updated_start"),
        updated_end=params.moment("updated_end"),
    )
    result = products.page(g.merchant.id, filters, paging.page_request())
    return jsonify(paging.body("api.product_list", result, products.to_dict))


@bp.get("/products/<path:product_id>/")
@api_key_required
def product_detail(product_id: str):
    return jsonify(products.to_dict(products.get(g.merchant.id, product_id)))
