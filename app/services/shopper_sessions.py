"""A shopper's session on the storefront: the ``og_session_id`` and its opt-ins, read fresh
on every product page view (never cached: a click on one page changes what the next shows)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models import Merchant, OptIn
from app.services import shops
from app.services.errors import ValidationError


def session_merchant(session_id: str) -> str | None:
    """The merchant public id an ``og_session_id`` belongs to, or None if malformed.

    Format (contracts §2.3): ``<merchant_public_id>.<random int>.<unix time>``.
    """
    match = re.fullmatch(r"([0-9a-f]{32})\.[0-9]{1,20}\.[0-9]{1,12}", session_id or "")
    return match.group(1) if match else None


def check_session(merchant: Merchant, session_id: str) -> str:
    if session_merchant(session_id) != merchant.public_id:
        raise ValidationError("A valid og_session_id for this merchant is required.")
    return session_id


@dataclass(frozen=True)
class Tracked:
    """One opt-in of a session."""

    product_id: str
    offer_id: str
    every: int
    every_period: int

    @property
    def frequency(self) -> str:
        return f"{self.every}_{self.every_period}"


_TRACKED = (
    select(OptIn.product_id, OptIn.offer_id, OptIn.every, OptIn.every_period)
    .where(OptIn.merchant_id == bindparam("merchant"), OptIn.session_id == bindparam("session"))
    .order_by(OptIn.id)
)  # built once: this runs on every product page view


def tracked(merchant_id: int, session_id: str | None) -> dict[str, Tracked]:
    """The session's opt-ins, read fresh: one indexed query, straight to the driver (this
    runs on every product page view, so it skips the ORM session and statement compiling)."""
    if not session_id:
        return {}
    engine = _reads()
    sql = _TRACKED_SQL.get(engine.dialect.paramstyle)
    if sql is None:
        sql = _TRACKED_SQL[engine.dialect.paramstyle] = str(
            _TRACKED.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
        )
    params = _driver_params(engine.dialect.paramstyle, merchant_id, session_id)
    for attempt in (1, 2):
        try:
            with engine.connect() as conn:
                rows = conn.exec_driver_sql(sql, params).all()
            break
        except DBAPIError as exc:  # a connection the server dropped: once more, on a new one
            if attempt == 2 or not exc.connection_invalidated:
                raise
    return {row[0]: Tracked(*row) for row in rows}


def _reads() -> Engine:
    """The engine of the storefront's per-request reads. On a server database it is one of its
    own: autocommit (no BEGIN and ROLLBACK around a single SELECT) and no ping as a connection
    leaves the pool (a dropped connection fails its query, which is tried once more instead),
    so a product page view costs one round trip to the database, not four. Its pool is as
    small as a sync worker needs; SQLite shares the app's engine."""
    snapshots: shops.Snapshots = current_app.extensions["storefront"]
    if snapshots.reads is None:
        engine = db.engine
        if engine.dialect.name != "sqlite":
            engine = create_engine(
                engine.url,
                isolation_level="AUTOCOMMIT",
                pool_pre_ping=False,
                pool_size=2,
                max_overflow=8,
            )
        snapshots.reads = engine
    return snapshots.reads


_TRACKED_SQL: dict[str, str] = {}  # by DB-API paramstyle: a handful of entries at most


def _driver_params(paramstyle: str, merchant_id: int, session_id: str) -> Any:
    if paramstyle in ("qmark", "format", "numeric"):
        return (merchant_id, session_id)
    return {"merchant": merchant_id, "session": session_id}  # named, pyformat
