"""The store's SQLite database: one connection per request, schema and demo customers on start."""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

from flask import Flask, current_app, g

from demo import seed

# Columns added to a table after it first shipped: CREATE TABLE IF NOT EXISTS leaves an existing
# file's tables as they were, so init_db adds these where missing (additive changes only).
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("order_line", "one_time", "INTEGER NOT NULL DEFAULT 0"),
    ("store_order", "discount_cents", "INTEGER NOT NULL DEFAULT 0"),
    ("store_order", "tax_cents", "INTEGER NOT NULL DEFAULT 0"),
)


def get_db() -> sqlite3.Connection:
    """Return this request's connection, opening it on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DEMO_DB"])
    return g.db


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=10)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def close_db(exc: BaseException | None = None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def init_db(path: str) -> None:
    """Create the file, the tables and the demo customers if they are missing."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    schema = resources.files("demo").joinpath("schema.sql").read_text(encoding="utf-8")
    conn = connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")  # readers never wait for the order writer
        conn.executescript(schema)
        add_missing_columns(conn)
        seed.demo_customers(conn)
    finally:
        conn.close()


def add_missing_columns(conn: sqlite3.Connection) -> None:
    """Bring a database file made by an earlier version up to ``ADDED_COLUMNS``."""
    for table, column, definition in ADDED_COLUMNS:
        present = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column in present:
            continue
        try:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        except sqlite3.OperationalError as exc:  # another process starting on the same file
            if "duplicate column" not in str(exc):
                raise


def init_app(app: Flask) -> None:
    init_db(app.config["DEMO_DB"])
    app.teardown_appcontext(close_db)
