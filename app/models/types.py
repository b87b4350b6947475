"""Column types shared by every model: UTC timestamps, public ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, types


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_public_id() -> str:
    """Return a 32-hex public id (the shape Ordergroove uses for every object)."""
    return uuid.uuid4().hex


class UTCDateTime(types.TypeDecorator):
    """Store aware datetimes as UTC on both engines; always read back aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
