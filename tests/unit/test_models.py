"""Model rules: UTC timestamps, public ids, the append-only event log, constraints."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from app.extensions import db
from app.models import AppendOnlyError, Event, Heartbeat, Product
from app.services import events
from tests.factories import make_merchant


def test_timestamps_round_trip_as_aware_utc(app):
    paris = timezone(timedelta(hours=1))
    db.session.add(Heartbeat(name="worker", seen_at=datetime(2026, 1, 1, 13, 0, tzinfo=paris)))
    db.session.commit()
    db.session.expire_all()
    seen = db.session.get(Heartbeat, "worker").seen_at
    assert seen == datetime(2026, 1, 1, 12, 0, tzinfo=UTC) and seen.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(app):
    db.session.add(Heartbeat(name="worker", seen_at=datetime(2026, 1, 1, 12, 0)))
    with pytest.raises(StatementError):
        db.session.commit()
    db.session.rollback()


def test_merchant_gets_public_id_and_32_char_hash_key(app):
    merchant = make_merchant()
    assert len(merchant.public_id) == 32 and int(merchant.public_id, 16) >= 0
    assert len(merchant.hash_key) == 32
    assert merchant.hash_key != make_merchant().hash_key


def test_events_are_append_only(app):
    merchant = make_merchant()
    event = events.record(
        merchant.id,
        "test.thing",
        events.SYSTEM,
        object_type="merchant",
        object_id=merchant.public_id,
        after={"a": 1},
    )
    db.session.commit()
    event.type = "rewritten"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(Event, event.id))
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Event, event.id).type == "test.thing"


def test_product_ids_are_unique_per_merchant_only(app):
    one, two = make_merchant(), make_merchant()
    for merchant in (one, two):
        db.session.add(
            Product(merchant_id=merchant.id, product_id="SKU1", name="A", price_minor=1999)
        )
    db.session.commit()
    db.session.add(Product(merchant_id=one.id, product_id="SKU1", name="B", price_minor=1))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_subscription_eligibility_follows_override_then_feed(app):
    product = Product(
        merchant_id=make_merchant().id,
        product_id="P",
        name="P",
        price_minor=100,
        autoship_eligible=True,
        discontinued=False,
    )
    assert product.subscription_eligible
    product.eligible_override = False
    assert not product.subscription_eligible
    product.eligible_override, product.discontinued = True, True
    assert not product.subscription_eligible
