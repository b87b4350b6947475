"""The incentives service (validation, events, tenants) and the pricing loader on a real DB."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Event, Incentive, Product, ProductGroup
from app.services import events, incentives, pricing
from app.services.errors import NotFound, ValidationError
from tests.factories import make_merchant

STAFF = events.Actor("staff", "7", "127.0.0.1")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def make_product(
    merchant,
    product_id: str,
    *,
    price_minor: int = 1000,
    name: str = "Thing",
    incentive_groups: tuple[str, ...] = (),
) -> Product:
    product = Product(
        merchant_id=merchant.id, product_id=product_id, name=name, price_minor=price_minor
    )
    for group in incentive_groups:
        product.groups.append(
            ProductGroup(merchant_id=merchant.id, group_type="incentive", name=group)
        )
    db.session.add(product)
    db.session.commit()
    return product


def fields_of(data, merchant=None) -> dict[str, str]:
    merchant = merchant or make_merchant()
    with pytest.raises(ValidationError) as caught:
        incentives.create(merchant.id, data, actor=STAFF)
    return caught.value.fields


def test_create_stores_integer_units_and_records_an_event(app):
    merchant = make_merchant()
    incentive = incentives.create(
        merchant.id,
        {
            "name": "Subscribe and save",
            "kind": "percent_off",
            "percent": "12.5",
            "threshold": "50.00",
            "applies_to": "ongoing",
        },
        actor=STAFF,
    )
    assert (incentive.percent_bp, incentive.threshold_minor) == (1250, 5000)
    assert (incentive.currency, incentive.scope, incentive.target) == ("USD", "item", "all")
    assert len(incentive.public_id) == 32 and incentive.active
    event = db.session.scalar(select(Event).where(Event.type == "incentive.create"))
    assert (event.merchant_id, event.object_id, event.actor_id) == (
        merchant.id,
        incentive.public_id,
        "7",
    )
    assert event.after["percent_bp"] == 1250


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "percent_off", "percent": "10"}, "name"),
        ({"name": "x", "percent": "10"}, "kind"),
        ({"name": "x", "kind": "bogus"}, "kind"),
        ({"name": "x", "kind": "percent_off"}, "percent"),
        ({"name": "x", "kind": "percent_off", "percent": "0"}, "percent"),
        ({"name": "x", "kind": "percent_off", "percent": "100.01"}, "percent"),
        ({"name": "x", "kind": "percent_off", "percent": "10.125"}, "percent"),
        ({"name": "x", "kind": "percent_off", "percent": "ten"}, "percent"),
        ({"name": "x", "kind": "fixed_off"}, "amount"),
        ({"name": "x", "kind": "fixed_off", "amount": "0"}, "amount"),
        ({"name": "x", "kind": "fixed_off", "amount": "-1"}, "amount"),
        ({"name": "x", "kind": "fixed_off", "amount": "1.005"}, "amount"),
        ({"name": "x", "kind": "fixed_off", "amount": "5", "currency": "dollars"}, "currency"),
        ({"name": "x", "kind": "flat_rate_shipping"}, "amount"),
        ({"name": "x", "kind": "gift"}, "gift_product"),
        ({"name": "x", "kind": "gift", "gift_product": "NOPE"}, "gift_product"),
        ({"name": "x", "kind": "percent_off", "percent": "5", "scope": "line"}, "scope"),
        ({"name": "x", "kind": "percent_off", "percent": "5", "applies_to": "x"}, "applies_to"),
        ({"name": "x", "kind": "percent_off", "percent": "5", "target": "group"}, "target_group"),
        (
            {"name": "x", "kind": "percent_off", "percent": "5", "target": "products"},
            "target_products",
        ),
        (
            {
                "name": "x",
                "kind": "percent_off",
                "percent": "5",
                "target": "products",
                "target_products": "P1, GHOST",
            },
            "target_products",
        ),
        ({"name": "x", "kind": "percent_off", "percent": "5", "min_order": "0"}, "min_order"),
        (
            {
                "name": "x",
                "kind": "percent_off",
                "percent": "5",
                "min_order": "3",
                "max_order": "2",
            },
            "max_order",
        ),
        (
            {
                "name": "x",
                "kind": "percent_off",
                "percent": "5",
                "applies_to": "initial",
                "min_order": "2",
            },
            "min_order",
        ),
        (
            {
                "name": "x",
                "kind": "percent_off",
                "percent": "5",
                "applies_to": "ongoing",
                "max_order": "1",
            },
            "max_order",
        ),
        (
            {
                "name": "x",
                "kind": "percent_off",
                "percent": "5",
                "starts_at": "2026-06-02T00:00",
                "ends_at": "2026-06-01T00:00",
            },
            "ends_at",
        ),
        ({"name": "x", "kind": "percent_off", "percent": "5", "starts_at": "soon"}, "starts_at"),
        ({"name": "x" * 201, "kind": "percent_off", "percent": "5"}, "name"),
    ],
)
def test_create_refuses_invalid_input_with_field_errors(app, data, field):
    merchant = make_merchant()
    make_product(merchant, "P1")
    assert field in fields_of(data, merchant)
    assert db.session.scalar(select(Incentive)) is None
    assert db.session.scalar(select(Event).where(Event.type.like("incentive.%"))) is None


def test_kinds_keep_only_the_fields_they_use(app):
    merchant = make_merchant()
    make_product(merchant, "G1", name="Chew Toy")
    gift = incentives.create(
        merchant.id,
        {
            "name": "Toy",
            "kind": "gift",
            "gift_product": "G1",
            "percent": "10",
            "amount": "5",
            "scope": "item",
            "target_group": "ignored",
        },
        actor=STAFF,
    )
    assert (gift.percent_bp, gift.amount_minor, gift.scope, gift.target_group) == (
        None,
        None,
        "order",
        None,
    )
    assert pricing.describe(gift) == "Free gift: Chew Toy with every order"


def test_amounts_follow_the_currencys_minor_unit(app):
    merchant = make_merchant(currency="JPY")
    yen = incentives.create(
        merchant.id,
        {"name": "Y", "kind": "fixed_off", "amount": "500", "scope": "order"},
        actor=STAFF,
    )
    assert (yen.currency, yen.amount_minor) == ("JPY", 500)
    assert "amount" in fields_of({"name": "Y", "kind": "fixed_off", "amount": "5.5"}, merchant)


def test_a_time_without_offset_is_the_merchants_local_time(app):
    merchant = make_merchant(timezone="America/New_York")
    incentive = incentives.create(
        merchant.id,
        {
            "name": "Summer",
            "kind": "percent_off",
            "percent": "10",
            "starts_at": "2026-07-01T00:00",
            "ends_at": "2026-08-01T00:00+00:00",
        },
        actor=STAFF,
    )
    assert incentive.starts_at == datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
    assert incentive.ends_at == datetime(2026, 8, 1, 0, 0, tzinfo=UTC)


def test_update_changes_given_fields_and_records_only_the_difference(app):
    merchant = make_merchant()
    incentive = incentives.create(
        merchant.id, {"name": "Save", "kind": "percent_off", "percent": "10"}, actor=STAFF
    )
    incentives.update(
        merchant.id, incentive.public_id, {"percent": "15", "min_order": "3"}, actor=STAFF
    )
    assert (incentive.name, incentive.percent_bp, incentive.min_order_number) == ("Save", 1500, 3)
    event = db.session.scalar(select(Event).where(Event.type == "incentive.update"))
    assert event.before == {"percent_bp": 1000, "min_order_number": None}
    assert event.after == {"percent_bp": 1500, "min_order_number": 3}


def test_update_validates_the_merged_result_and_changes_nothing_on_error(app):
    merchant = make_merchant()
    incentive = incentives.create(
        merchant.id, {"name": "Save", "kind": "percent_off", "percent": "10"}, actor=STAFF
    )
    with pytest.raises(ValidationError) as caught:
        incentives.update(merchant.id, incentive.public_id, {"kind": "fixed_off"}, actor=STAFF)
    assert "amount" in caught.value.fields
    with pytest.raises(ValidationError):
        incentives.update(merchant.id, incentive.public_id, {"name": " "}, actor=STAFF)
    db.session.refresh(incentive)
    assert (incentive.kind, incentive.name) == ("percent_off", "Save")


def test_update_without_change_records_nothing(app):
    merchant = make_merchant()
    incentive = incentives.create(
        merchant.id, {"name": "Save", "kind": "percent_off", "percent": "10"}, actor=STAFF
    )
    incentives.update(merchant.id, incentive.public_id, {"percent": "10.00"}, actor=STAFF)
    assert db.session.scalar(select(Event).where(Event.type == "incentive.update")) is None


def test_deactivate_and_activate_record_events_once(app):
    merchant = make_merchant()
    incentive = incentives.create(
        merchant.id, {"name": "Save", "kind": "percent_off", "percent": "10"}, actor=STAFF
    )
    incentives.deactivate(merchant.id, incentive.public_id, actor=STAFF)
    incentives.deactivate(merchant.id, incentive.public_id, actor=STAFF)
    assert not incentive.active
    incentives.activate(merchant.id, incentive.public_id, actor=STAFF)
    types = list(
        db.session.scalars(
            select(Event.type).where(Event.type.like("incentive.%")).order_by(Event.id)
        )
    )
    assert types == ["incentive.create", "incentive.deactivate", "incentive.activate"]


def test_another_merchants_incentive_is_not_found(app):
    mine, theirs = make_merchant(), make_merchant()
    incentive = incentives.create(
        theirs.id, {"name": "Theirs", "kind": "percent_off", "percent": "10"}, actor=STAFF
    )
    for call in (
        lambda: incentives.get(mine.id, incentive.public_id),
        lambda: incentives.update(mine.id, incentive.public_id, {"percent": "90"}, actor=STAFF),
        lambda: incentives.deactivate(mine.id, incentive.public_id, actor=STAFF),
    ):
        with pytest.raises(NotFound):
            call()
    db.session.refresh(incentive)
    assert (incentive.percent_bp, incentive.active) == (1000, True)
    assert incentives.list_for(mine.id) == []
    assert pricing.active_incentives(mine.id, NOW) == []


def test_another_merchants_products_cannot_be_targeted_or_gifted(app):
    mine, theirs = make_merchant(), make_merchant()
    make_product(theirs, "THEIRS")
    assert "gift_product" in fields_of(
        {"name": "g", "kind": "gift", "gift_product": "THEIRS"}, mine
    )
    assert "target_products" in fields_of(
        {
            "name": "t",
            "kind": "percent_off",
            "percent": "5",
            "target": "products",
            "target_products": ["THEIRS"],
        },
        mine,
    )


def test_active_incentives_respect_the_active_flag_and_dates(app):
    merchant = make_merchant()

    def add(name, **data):
        return incentives.create(
            merchant.id, {"name": name, "kind": "percent_off", "percent": "10", **data}, actor=STAFF
        )

    add("always")
    add("from now", starts_at=NOW)
    add("until now", ends_at=NOW)  # the end is exclusive
    add("later", starts_at=NOW + timedelta(seconds=1))
    add("window", starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=1))
    off = add("off")
    incentives.deactivate(merchant.id, off.public_id, actor=STAFF)
    names = [t.name for t in pricing.active_incentives(merchant.id, NOW)]
    assert names == ["always", "from now", "window"]


def test_loaded_incentives_price_catalog_lines_end_to_end(app):
    merchant = make_merchant()
    kibble = make_product(merchant, "K1", price_minor=2999, incentive_groups=("Kibble",))
    make_product(merchant, "TOY", name="Chew Toy", price_minor=500)
    incentives.create(
        merchant.id,
        {
            "name": "Kibble",
            "kind": "percent_off",
            "percent": "15",
            "target": "group",
            "target_group": "Kibble",
        },
        actor=STAFF,
    )
    incentives.create(
        merchant.id,
        {"name": "Toy", "kind": "gift", "gift_product": "TOY", "applies_to": "ongoing"},
        actor=STAFF,
    )
    incentives.create(
        merchant.id, {"name": "Ship", "kind": "free_shipping", "threshold": "50"}, actor=STAFF
    )
    quote = pricing.price_order(
        [pricing.line_for(kibble, quantity=2)],
        incentives=pricing.active_incentives(merchant.id, NOW),
        order_number=2,
        is_initial=False,
        currency="USD",
        shipping_minor=695,
        now=NOW,
    )
    assert quote.lines[0].unit_discount_minor == 450  # 449.85 -> 450
    assert quote.merchandise_minor == 2 * 2549
    assert quote.shipping_total_minor == 0
    assert [(g.product_id, g.product_pk) for g in quote.gifts] == [
        ("TOY", db.session.scalar(select(Product.id).where(Product.product_id == "TOY")))
    ]
    assert quote.total_minor == 5098
