"""Customers, their addresses and payment methods: matched on what the store sends, never doubled.

* A customer is the merchant's ``user_id`` (``merchant_user_id``); a repeat updates the contact
  details that were sent and leaves the others.
* An address is matched on a digest of its normalised fields (case and spacing ignored), so the
  same address sent twice is one row.
* A payment method is matched on its gateway ``token_id``; a repeat refreshes its card fields.
  Card fields arrive AES-encrypted (contracts §0.3) and are stored encrypted; only the expiry
  month and year are kept in the clear, for expiring-card notices.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.integrations import purchase_wire as pw
from app.models import Address, Customer, PaymentMethod
from app.services import events

CONTACT_LIMITS = {"email": 254, "phone_number": 50, "first_name": 200, "last_name": 200}
CONTACT_FIELDS = tuple(CONTACT_LIMITS)
ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "address",
    "address2",
    "city",
    "state_province_code",
    "zip_postal_code",
    "country_code",
    "phone",
)
ADDRESS_LIMITS = {
    "address": 300,
    "address2": 300,
    "state_province_code": 50,
    "zip_postal_code": 20,
    "country_code": 2,
    "phone": 50,
}


def get_by_user_id(merchant_id: int, user_id: str) -> Customer | None:
    return db.session.scalar(
        select(Customer).where(
            Customer.merchant_id == merchant_id, Customer.merchant_user_id == user_id
        )
    )


def match_customer(
    merchant_id: int,
    user_id: str,
    contact: Mapping[str, str | None],
    *,
    actor: events.Actor,
    extra_data: dict | None = None,
) -> Customer:
    """The customer with this ``user_id``, created or updated with the details given."""
    customer = get_by_user_id(merchant_id, user_id)
    given: dict[str, Any] = {k: v for k, v in contact.items() if k in CONTACT_FIELDS and v}
    if extra_data:
        given["extra_data"] = extra_data
    if customer is None:
        return add(merchant_id, user_id, given, actor=actor)
    change(customer, given, "customer.update", actor)
    return customer


def add(
    merchant_id: int, user_id: str, values: Mapping[str, Any], *, actor: events.Actor
) -> Customer:
    """A new customer with ``values``, flushed, and its ``customer.create`` event."""
    customer = Customer(merchant_id=merchant_id, merchant_user_id=user_id, **values)
    db.session.add(customer)
    db.session.flush()
    events.record(
        merchant_id,
        "customer.create",
        actor,
        object_type="customer",
        object_id=customer.public_id,
        customer_id=customer.id,
        after={"user_id": user_id, **values},
    )
    return customer


def change(customer: Customer, values: Mapping[str, Any], type_: str, actor: events.Actor) -> None:
    """Set ``values`` on the customer and record what changed (nothing changed: no event)."""
    before = {key: getattr(customer, key) for key in values}
    for key, value in values.items():
        setattr(customer, key, value)
    old, new = events.diff(before, dict(values))
    if new or old:
        events.record(
            customer.merchant_id,
            type_,
            actor,
            object_type="customer",
            object_id=customer.public_id,
            customer_id=customer.id,
            before=old,
            after=new,
        )


def address_fields(value: Any, label: str) -> dict[str, str | None] | None:
    """An address object as a store sends it (purchase POST, payment update), each field
    checked; None when absent or empty. ``purchase_wire.Unusable`` names what is wrong."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise pw.Unusable(f"{label} must be an object")
    fields = {
        key: pw.text(value, key, f"{label}.{key}", limit=ADDRESS_LIMITS.get(key, 200))
        for key in ADDRESS_FIELDS
    }
    if not any(fields.values()):
        return None
    if fields.get("country_code"):
        fields["country_code"] = fields["country_code"].upper()
        if not re.fullmatch(r"[A-Z]{2}", fields["country_code"]):
            raise pw.Unusable(f"{label}.country_code must be a two-letter country code such as US")
    return fields


