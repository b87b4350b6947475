"""The store's own orders: checkout validation, placement and look-ups."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime

from demo import payments
from demo.cart import CartError, Line, totals
from demo.customers import ADDRESS_FIELDS
from demo.db import get_db

REQUIRED = ("first_name", "last_name", "address", "city", "state_province_code", "zip_postal_code")
US_STATE_RE = re.compile(r"[A-Z]{2}")
ZIP_RE = re.compile(r"\d{5}(-\d{4})?")
MAX_FIELD_LENGTH = 100


def clean_address(form: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Return the shipping address from a form, and errors by field name (empty if valid)."""
    address = {field: form.get(field, "").strip() for field in ADDRESS_FIELDS}
    address["state_province_code"] = address["state_province_code"].upper()
    address["country_code"] = "US"  # the demo ships within the US only
    errors = {f: "Required." for f in REQUIRED if not address[f]}
    errors.update({f: "Too long." for f, v in address.items() if len(v) > MAX_FIELD_LENGTH})
    if address["state_province_code"] and not US_STATE_RE.fullmatch(address["state_province_code"]):
        errors["state_province_code"] = "Use the two-letter code, e.g. NY."
    if address["zip_postal_code"] and not ZIP_RE.fullmatch(address["zip_postal_code"]):
        errors["zip_postal_code"] = "Use a 5-digit ZIP code."
    return address, errors


def place(
    customer: sqlite3.Row, cart_lines: list[Line], address: Mapping[str, str], token: str
) -> str:
    """Charge the token, store the order with its lines and return its order number.

    :raises CartError: if the cart is empty or holds an item that can't be sold.
    :raises payments.PaymentDeclined: if the test token declines.
    """
    if not cart_lines:
        raise CartError("Your cart is empty.")
    unavailable = [line.product.name for line in cart_lines if not line.product.purchasable]
    if unavailable:
        raise CartError(f"Please remove {', '.join(unavailable)}: not available right now.")
    order_totals = totals(cart_lines)
    card = payments.charge(token, order_totals.total_cents)
    row = {
        "user_id": customer["user_id"],
        "email": customer["email"],
        "status": "paid",
        **{f"ship_{field}": address[field] for field in ADDRESS_FIELDS},
        **card_columns(card),
        "currency": order_totals.currency,
        "subtotal_cents": order_totals.subtotal_cents,
        "shipping_cents": order_totals.shipping_cents,
        "total_cents": order_totals.total_cents,
    }
    lines = [
        {
            "product_id": line.product.product_id,
            "sku": line.product.sku,
            "name": line.product.name,
            "quantity": line.quantity,
            "unit_price_cents": line.product.price_cents,
            "total_cents": line.total_cents,
        }
        for line in cart_lines
    ]
    db = get_db()
    with db:
        _, order_number = insert(db, row, lines)
    return order_number


def card_columns(card: payments.Card) -> dict[str, str]:
    return {
        "payment_token": card.token,
        "cc_type": card.cc_type,
        "cc_exp_date": card.exp_date,
        "card_label": card.label,
    }


def insert(
    db: sqlite3.Connection, row: Mapping[str, object], lines: list[Mapping[str, object]]
) -> tuple[int, str]:
    """Add an order and its lines inside the caller's transaction; return its id and number.

    ``row`` holds ``store_order`` columns but ``created_at`` and ``order_number``; ``lines``
    hold ``order_line`` columns but ``order_id``.
    """
    row = {**row, "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
    order_id = db.execute(
        f"INSERT INTO store_order ({', '.join(row)})"  # noqa: S608 - column names are ours
        f" VALUES ({', '.join('?' * len(row))})",
        tuple(row.values()),
    ).lastrowid
    order_number = f"FF{100000 + order_id}"
    db.execute("UPDATE store_order SET order_number = ? WHERE id = ?", (order_number, order_id))
    for line in lines:
        db.execute(
            f"INSERT INTO order_line (order_id, {', '.join(line)})"  # noqa: S608 - ours
            f" VALUES (?, {', '.join('?' * len(line))})",
            (order_id, *line.values()),
        )
    return order_id, order_number


def get(order_number: str, user_id: str) -> sqlite3.Row | None:
    """Return the customer's order with this number, or None (also for other customers')."""
    return (
        get_db()
        .execute(
            "SELECT * FROM store_order WHERE order_number = ? AND user_id = ?",
            (order_number, user_id),
        )
        .fetchone()
    )


def get_by_number(order_number: str) -> sqlite3.Row | None:
    return (
        get_db()
        .execute("SELECT * FROM store_order WHERE order_number = ?", (order_number,))
        .fetchone()
    )


def lines(order_id: int) -> list[sqlite3.Row]:
    return (
        get_db()
        .execute("SELECT * FROM order_line WHERE order_id = ? ORDER BY id", (order_id,))
        .fetchall()
    )


def for_customer(user_id: str) -> list[sqlite3.Row]:
    """Return the customer's orders, newest first, with their item counts."""
    return (
        get_db()
        .execute(
            "SELECT o.*, (SELECT SUM(quantity) FROM order_line WHERE order_id = o.id) AS items"
            " FROM store_order o WHERE user_id = ? ORDER BY id DESC",
            (user_id,),
        )
        .fetchall()
    )
