"""Application-scope API keys: stored hashed, shown once, revocable."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiKey
from app.models.merchant import hash_api_key
from app.models.types import utcnow
from app.services import events
from app.services.errors import NotFound, ValidationError

MAX_ACTIVE_KEYS = 10  # as Ordergroove: up to 10 keys per merchant


def list_for(merchant_id: int) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.merchant_id == merchant_id).order_by(ApiKey.created_at)
    return list(db.session.scalars(query))


def create(
    merchant_id: int, name: str, *, actor: events.Actor, created_by_id: int | None = None
) -> tuple[ApiKey, str]:
    """Create a key and return it with its raw value, which is never retrievable again."""
    return _store(merchant_id, name, "pk_" + secrets.token_urlsafe(32), actor, created_by_id)


def create_with_value(merchant_id: int, name: str, raw: str, *, actor: events.Actor) -> ApiKey:
    """Store a key whose value the caller derived (the idempotent demo seed)."""
    return _store(merchant_id, name, raw, actor, None)[0]


def _store(
    merchant_id: int, name: str, raw: str, actor: events.Actor, created_by_id: int | None
) -> tuple[ApiKey, str]:
    name = (name or "").strip()[:100] or "API key"
    active = db.session.scalar(
        select(func.count(ApiKey.id)).where(
            ApiKey.merchant_id == merchant_id, ApiKey.revoked_at.is_(None)
        )
    )
    if active >= MAX_ACTIVE_KEYS:
        raise ValidationError(f"At most {MAX_ACTIVE_KEYS} active keys; revoke one first.")
    key = ApiKey(
        merchant_id=merchant_id,
        name=name,
        prefix=raw[:10],
        key_hash=hash_api_key(raw),
        created_by_id=created_by_id,
    )
    db.session.add(key)
    db.session.flush()
    events.record(
        merchant_id,
        "api_key.create",
        actor,
        object_type="api_key",
        object_id=key.id,
        after={"name": name, "prefix": key.prefix},
    )
    db.session.commit()
    return key, raw


def revoke(merchant_id: int, key_id: int, *, actor: events.Actor) -> ApiKey:
    """Revoke one of the merchant's keys; another merchant's key id is simply not found."""
    key = db.session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.merchant_id == merchant_id)
    )
    if key is None:
        raise NotFound()
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        events.record(
            merchant_id,
            "api_key.revoke",
            actor,
            object_type="api_key",
            object_id=key.id,
            before={"active": True},
            after={"active": False},
        )
        db.session.commit()
    return key


def authenticate(raw: str | None) -> ApiKey | None:
    """Return the active key for a raw ``x-api-key`` value (lookup by its SHA-256)."""
    if not raw or len(raw) > 200:
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(raw)))
    if key is None or key.revoked_at is not None:
        return None
    return key