def fingerprint(fields: Mapping[str, str | None]) -> str:
    normal = "|".join(" ".join(str(fields.get(k) or "").lower().split()) for k in ADDRESS_FIELDS)
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def match_address(
    customer: Customer, fields: Mapping[str, str | None], *, actor: events.Actor
) -> Address:
    """The customer's address with these fields, created when new."""
    values = {k: fields.get(k) or None for k in ADDRESS_FIELDS}
    digest = fingerprint(values)
    address = db.session.scalar(
        select(Address).where(Address.customer_id == customer.id, Address.fingerprint == digest)
    )
    if address is None:
        address = Address(
            merchant_id=customer.merchant_id, customer_id=customer.id, fingerprint=digest, **values
        )
        db.session.add(address)
        db.session.flush()
        events.record(
            customer.merchant_id,
            "address.create",
            actor,
            object_type="address",
            object_id=address.public_id,
            customer_id=customer.id,
            after={k: v for k, v in values.items() if v},
        )
    return address


def match_payment(
    customer: Customer, card: Mapping[str, Any], *, billing: Address | None, actor: events.Actor
) -> PaymentMethod:
    """The customer's payment method for ``card["token_id"]``, created or refreshed.

    ``card`` holds ``token_id``, ``cc_type`` (int or None), ``payment_method``, the encrypted
    ``cc_exp_date_enc``/``cc_holder_enc``/``cc_last4_enc`` and ``expiry_month``/``expiry_year``.
    """
    payment = db.session.scalar(
        select(PaymentMethod).where(
            PaymentMethod.customer_id == customer.id, PaymentMethod.token_id == card["token_id"]
        )
    )
    fields = {
        k: card.get(k)
        for k in (
            "cc_type",
            "payment_method",
            "cc_exp_date_enc",
            "cc_holder_enc",
            "cc_last4_enc",
            "expiry_month",
            "expiry_year",
        )
        if card.get(k) is not None
    }
    if billing is not None:
        fields["billing_address_id"] = billing.id
    if payment is None:
        payment = PaymentMethod(
            merchant_id=customer.merchant_id,
            customer_id=customer.id,
            token_id=card["token_id"],
            **fields,
        )
        db.session.add(payment)
        db.session.flush()
        events.record(
            customer.merchant_id,
            "payment.create",
            actor,
            object_type="payment",
            object_id=payment.public_id,
            customer_id=customer.id,
            after=_masked(payment),
        )
        return payment
    before = _masked(payment)
    for key, value in fields.items():
        setattr(payment, key, value)
    old, new = events.diff(before, _masked(payment))
    if new:
        events.record(
            customer.merchant_id,
            "payment.update",
            actor,
            object_type="payment",
            object_id=payment.public_id,
            customer_id=customer.id,
            before=old,
            after=new,
        )
    return payment


def _masked(payment: PaymentMethod) -> dict[str, Any]:
    """What the event log may hold about a card: never the token or encrypted fields."""
    return {
        "cc_type": payment.cc_type,
        "payment_method": payment.payment_method,
        "expiry": f"{payment.expiry_month:02d}/{payment.expiry_year}"
        if payment.expiry_month
        else None,
    }


def customer_dict(customer: Customer) -> dict[str, Any]:
    return {
        "public_id": customer.public_id,
        "merchant_user_id": customer.merchant_user_id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "phone_number": customer.phone_number,
        "extra_data": customer.extra_data or {},
        "locale": customer.locale,
        "price_code": customer.price_code,
        "live": customer.live,
        "created": customer.created_at.isoformat(),
        "updated": customer.updated_at.isoformat(),
    }


def address_dict(address: Address) -> dict[str, Any]:
    return {
        "public_id": address.public_id,
        **{k: getattr(address, k) for k in ADDRESS_FIELDS},
        "live": address.live,
    }


def payment_dict(payment: PaymentMethod) -> dict[str, Any]:
    """A payment method as the API shows it: masked, no token, no ciphertext."""
    return {
        "public_id": payment.public_id,
        "payment_method": payment.payment_method,
        "cc_type": payment.cc_type,
        "cc_exp_date": f"{payment.expiry_month:02d}/{payment.expiry_year}"
        if payment.expiry_month
        else None,
        "live": payment.live,
    }
