"""``GET /products/`` and ``GET /products/<product_id>/`` (Application scope)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g, jsonify, request, url_for

from app.services import products
from app.services.errors import ValidationError
from app.views.api import bp
from app.views.api.auth import api_key_required

TRUE, FALSE = ("1", "true", "True", "yes"), ("0", "false", "False", "no")


def _flag(name: str) -> bool | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValidationError(name, fields={name: "Use true or false."})


def _when(name: str) -> datetime | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(name, fields={name: "Use an ISO 8601 date or datetime."}) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _page_size() -> int:
    raw = request.args.get("page_size", "10")
    if not raw.isdigit() or not 1 <= int(raw) <= products.MAX_PAGE_SIZE:
        raise ValidationError("page_size", fields={"page_size": "Use a number from 1 to 100."})
    return int(raw)


@bp.get("/products/")
@api_key_required
def product_list():
    filters = {name: _flag(name) for name in products.FLAG_FILTERS}
    filters.update(search=request.args.get("search"), updated_start=_when("updated_start"),
                   updated_end=_when("updated_end"))
    result = products.page(g.merchant.id, filters, cursor=request.args.get("cursor"),
                           size=_page_size())
    return jsonify({
        "next": _link(result.next_cursor),
        "previous": _link(result.previous_cursor),
        "results": [products.to_dict(p) for p in result.items],
    })


def _link(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    return url_for("api.product_list", cursor=cursor, _external=True, **args)


@bp.get("/products/<path:product_id>/")
@api_key_required
def product_detail(product_id: str):
    return jsonify(products.to_dict(products.get(g.merchant.id, product_id)))
