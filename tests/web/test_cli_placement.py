"""Operators' commands: ``flask placement run`` and ``flask merchant set``."""

from datetime import date

from app.extensions import db
from app.models import Merchant, Order, OrderStatus
from tests import storekit
from tests.placementkit import make_due_order, make_placing_merchant


def test_placement_run_as_of_places_and_prints_the_report(app, runner):
    with storekit.store() as store:
        merchant = make_placing_merchant(store.url)
        order = make_due_order(merchant, date(2031, 1, 31))
        result = runner.invoke(
            args=["placement", "run", "--merchant", merchant.public_id, "--as-of", "2031-01-31"]
        )
        assert result.exit_code == 0, result.output
        assert "1 due; success 1" in result.output
        assert len(store.received) == 1
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.SUCCESS


def test_placement_run_refuses_a_bad_date_and_an_unknown_merchant(app, runner):
    assert (
        "--as-of must be a date"
        in runner.invoke(args=["placement", "run", "--as-of", "tomorrow"]).output
    )
    assert "no merchant" in runner.invoke(args=["placement", "run", "--merchant", "f" * 32]).output


def test_merchant_set_changes_settings_and_refuses_bad_ones(app, runner):
    merchant = make_placing_merchant("https://shop.example/og/orders")
    result = runner.invoke(
        args=[
            "merchant",
            "set",
            merchant.public_id,
            "order_endpoint_url=https://orders.example/og",
            "placement_hour=never",
            "reminder_days=7",
            "placement_mode=batch",
            "endpoint_dedupes=yes",
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    changed = db.session.get(Merchant, merchant.id)
    assert changed.order_endpoint_url == "https://orders.example/og"
    assert changed.placement_hour is None and changed.reminder_days == 7
    assert changed.placement_mode == "batch" and changed.endpoint_dedupes is True
    bad = runner.invoke(args=["merchant", "set", merchant.public_id, "reminder_days=2"])
    assert bad.exit_code != 0 and "reminder_days" in bad.output
    unknown = runner.invoke(args=["merchant", "set", merchant.public_id, "hash_key=x"])
    assert unknown.exit_code != 0 and "KEY one of" in unknown.output
