"""Pages over any query, in the two modes of the REST API (contracts §8.3).

* **Cursor** (``keyset``; the API's ``X-OG-API-VERSION: 2``): keyset pages with opaque
  cursors (``app.integrations.cursors``), no count.
* **Page numbers** (``numbered``; Ordergroove's older default): ``page`` N of ``size`` rows in
  key order, with the total ``count``. Rows added meanwhile shift later pages: the cursor mode
  is the one that never skips or repeats a row.

``paginate`` picks by the ``PageRequest``.

A page is the rows after (or before) a row's key in key order, so a page never skips or
repeats a row when others are added between two calls. Cursors are sealed per list and
merchant: one list's cursor is refused by another list or another merchant's same list.

The key is one unique column, or columns whose last one is unique (``(Order.place_date,
Order.id)``), read in ascending order or, with ``descending``, largest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from flask import current_app
from sqlalchemy import Date, Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from app.extensions import db
from app.integrations import cursors, wire
from app.services.errors import NotFound, ValidationError

T = TypeVar("T")
MAX_PAGE_SIZE = 100
Key = InstrumentedAttribute | tuple[InstrumentedAttribute, ...]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    previous_cursor: str | None
    # Page-number mode only: the total, this page's number, and whether others follow.
    count: int | None = None
    number: int | None = None
    has_next: bool = False

    @property
    def numbered(self) -> bool:
        return self.number is not None


@dataclass(frozen=True)
class PageRequest:
    """What a list request asks for: a cursor page (``page`` None), or page ``page``."""

    size: int = 10
    cursor: str | None = None
    page: int | None = None


def paginate(
    query: Select, key: Key, *, scope: str, request: PageRequest, descending: bool = False
) -> Page:
    """``keyset`` or ``numbered``, as ``request`` asks."""
    if request.page is None:
        return keyset(
            query,
            key,
            scope=scope,
            cursor=request.cursor,
            size=request.size,
            descending=descending,
        )
    return numbered(query, key, page=request.page, size=request.size, descending=descending)


def numbered(query: Select, key: Key, *, page: int, size: int, descending: bool = False) -> Page:
    """Page ``page`` (from 1) of ``size`` rows in ``key`` order, with the total count. A page
    past the last is NotFound ("Invalid page.", as Django REST framework answers)."""
    keys = key if isinstance(key, tuple) else (key,)
    size = max(1, min(size, MAX_PAGE_SIZE))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if page > 1 and (page - 1) * size >= total:
        raise NotFound("Invalid page.")
    order = [k.desc() if descending else k.asc() for k in keys]
    items = list(db.session.scalars(query.order_by(*order).offset((page - 1) * size).limit(size)))
    return Page(items, None, None, count=total, number=page, has_next=page * size < total)


def keyset(
    query: Select, key: Key, *, scope: str, cursor: str | None, size: int, descending: bool = False
) -> Page:
    """One page of ``query`` in ``key`` order, starting at ``cursor`` (None: the first page).

    :param key: a unique column, or a tuple of columns whose last is unique (leading ones may
        be integers or dates).
    :param scope: names the list and its merchant, e.g. ``products:12``.
    """
    keys = key if isinstance(key, tuple) else (key,)
    size = max(1, min(size, MAX_PAGE_SIZE))
    direction, at = _position(scope, cursor, keys) if cursor else ("after", None)
    backwards = direction == "before"
    high_first = descending != backwards  # the direction this page walks the key in
    if at is not None:
        query = query.where(_beyond(keys, at, high_first))
    order = [k.desc() if high_first else k.asc() for k in keys]
    rows = list(db.session.scalars(query.order_by(*order).limit(size + 1)))
    more, items = len(rows) > size, rows[:size]
    if backwards:
        items.reverse()
        nxt = _seal(scope, "after", items[-1], keys) if items else None
        prev = _seal(scope, "before", items[0], keys) if more else None
    else:
        nxt = _seal(scope, "after", items[-1], keys) if more else None
        prev = _seal(scope, "before", items[0], keys) if at is not None and items else None
    return Page(items, nxt, prev)


def _beyond(keys: tuple[InstrumentedAttribute, ...], at: list[Any], high_first: bool):
    """Rows strictly past ``at`` in the walk's order: ``(a, b) > (x, y)`` spelled out, which
    every database reads the same way."""

    def past(column, value):
        return column < value if high_first else column > value

    clause = past(keys[-1], at[-1])
    for column, value in zip(reversed(keys[:-1]), reversed(at[:-1]), strict=True):
        clause = or_(past(column, value), and_(column == value, clause))
    return clause


def _seal(scope: str, direction: str, row: Any, keys: tuple[InstrumentedAttribute, ...]) -> str:
    position: dict[str, Any] = {"d": direction, "id": getattr(row, keys[-1].key)}
    if len(keys) > 1:
        position["k"] = [_dump(getattr(row, k.key)) for k in keys[:-1]]
    return cursors.encode(current_app.config["SECRET_KEY"], scope, position)


def _dump(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _position(
    scope: str, cursor: str, keys: tuple[InstrumentedAttribute, ...]
) -> tuple[str, list[Any]]:
    try:
        position = cursors.decode(current_app.config["SECRET_KEY"], scope, cursor)
        direction = position.get("d")
        pk = wire.parse_int(position.get("id"), low=0, high=wire.DB_INT_MAX)
        if direction not in ("after", "before"):
            raise wire.WireError("Invalid cursor; use the next or previous link as given.")
        leading = position.get("k", []) if len(keys) > 1 else []
        if not isinstance(leading, list) or len(leading) != len(keys) - 1:
            raise wire.WireError("Invalid cursor; use the next or previous link as given.")
        values = [_load(k, v) for k, v in zip(keys[:-1], leading, strict=True)]
    except wire.WireError as exc:
        raise ValidationError(str(exc), fields={"cursor": str(exc)}) from None
    return direction, [*values, pk]


def _load(column: InstrumentedAttribute, value: Any) -> Any:
    if isinstance(column.type, Date):
        return wire.parse_date(value, label="The cursor")
    return wire.parse_int(value, low=-wire.DB_INT_MAX, high=wire.DB_INT_MAX, label="The cursor")
