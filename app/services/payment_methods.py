"""A customer's payment methods over REST (contracts §7.2's REST alternatives):
``POST /payments/create/`` and ``PATCH /payments/<id>/update/``.

The body is the checkout's payment object (contracts §5.2): the gateway's ``token_id``, the
card type ``cc_type``, the AES-encrypted ``cc_exp_date``, ``cc_holder`` and ``cc_last_4``
(decrypted once to check them, stored encrypted) and ``payment_method``; ``create`` may add a
``billing_address``. A card number anywhere in the body is refused, as at checkout. ``create``
with a token the customer already has refreshes that payment method (one token, one payment
method, as at checkout). ``update`` changes the fields given; a new token must not be another
payment method's of the customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.integrations import purchase_wire as pw
from app.models import Customer, Merchant, PaymentMethod
from app.services import cards, customers, events
from app.services import subscriber_scope as scope
from app.services.errors import Conflict, ValidationError

NO_CARD_NUMBERS = "Send the payment gateway's token_id, never a card number."


def create(
    merchant: Merchant, customer: Customer, body: Mapping[str, Any], *, actor: events.Actor
) -> PaymentMethod:
    card = _card(merchant, body)
    if not card["token_id"]:
        raise ValidationError(
            "token_id is required.", fields={"token_id": "This field is required."}
        )
    billing_fields = _billing(body)
    billing = (
        customers.match_address(customer, billing_fields, actor=actor) if billing_fields else None
    )
    payment = customers.match_payment(customer, card, billing=billing, actor=actor)
    db.session.commit()
    return payment


def update(
    merchant: Merchant,
    customer_id: int | None,
    public_id: Any,
    body: Mapping[str, Any],
    *,
    actor: events.Actor,
) -> PaymentMethod:
    payment = scope.payment(merchant.id, customer_id, public_id)
    card = _card(merchant, body)
    token = card.pop("token_id")
    if token and token != payment.token_id:
        taken = db.session.scalar(
            select(PaymentMethod.public_id).where(
                PaymentMethod.customer_id == payment.customer_id, PaymentMethod.token_id == token
            )
        )
        if taken is not None:
            raise Conflict(f"The customer has a payment method with that token: {taken}.")
    card["token_id"] = token or payment.token_id
    if "payment_method" not in body:
        card.pop("payment_method")  # read() fills a default: keep what is there
    before = customers.payment_dict(payment) | {"token": payment.token_id}
    for key, value in card.items():
        setattr(payment, key, value)
    after = customers.payment_dict(payment) | {"token": payment.token_id}
    old, new = events.diff(before, after)
    if new or old:
        events.record(
            merchant.id,
            "payment.update",
            actor,
            object_type="payment",
            object_id=payment.public_id,
            customer_id=payment.customer_id,
            before={k: v for k, v in old.items() if k != "token"},
            after={k: ("changed" if k == "token" else v) for k, v in new.items()},
        )
    db.session.commit()
    return payment


def _card(merchant: Merchant, body: Mapping[str, Any]) -> dict[str, Any]:
    if pw.holds_card_number(body):
        raise ValidationError(NO_CARD_NUMBERS, fields={"non_field_errors": NO_CARD_NUMBERS})
    try:
        return cards.read(merchant, body)
    except cards.CardError as exc:
        raise ValidationError(exc.message, fields={exc.field: exc.message}) from None
    except pw.Unusable as exc:
        raise ValidationError(str(exc), fields={"non_field_errors": str(exc)}) from None


def _billing(body: Mapping[str, Any]) -> dict[str, str | None] | None:
    try:
        return customers.address_fields(body.get("billing_address"), "billing_address")
    except pw.Unusable as exc:
        raise ValidationError(str(exc), fields={"billing_address": str(exc)}) from None
