"""Store admin switches, kept in the store's database so every process and request sees them."""

from __future__ import annotations

from demo.db import get_db


def get(name: str, default: str) -> str:
    row = get_db().execute("SELECT value FROM store_setting WHERE name = ?", (name,)).fetchone()
    return row["value"] if row else default


def put(name: str, value: str) -> None:
    db = get_db()
    with db:
        db.execute(
            "INSERT INTO store_setting (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
