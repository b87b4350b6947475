"""``GET /products/`` and ``GET /products/<product_id>/`` (Application scope)."""

from __future__ import annotations

from flask import g, jsonify, request, url_for

from app.services import products
from app.views import params
from app.views.api import bp
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
    result = products.page(
        g.merchant.id, filters, cursor=request.args.get("cursor") or None, size=params.page_size()
    )
    return jsonify(
        {
            "next": _link(result.next_cursor),
            "previous": _link(result.previous_cursor),
            "results": [products.to_dict(p) for p in result.items],
        }
    )


def _link(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return url_for("api.product_list", cursor=cursor, _external=True, **params.others("cursor"))


@bp.get("/products/<path:product_id>/")
@api_key_required
def product_detail(product_id: str):
    return jsonify(products.to_dict(products.get(g.merchant.id, product_id)))
