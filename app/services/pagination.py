"""Keyset pages over any query, with opaque cursors (``app.integrations.cursors``).

A page is the rows after (or before) a row's key in key order, so a page never skips or
repeats a row when others are added between two calls. Cursors are sealed per list and
merchant: one list's cursor is refused by another list or another merchant's same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import current_app
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from app.extensions import db
from app.integrations import cursors, wire
from app.services.errors import ValidationError

T = TypeVar("T")
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    previous_cursor: str | None


def keyset(query: Select, key: InstrumentedAttribute, *, scope: str, cursor: str | None,
           size: int) -> Page:
    """One page of ``query`` in ``key`` order, starting at ``cursor`` (None: the first page).

    :param scope: names the list and its merchant, e.g. ``products:12``.
    """
    size = max(1, min(size, MAX_PAGE_SIZE))
    direction, pk = _position(scope, cursor) if cursor else ("after", None)
    if direction == "after":
        bounded = query if pk is None else query.where(key > pk)
        rows = list(db.session.scalars(bounded.order_by(key).limit(size + 1)))
        more, items = len(rows) > size, rows[:size]
        nxt = _seal(scope, "after", items[-1], key.key) if more else None
        prev = _seal(scope, "before", items[0], key.key) if pk is not None and items else None
    else:
        rows = list(db.session.scalars(query.where(key < pk).order_by(key.desc())
                                       .limit(size + 1)))
        more, items = len(rows) > size, list(reversed(rows[:size]))
        nxt = _seal(scope, "after", items[-1], key.key) if items else None
        prev = _seal(scope, "before", items[0], key.key) if more else None
    return Page(items, nxt, prev)


def _seal(scope: str, direction: str, row: Any, key_name: str) -> str:
    return cursors.encode(current_app.config["SECRET_KEY"], scope,
                          {"d": direction, "id": getattr(row, key_name)})


def _position(scope: str, cursor: str) -> tuple[str, int]:
    try:
        position = cursors.decode(current_app.config["SECRET_KEY"], scope, cursor)
        direction = position.get("d")
        pk = wire.parse_int(position.get("id"), low=0, high=wire.DB_INT_MAX)
        if direction not in ("after", "before"):
            raise wire.WireError("Invalid cursor; use the next or previous link as given.")
    except wire.WireError as exc:
        raise ValidationError(str(exc), fields={"cursor": str(exc)}) from None
    return direction, pk
