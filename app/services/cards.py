"""A payment method as a store sends it: the gateway's token and the AES-encrypted card fields
(contracts §0.3), read for the purchase POST (§5.2 ``payment``) and the legacy default-payment
update (§7.2), and checked by decrypting them; they are stored encrypted, never in plain text.

``read`` returns what ``customers.match_payment`` takes, or raises ``CardError`` naming the
field that is wrong (each caller words it in its own contract: a JSON 400 at checkout, a line
of text for the legacy update).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from app.integrations import purchase_wire as pw
from app.integrations import signing
from app.models import Merchant

ENCRYPTED_LIMITS = {"cc_exp_date": 200, "cc_holder": 400, "cc_last_4": 200}  # their columns
EXPIRY_RE = re.compile(r"(0[1-9]|1[0-2])/([0-9]{4})")


class CardError(ValueError):
    """``field`` cannot be used; ``message`` says why, in the purchase POST's words."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def read(
    merchant: Merchant, value: Mapping[str, Any], *, type_key: str = "cc_type"
) -> dict[str, Any]:
    """The token (if any), the card type (``type_key``: ``cc_type`` at checkout, ``card_type``
    in the legacy update), the payment method and the encrypted fields, each decrypted once
    to check it. Field readers' ``pw.Unusable`` passes through."""
    card: dict[str, Any] = {
        "token_id": pw.text(value, "token_id", "token_id", limit=500),
        "payment_method": pw.text(value, "payment_method", "payment_method", limit=32)
        or "credit card",
    }
    kind = value.get(type_key)
    if kind not in (None, ""):
        try:
            card["cc_type"] = pw.line_int(kind, type_key, 1, 99)
        except ValueError as exc:
            raise CardError(type_key, str(exc)) from None
    expiry = _encrypted(merchant, value, "cc_exp_date")
    if expiry is not None:
        plain, card["cc_exp_date_enc"] = expiry
        match = EXPIRY_RE.fullmatch(plain)
        if not match:
            raise CardError("cc_exp_date", f"Expiration date is not valid, received: {plain[:10]}")
        card["expiry_month"], card["expiry_year"] = int(match.group(1)), int(match.group(2))
    holder = _encrypted(merchant, value, "cc_holder")
    if holder is not None:
        card["cc_holder_enc"] = holder[1]
    last4 = _encrypted(merchant, value, "cc_last_4")
    if last4 is not None:
        if not re.fullmatch(r"[0-9]{4}", last4[0]):
            raise CardError("cc_last_4", "cc_last_4 must encrypt four digits")
        card["cc_last4_enc"] = last4[1]
    return card


def _encrypted(merchant: Merchant, value: Mapping[str, Any], key: str) -> tuple[str, str] | None:
    raw = pw.text(value, key, key, limit=ENCRYPTED_LIMITS[key], numbers=False)
    if raw is None:
        return None
    cipher = unquote(raw) if "%" in raw else raw
    try:
        return signing.decrypt_field(merchant.hash_key, cipher), cipher
    except signing.EncryptionError:
        raise CardError(key, "The credit card encryption is not valid") from None
