"""Extensions, created unbound; ``init_app`` binds them to an app."""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from redis import Redis
from rq import Queue
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations work the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
htmx = Htmx()
# No default limits: each route that needs one declares it. Storage and failure handling come
# from the RATELIMIT_* settings (Redis at REDIS_URL; see Config).
limiter = Limiter(key_func=get_remote_address)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite as a web database: WAL, so readers never wait for the one writer (commits stay
    fully synchronous: a committed subscription survives a power cut), and writers queue for
    up to 10 s instead of failing with "database is locked"."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


@contextmanager
def sqlite_writer_lock() -> Iterator[None]:
    """On SQLite, queue a whole write request behind the others on a file lock (no-op else).

    SQLite has one writer at a time, and its busy handler polls with sleeps of up to 100 ms, a
    long tail when checkouts arrive together; a waiter on this lock wakes the moment it frees.
    Take it before the request touches the database, so no read snapshot is held while waiting.
    """
    if not current_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        yield
        return
    path = Path(current_app.instance_path) / "sqlite-writer.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def init_app(app: Flask) -> None:
    """Bind every extension; Redis and the queues hang off ``app.extensions['rq']``, the
    storefront snapshots off ``app.extensions['storefront']``."""
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)  # one app per process: the Limiter keeps a single storage
    redis = Redis.from_url(app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2)
    app.extensions["rq"] = {
        "redis": redis,
        "queues": {name: Queue(name, connection=redis) for name in app.config["RQ_QUEUES"]},
    }
    from app.services import shops  # services import the extensions above

    shops.init_app(app)  # the storefront snapshots, and their invalidation on commit
