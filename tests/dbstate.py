"""The whole database as plain rows: to prove a refused request wrote nothing, and to put
the database back after one that was allowed to write."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, and_, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from app.extensions import db

Rows = dict[str, dict[tuple, tuple]]  # table -> primary key -> row


class Watch:
    """Says cheaply whether anything may have been committed since the last look, so the
    whole database is read only after a request that may have written.

    SQLite: ``PRAGMA data_version`` moves when another connection commits. PostgreSQL: the
    next transaction id moves when any transaction writes (in any database of the server,
    so it may move for nothing; that only costs a snapshot).
    """

    def __init__(self):
        if db.engine.dialect.name == "sqlite":
            self._sqlite = sqlite3.connect(db.engine.url.database)
            self._conn = None
        else:
            self._sqlite = None
            self._conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._last = self._token()

    def _token(self):
        if self._sqlite is not None:
            return self._sqlite.execute("PRAGMA data_version").fetchone()[0]
        return self._conn.execute(text("SELECT pg_snapshot_xmax(pg_current_snapshot())")).scalar()

    def moved(self) -> bool:
        token = self._token()
        moved, self._last = token != self._last, token
        return moved

    def close(self) -> None:
        (self._sqlite or self._conn).close()


def snapshot() -> Rows:
    """Every row of every table, read on a fresh connection (not a session's snapshot)."""
    rows: Rows = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            pk = [c.name for c in table.primary_key]
            result = conn.execute(select(table))
            keys = list(result.keys())
            rows[table.name] = {tuple(row[keys.index(c)] for c in pk): tuple(row) for row in result}
    return rows


def changes(
    before: Rows,
    after: Rows,
    *,
    ignore_columns: dict[str, set[str]] | None = None,
    ignore_rows: dict[str, Callable[[dict[str, Any]], bool]] | None = None,
) -> list[str]:
    """What differs, one line per row; ignored columns and rows do not count."""
    ignore_columns, ignore_rows = ignore_columns or {}, ignore_rows or {}
    found = []
    for table in db.metadata.sorted_tables:
        names = [c.name for c in table.columns]
        skip = {names.index(c) for c in ignore_columns.get(table.name, ())}
        keep = ignore_rows.get(table.name, lambda row: False)
        old, new = before.get(table.name, {}), after.get(table.name, {})
        for pk in sorted(old.keys() | new.keys(), key=repr):
            a, b = old.get(pk), new.get(pk)
            if a is not None and b is not None:
                diff = [
                    names[i]
                    for i, (x, y) in enumerate(zip(a, b, strict=True))
                    if x != y and i not in skip
                ]
                if diff:
                    found.append(f"{table.name} {pk}: changed {', '.join(diff)}")
            elif b is not None and not keep(dict(zip(names, b, strict=True))):
                found.append(f"{table.name} {pk}: inserted")
            elif a is not None and not keep(dict(zip(names, a, strict=True))):
                found.append(f"{table.name} {pk}: deleted")
    return found


def adopt(baseline: Rows, current: Rows, columns: dict[str, set[str]]) -> Rows:
    """``baseline`` with ``columns`` taken from ``current``: changes not worth undoing."""
    adopted = dict(baseline)
    for table in db.metadata.sorted_tables:
        names = [c.name for c in table.columns]
        keep = [names.index(c) for c in columns.get(table.name, ())]
        if not keep:
            continue
        rows = dict(baseline[table.name])
        for pk, row in rows.items():
            now = current[table.name].get(pk)
            if now is not None:
                rows[pk] = tuple(now[i] if i in keep else v for i, v in enumerate(row))
        adopted[table.name] = rows
    return adopted


def restore(baseline: Rows, current: Rows) -> bool:
    """Make the database equal ``baseline`` again; return whether it differed.

    Row by row (put back what is missing, undo changes, then drop what is new), so each
    step only refers to rows that exist; if a constraint still objects, reload every table.
    """
    tables = [t for t in db.metadata.sorted_tables if baseline.get(t.name) != current.get(t.name)]
    if not tables:
        return False
    try:
        with db.engine.begin() as conn:
            for table in tables:  # parents first
                names = [c.name for c in table.columns]
                for pk, row in baseline[table.name].items():
                    now = current[table.name].get(pk)
                    values = dict(zip(names, row, strict=True))
                    if now is None:
                        conn.execute(insert(table).values(values))
                    elif now != row:
                        conn.execute(update(table).where(_match(table, pk)).values(values))
            for table in reversed(tables):  # children first
                for pk in current[table.name].keys() - baseline[table.name].keys():
                    conn.execute(delete(table).where(_match(table, pk)))
    except DBAPIError:
        _reload(baseline)
    return True


def _reload(baseline: Rows) -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(delete(table))
        for table in db.metadata.sorted_tables:
            names = [c.name for c in table.columns]
            rows = [dict(zip(names, row, strict=True)) for row in baseline[table.name].values()]
            if rows:
                conn.execute(insert(table), rows)


def _match(table: Table, pk: tuple):
    return and_(*(c == v for c, v in zip(table.primary_key, pk, strict=True)))
