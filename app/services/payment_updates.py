"""The legacy default-payment update (contracts §7.2): ``POST /customer/update_payment_default``.

The body is ``update_request=<JSON>``, each value URL-encoded (Magento encodes only ``sig`` and
the AES fields) or the whole JSON encoded; the authentication is inside it: ``user.user_id``,
``user.ts`` and ``user.sig``, the T1 signature of the user id, fresh for two hours. The answer
is one line of text: ``SUCCESS``, or what is wrong in the contract's words. On any error
nothing is updated.

What it does (decided where the contracts are silent; docs/customer-api.md):

* With a ``token_id``: the customer's payment method of that token, created, or its card
  details refreshed. Without one: the payment method the customer's live subscriptions use
  (the most recent subscription's) gets the new card details.
* That payment method then pays for every live subscription of the customer, and their
  upcoming orders follow (``shipping_payment.use_payment_for_all``). An upcoming order being
  placed refuses the whole update: send it again a few minutes later.
* ``billing`` is matched or added as at checkout and becomes the card's billing address.
* ``label`` is accepted and not kept; ``card_type`` is the card's type (1 to 4 by
  Ordergroove's numbering, any number the merchant maps up to 99). Any other payment field,
  a card number first of all, is refused: "<store> is not configured to accept <field>".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.integrations import purchase_wire as pw
from app.integrations import signing
from app.models import PaymentMethod, Subscription
from app.services import cards, customers, events, merchants, shipping_payment
from app.services.errors import Conflict

ACCEPTED = frozenset(
    {"label", "card_type", "cc_exp_date", "cc_last_4", "cc_holder", "token_id", "billing"}
    | {"payment_method"}
)
SOURCE = "update_payment_default"


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


SUCCESS = Answer(200, "SUCCESS")
INVALID_REQUEST = Answer(400, "Invalid Request")


def update(raw: bytes) -> Answer:
    """Apply one legacy payment update; the answer to send (see the module docstring)."""
    try:
        data = pw.parse_body(raw, field="update_request")
    except pw.Unusable:
        return INVALID_REQUEST
    merchant_id = data.get("merchant_id")
    merchant = merchants.get_by_public_id(merchant_id) if isinstance(merchant_id, str) else None
    if merchant is None:
        return Answer(400, "Invalid Merchant")
    user, payment = data.get("user"), data.get("payment")
    if not isinstance(user, dict) or not isinstance(payment, dict):
        return INVALID_REQUEST
    user_id = user.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        return INVALID_REQUEST
    try:
        signing.verify_signature(merchant.hash_key, user_id, user.get("ts"), str(user.get("sig")))
    except signing.SignatureError:
        return Answer(403, "Authentication failed")
    customer = customers.get_by_user_id(merchant.id, user_id)
    if customer is None:
        return Answer(400, "Customer does not exist")
    refused = sorted(set(payment) - ACCEPTED)
    if refused or pw.holds_card_number(payment):
        field = "cc_number" if "cc_number" in refused or not refused else refused[0]
        return Answer(400, f"{merchant.name} is not configured to accept {field}")
    if not payment.get("token_id") and _in_use(customer.id) is None:
        return Answer(400, "Customer has no payment method to update; send a token_id")
    actor = events.Actor("signature", user_id[:64], SOURCE)
    try:
        _apply(merchant, customer, payment, actor)
    except cards.CardError as exc:
        db.session.rollback()
        return Answer(400, f"Could not decode {exc.field}")
    except pw.Unusable:
        db.session.rollback()
        return INVALID_REQUEST
    except Conflict as exc:
        db.session.rollback()
        return Answer(409, exc.message)
    return SUCCESS


def _apply(merchant, customer, payment: dict[str, Any], actor: events.Actor) -> None:
    card = cards.read(merchant, payment, type_key="card_type")
    billing_fields = customers.address_fields(payment.get("billing"), "billing")
    billing = (
        customers.match_address(customer, billing_fields, actor=actor) if billing_fields else None
    )
    if card["token_id"] is None:  # its card details, on the payment method in use
        card["token_id"] = _in_use(customer.id).token_id
    method = customers.match_payment(customer, card, billing=billing, actor=actor)
    shipping_payment.use_payment_for_all(
        merchant.id, customer.id, method.public_id, actor=actor
    )  # commits


def _in_use(customer_id: int) -> PaymentMethod | None:
    """The payment method of the customer's most recent live subscription."""
    return db.session.scalar(
        select(PaymentMethod)
        .join(Subscription, Subscription.payment_id == PaymentMethod.id)
        .where(Subscription.customer_id == customer_id, Subscription.live.is_(True))
        .order_by(Subscription.id.desc())
        .limit(1)
    )
