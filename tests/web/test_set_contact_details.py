"""Set Contact Details (contracts §7.1, T9): every response, both scopes, the official
integrations' quirks (SFCC's string ts in a pretty-printed header, Magento's ``\\/`` and "N/A"),
tenant and customer isolation, and the change reaching the event log and the next order XML."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.integrations import signing
from app.models import Customer, Event
from app.services import contact_details
from tests.factories import make_api_key, make_customer, make_merchant

T1_KEY = "Mt!ZQ45q&GHsgiRD8{NB-_h87#rjvbn0"
USER = "DC69410241"


@pytest.fixture
def merchant(app):
    return make_merchant(hash_key=T1_KEY)


@pytest.fixture
def customer(merchant):
    return make_customer(merchant, USER)


def url(user_id: str = USER, slash: str = "") -> str:
    return f"/customers/{user_id}/set_contact_details{slash}"


def signed(merchant, user_id: str = USER) -> dict[str, str]:
    return {"Authorization": signing.build_auth_header(merchant.public_id, T1_KEY, user_id)}


def body(shop, **changes) -> str:
    return json.dumps(
        {
            "email": "new@example.com",
            "merchant": shop.public_id,
            "merchant_user_id": USER,
            "phone_number": "555-555-5555",
            **changes,
        }
    )


def patch(client, merchant, data, headers, path=None):
    return client.patch(
        path or url(), data=data, headers={"Content-Type": "application/json", **headers}
    )


def stored(customer) -> tuple:
    db.session.expire_all()
    found = db.session.get(Customer, customer.id)
    return found.email, found.phone_number


@pytest.mark.parametrize("slash", ["", "/"])
def test_t9_signed_header_sets_email_and_phone(client, merchant, customer, slash):
    response = patch(client, merchant, body(merchant), signed(merchant), url(slash=slash))
    assert response.status_code == 200
    assert response.get_json() == {"phone_number": "555-555-5555", "email": "new@example.com"}
    assert stored(customer) == ("new@example.com", "555-555-5555")
    event = Event.query.filter_by(type="customer.set_contact_details").one()
    assert event.actor_type == "subscriber" and event.after == {
        "email": "new@example.com",
        "phone_number": "555-555-5555",
    }


def test_t9_unknown_customer_bad_signature_and_bad_email(client, merchant, customer):
    unknown = patch(client, merchant, body(merchant), signed(merchant, "NOPE"), url("NOPE"))
    assert (unknown.status_code, unknown.get_json()) == (
        404,
        {"detail": "Unable to find requested asset."},
    )
    header = json.loads(signed(merchant)["Authorization"])
    header["sig"] = "x" + header["sig"][1:]
    bad_sig = patch(client, merchant, body(merchant), {"Authorization": json.dumps(header)})
    assert (bad_sig.status_code, bad_sig.get_json()) == (403, {"detail": "Authentication Failed"})
    bad_email = patch(client, merchant, body(merchant, email="not-an-email"), signed(merchant))
    assert bad_email.status_code == 400
    assert set(bad_email.get_json()) == {"email"} and bad_email.get_json()["email"]
    assert stored(customer) == (customer.email, customer.phone_number)


def test_an_api_key_sets_any_customer_of_its_merchant(client, merchant, customer):
    key = make_api_key(merchant)
    response = patch(client, merchant, body(merchant), {"x-api-key": key})
    assert response.status_code == 200
    assert Event.query.filter_by(type="customer.set_contact_details").one().actor_type == "api"


def test_sfcc_string_ts_in_a_pretty_printed_header_and_no_phone(client, merchant, customer):
    """The header's JSON indented over lines, as the server hands it on once unfolded."""
    ts = int(time.time())
    header = json.dumps(
        {
            "public_id": merchant.public_id,
            "ts": str(ts),
            "sig_field": USER,
            "sig": signing.sign(T1_KEY, USER, ts),
        },
        indent=4,
    ).replace("\n", " ")
    data = json.dumps({"email": "sfcc@example.com", "merchant": merchant.public_id})
    customer.phone_number = "518-555-0100"
    db.session.commit()
    response = patch(client, merchant, data, {"Authorization": header})
    assert response.status_code == 200
    assert stored(customer) == ("sfcc@example.com", "518-555-0100")  # phone left as it was


