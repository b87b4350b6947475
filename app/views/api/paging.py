"""List responses in the two modes of contracts §8.3 (``services.pagination``).

* Cursor mode, when the request sends ``X-OG-API-VERSION: 2`` or a ``cursor``:
  ``{"next", "previous", "results"}``, the links carrying the cursor.
* Page mode otherwise (Ordergroove's older default): ``?page=N`` (from 1) and
  ``{"count", "next", "previous", "results"}``, the links carrying the page number.

Both take ``page_size`` (1 to 100, default 10) and keep the request's other parameters in their
links, built from the scheme and host the request arrived with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request, url_for

from app.integrations import wire
from app.services import pagination
from app.views import params


def page_request() -> pagination.PageRequest:
    size = params.page_size()
    cursor = request.args.get("cursor") or None
    if cursor is not None or request.headers.get("X-OG-API-VERSION", "").strip() == "2":
        return pagination.PageRequest(size=size, cursor=cursor)
    return pagination.PageRequest(
        size=size, page=params.integer("page", default=1, low=1, high=wire.DB_INT_MAX)
    )


def body(endpoint: str, page: pagination.Page, dump: Callable[[Any], Any], **values: Any) -> dict:
    """The list's JSON: the page's ``results`` (each through ``dump``) and its links to
    ``endpoint`` (``values``: the URL's own path values)."""
    results = [dump(item) for item in page.items]
    if not page.numbered:
        return {
            "next": _link(endpoint, values, "cursor", page.next_cursor),
            "previous": _link(endpoint, values, "cursor", page.previous_cursor),
            "results": results,
        }
    number = page.number or 1
    return {
        "count": page.count,
        "next": _link(endpoint, values, "page", number + 1 if page.has_next else None),
        "previous": _link(endpoint, values, "page", number - 1 if number > 1 else None),
        "results": results,
    }


def _link(endpoint: str, values: dict, name: str, value: Any) -> str | None:
    if value is None:
        return None
    keep = params.others("cursor", "page")
    return url_for(endpoint, **values, **keep, **{name: value}, _external=True)
