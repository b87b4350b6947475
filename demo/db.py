"""The store's SQLite database: one connection per request, schema and demo customers on start."""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

from flask import Flask, current_app, g

from demo import seed


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
        seed.demo_customers(conn)
    finally:
        conn.close()


def init_app(app: Flask) -> None:
    init_db(app.config["DEMO_DB"])
    app.teardown_appcontext(close_db)