def test_magento_escaped_slash_and_na_phone(client, merchant, customer):
    header = signed(merchant)["Authorization"].replace("/", "\\/")
    customer.phone_number = "518-555-0100"
    db.session.commit()
    response = patch(
        client, merchant, body(merchant, phone_number="N/A"), {"Authorization": header}
    )
    assert response.status_code == 200
    assert response.get_json() == {"phone_number": None, "email": "new@example.com"}


def test_one_customers_signature_never_changes_another(client, merchant, customer):
    other = make_customer(merchant, "DC00000002")
    response = patch(client, merchant, body(merchant), signed(merchant), url("DC00000002"))
    assert response.status_code == 404
    assert stored(other) == (other.email, other.phone_number)


def test_another_merchants_key_or_signature_never_reaches_this_customer(client, merchant, customer):
    stranger = make_merchant()
    key = make_api_key(stranger)
    assert patch(client, merchant, body(merchant), {"x-api-key": key}).status_code == 404
    forged = {"Authorization": signing.build_auth_header(stranger.public_id, T1_KEY, USER)}
    assert patch(client, merchant, body(merchant), forged).status_code == 403
    assert stored(customer) == (customer.email, customer.phone_number)


def test_body_for_another_merchant_or_customer_is_refused(client, merchant, customer):
    other = patch(client, merchant, body(merchant, merchant="someone-else"), signed(merchant))
    assert (other.status_code, other.get_json()) == (403, {"detail": "Authentication Failed"})
    mismatch = patch(client, merchant, body(merchant, merchant_user_id="X1"), signed(merchant))
    assert mismatch.status_code == 400 and "merchant_user_id" in mismatch.get_json()
    for data in ("not json", "[1, 2]"):
        refused = patch(client, merchant, data, signed(merchant))
        assert refused.status_code == 400, data
    assert stored(customer) == (customer.email, customer.phone_number)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("a@example.com", "a@example.com"),
        (" Jane.Doe+tag@Example.COM ", "Jane.Doe+tag@example.com"),
        ("ines@münchen.de", "ines@münchen.de"),
    ],
)
def test_email_kept_as_sent_with_the_domain_in_lower_case(value, expected):
    assert contact_details.email(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "a",
        "a@b",
        "a@@b.com",
        "a b@c.com",
        "a@-b.com",
        "a@b_c.com",
        "a@b.c",
        42,
        "x" * 65 + "@b.co",
    ],
)
def test_bad_emails_are_refused(value):
    with pytest.raises(ValueError):
        contact_details.email(value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("555-555-5555", "555-555-5555"),
        ("  +1 (518)   555-0100 ", "+1 (518) 555-0100"),
        (5185550100, "5185550100"),
        ("N/A", None),
        ("", None),
        (None, None),
    ],
)
def test_phone_normalised(value, expected):
    assert contact_details.phone(value) == expected


@pytest.mark.parametrize("value", ["12345", "1" * 16, "555-CALL-NOW", "5+55-555-5555", [1]])
def test_bad_phones_are_refused(value):
    with pytest.raises(ValueError):
        contact_details.phone(value)


def test_the_new_email_is_in_the_next_order_xml(client, merchant):
    from datetime import date

    from app.integrations.xml import order as order_xml
    from app.services import order_documents
    from tests.placementkit import make_due_order

    order = make_due_order(merchant, date(2030, 1, 10), user_id=USER)
    response = patch(client, merchant, body(merchant), signed(merchant))
    assert response.status_code == 200
    db.session.expire_all()
    xml = order_xml.build_order(order_documents.build(order, merchant, as_of=date(2030, 1, 10)))
    assert b"<customerEmail><![CDATA[new@example.com]]></customerEmail>" in xml


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "email": JSONISH | st.emails(),
            "phone_number": JSONISH | st.from_regex(r"\+?[0-9 ()-]{5,20}", fullmatch=True),
            "merchant_user_id": JSONISH,
            "extra": JSONISH,
        },
    )
)
def test_generated_bodies_get_200_or_a_field_error_and_nothing_half_written(
    client, merchant, customer, data
):
    before = stored(customer)
    response = patch(client, merchant, json.dumps(data), signed(merchant))
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert stored(customer) == before
        assert set(response.get_json()) <= {
            "email",
            "phone_number",
            "merchant_user_id",
            "non_field_errors",
        }
    else:
        assert response.get_json() == dict(
            zip(("email", "phone_number"), stored(customer), strict=True)
        )
