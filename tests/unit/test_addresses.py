"""A subscriber adds a shipping address (contracts §4.3 ``POST /addresses/create/``): every
field checked, an identical address reused, not doubled; shipping one subscription or all
there in one transaction."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Address, OrderStatus
from app.services import addresses, customers
from app.services.errors import Conflict, NotFound, ValidationError
from tests.actionkit import (
    SUBSCRIBER,
    count_events,
    last_event,
    make_shopper,
    snapshot,
    subscribe,
    upcoming,
)
from tests.factories import make_merchant

GOOD = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "address": "12 St James's Square",
    "address2": "",
    "city": "London",
    "state_province_code": "",
    "zip_postal_code": "SW1Y 4JH",
    "country_code": "GB",
    "phone": "+44 20 7946 0958",
}


def count_addresses(customer_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Address).where(Address.customer_id == customer_id)
    )


def test_create_tidies_the_fields_records_the_event_and_commits(app):
    shopper = make_shopper()
    typed = GOOD | {"address": "  12  St James's Square ", "country_code": "gb"}

    address = addresses.create(*shopper.ids, typed, actor=SUBSCRIBER)

    db.session.rollback()  # committed: still there
    found = db.session.get(Address, address.id)
    assert (found.address, found.country_code, found.address2) == (
        "12 St James's Square",
        "GB",
        None,
    )
    assert (found.merchant_id, found.customer_id, found.live) == (*shopper.ids, True)
    assert found.fingerprint == customers.fingerprint(
        {k: getattr(found, k) for k in customers.ADDRESS_FIELDS}
    )
    event = last_event("address.create")
    assert (event.object_id, event.customer_id, event.actor_type) == (
        found.public_id,
        shopper.customer.id,
        "subscriber",
    )
    assert event.after["city"] == "London" and "address2" not in event.after


def test_an_identical_address_is_reused_not_doubled(app):
    shopper = make_shopper()
    first = addresses.create(*shopper.ids, GOOD, actor=SUBSCRIBER)
    again = addresses.create(
        *shopper.ids,
        GOOD | {"first_name": "ADA", "city": " london ", "country_code": "gb"},
        actor=SUBSCRIBER,
    )
    assert again.id == first.id
    assert count_addresses(shopper.customer.id) == 3  # home, office and this one
    assert count_events("address.create") == 1


def test_a_removed_identical_address_is_not_brought_back(app):
    shopper = make_shopper()
    removed = addresses.create(*shopper.ids, GOOD, actor=SUBSCRIBER)
    removed.live = False
    db.session.commit()
    fresh = addresses.create(*shopper.ids, GOOD, actor=SUBSCRIBER)
    assert fresh.id != removed.id and fresh.live


def test_the_address_checkout_stored_is_the_one_reused(app):
    shopper = make_shopper()
    at_checkout = customers.match_address(shopper.customer, GOOD, actor=SUBSCRIBER)
    db.session.commit()
    assert addresses.create(*shopper.ids, GOOD, actor=SUBSCRIBER).id == at_checkout.id


def test_another_customers_identical_address_is_not_theirs(app):
    shopper, neighbour = make_shopper(), make_shopper()
    theirs = addresses.create(*neighbour.ids, GOOD, actor=SUBSCRIBER)
    mine = addresses.create(*shopper.ids, GOOD, actor=SUBSCRIBER)
    assert mine.id != theirs.id and mine.customer_id == shopper.customer.id


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"first_name": "", "city": "   ", "country_code": None},
            {"first_name": "Required", "city": "Required", "country_code": "Required"},
        ),
        ({"last_name": "x" * 101}, {"last_name": "At most 100 characters"}),
        ({"address2": "y" * 201}, {"address2": "At most 200 characters"}),
        ({"country_code": "ZZ"}, {"country_code": "A two-letter country code, such as US"}),
        ({"country_code": "UK"}, {"country_code": "A two-letter country code, such as US"}),
        ({"country_code": "GBR"}, {"country_code": "At most 2 characters"}),
        (
            {"zip_postal_code": "SW1Y;4JH"},
            {"zip_postal_code": "Letters, digits, spaces and hyphens only"},
        ),
        ({"phone": "call me"}, {"phone": "A phone number: digits, spaces and + ( ) - ."}),
        ({"phone": "+1 2"}, {"phone": "A phone number: digits, spaces and + ( ) - ."}),
        ({"city": "Lon\x00don"}, {"city": "Must not contain control characters"}),
        ({"address": "12 Main St\nApt 4"}, {"address": "Must not contain control characters"}),
        ({"zip_postal_code": 10004}, {"zip_postal_code": "Must be text"}),
    ],
)
def test_bad_fields_are_named_and_nothing_is_written(app, changes, expected):
    shopper = make_shopper()
    with pytest.raises(ValidationError) as refused:
        addresses.create(*shopper.ids, GOOD | changes, actor=SUBSCRIBER)
    assert refused.value.fields == expected
    assert refused.value.message.startswith("Please check the address: ")
    assert count_addresses(shopper.customer.id) == 2
    assert count_events("address.create") == 0


def test_optional_fields_may_be_left_out_and_a_phone_may_have_an_extension(app):
    shopper = make_shopper()
    bare = {k: GOOD[k] for k in addresses.REQUIRED}
    assert addresses.create(*shopper.ids, bare, actor=SUBSCRIBER).phone is None
    with_ext = addresses.create(
        *shopper.ids, GOOD | {"phone": "(518) 555-0100 ext. 12"}, actor=SUBSCRIBER
    )
    assert with_ext.phone == "(518) 555-0100 ext. 12"


def test_another_merchants_customer_is_not_found(app):
    shopper = make_shopper()
    with pytest.raises(NotFound):
        addresses.create(make_merchant().id, shopper.customer.id, GOOD, actor=SUBSCRIBER)
    assert count_addresses(shopper.customer.id) == 2


def test_without_commit_the_caller_decides(app):
    shopper = make_shopper()
    address = addresses.create(*shopper.ids, GOOD, actor=SUBSCRIBER, commit=False)
    assert address.id is not None
    db.session.rollback()
    assert count_addresses(shopper.customer.id) == 2
    assert count_events("address.create") == 0


def test_ship_one_subscription_to_a_new_address(app):
    shopper = make_shopper()
    sub, neighbour = subscribe(shopper), subscribe(shopper)

    address = addresses.ship_to_new(
        *shopper.ids, GOOD, subscription=sub.public_id, for_all=False, actor=SUBSCRIBER
    )

    db.session.rollback()  # all committed
    assert sub.shipping_address_id == address.id
    assert upcoming(sub).shipping_address_id == address.id
    assert neighbour.shipping_address_id == shopper.home.id
    assert upcoming(neighbour).shipping_address_id == shopper.home.id
    event = last_event("subscription.change_shipping_address")
    assert event.after["shipping_address"] == address.public_id
    assert count_events("address.create") == 1


def test_ship_all_subscriptions_to_a_new_address(app):
    shopper = make_shopper()
    a, b = subscribe(shopper), subscribe(shopper, on=date(2030, 3, 1))

    address = addresses.ship_to_new(
        *shopper.ids, GOOD, subscription=None, for_all=True, actor=SUBSCRIBER
    )

    db.session.expire_all()
    assert a.shipping_address_id == b.shipping_address_id == address.id
    assert {upcoming(a).shipping_address_id, upcoming(b).shipping_address_id} == {address.id}
    assert count_events("subscription.change_shipping_address") == 2


def test_another_customers_subscription_is_not_found_and_no_address_is_added(app):
    shopper = make_shopper()
    neighbour = make_shopper(shopper.merchant)
    theirs = subscribe(neighbour)
    before = snapshot(theirs, upcoming(theirs))
    with pytest.raises(NotFound):
        addresses.ship_to_new(
            *shopper.ids, GOOD, subscription=theirs.public_id, for_all=False, actor=SUBSCRIBER
        )
    assert snapshot(theirs, upcoming(theirs)) == before
    assert count_addresses(shopper.customer.id) == 2
    assert count_addresses(neighbour.customer.id) == 2


def test_refused_by_an_order_being_placed_the_address_is_not_added_either(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    upcoming(sub).status = OrderStatus.SEND_NOW
    db.session.commit()
    for_all = subscribe(shopper, on=date(2030, 3, 1))
    for subscription, every in ((sub.public_id, False), (for_all.public_id, True)):
        with pytest.raises(Conflict, match="being placed"):
            addresses.ship_to_new(
                *shopper.ids, GOOD, subscription=subscription, for_all=every, actor=SUBSCRIBER
            )
        assert count_addresses(shopper.customer.id) == 2
    assert count_events("address.create") == 0
    assert {sub.shipping_address_id, for_all.shipping_address_id} == {shopper.home.id}


def test_bad_fields_are_refused_before_the_subscription_is_looked_up(app):
    shopper = make_shopper()
    with pytest.raises(ValidationError) as refused:
        addresses.ship_to_new(
            *shopper.ids, GOOD | {"city": ""}, subscription="nope", for_all=False, actor=SUBSCRIBER
        )
    assert refused.value.fields == {"city": "Required"}


def test_a_cancelled_subscription_gets_no_new_address(app):
    shopper = make_shopper()
    sub = subscribe(shopper)
    sub.live = False
    db.session.commit()
    with pytest.raises(Conflict, match="cancelled"):
        addresses.ship_to_new(
            *shopper.ids, GOOD, subscription=sub.public_id, for_all=False, actor=SUBSCRIBER
        )
    assert count_addresses(shopper.customer.id) == 2
