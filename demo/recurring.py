"""The store's order endpoint: recurring orders that Perennial places (contracts §6).

``POST {STORE_URL}/og/orders`` (``demo.views.recurring``) checks like a strict official receiver
(contracts §6.2, §11), in this order: the store knows its merchant id and hash key;
``Content-Type`` is exactly ``application/xml`` (as Magento); the body is at most 1 MiB; the
JSON ``Authorization`` header names this store's ``public_id``, has ``ts`` as a JSON number no
more than 2 hours old (nor 5 minutes ahead) and ``sig`` equal, as plain base64 in constant time,
to base64(HMAC-SHA256(hash key, ``sig_field|ts``)); the XML is well-formed without DTD or
entities, complete, its totals add up (``demo.order_xml``); and ``sig_field`` is the body's
``customerPartnerId`` (as SFCC). A failure is answered ERROR 999 with the reason.

A repeated ``orderPublicId`` then creates nothing and is answered SUCCESS with the same
``orderId``; the primary key of ``recurring_order`` holds this for concurrent POSTs too.
Otherwise: an unknown customer (by ``customerPartnerId``, then ``customerEmail``), product or
currency is 999, an unreadable or past ``orderCcExpire`` 120, the store admin switch (``MODES``)
or a declining test token (``demo.payments``) 140 / 160 / 110 / 999. Declines create nothing, so
a retry may succeed. Else the store order is created (status ``recurring``) and SUCCESS
answered with its number. Every POST and its answer is logged for the store admin page. The
replies are HTTP 200 either way, as the official receivers answer.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app

from demo import catalog, customers, order_xml, orders, payments, settings, signing
from demo.customers import ADDRESS_FIELDS
from demo.db import get_db

MODES: dict[str, str] = {
    "accept": "Accept",
    "decline_140": "Decline 140 (card declined)",
    "decline_160": "Decline 160 (do not retry)",
    "decline_110": "Decline 110 (invalid card)",
    "decline_999": "999 (temporary problem)",
    "unreadable": "Unreadable reply (HTML page)",
    "stall": "Stall 10 s, then accept",
    "verify_later": "Accept, reply SUCCESS with responseCode 010 (verify later)",
}
MODE_SETTING = "recurring_orders"
SWITCH_DECLINES = {
    "decline_140": ("140", "Your card was declined. (store admin switch)"),
    "decline_160": ("160", "Your card was declined: do not retry. (store admin switch)"),
    "decline_110": ("110", "The credit card number provided is not valid. (store admin switch)"),
    "decline_999": (
        "999",
        "A temporary problem kept the store from placing the order; try "
        "again later. (store admin switch)",
    ),
}
XML = "application/xml"
HTML = "text/html; charset=utf-8"
MAX_BODY_BYTES = 1024 * 1024
DELIVERIES_KEPT = 1000
STORE_CURRENCY = "USD"
EXPIRY_RE = re.compile(r"(\d{1,2})/(\d{4})")
UNREADABLE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Fern &amp; Fable: be right back</title></head>
<body><h1>We'll be right back</h1><p>The store is being updated. Please try again soon.</p>
</body></html>
"""


class UnknownMode(ValueError):
    """Not one of ``MODES``."""


class Refused(Exception):
    """The order is not placed; the reply carries ``code`` and the message."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "999",
        outcome: str = "refused",
        order: order_xml.RecurringOrder | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.outcome, self.order = code, outcome, order


@dataclass(frozen=True)
class Reply:
    body: str
    content_type: str = XML


def mode() -> str:
    """The store admin switch for recurring orders (``accept`` unless set)."""
    value = settings.get(MODE_SETTING, "accept")
    return value if value in MODES else "accept"


def set_mode(value: str) -> None:
    """:raises UnknownMode: if ``value`` is not one of ``MODES``."""
    if value not in MODES:
        raise UnknownMode(
            f"Unknown recurring orders mode {value!r}: use one of {', '.join(MODES)}."
        )
    settings.put(MODE_SETTING, value)


def receive(content_type: str | None, authorization: str | None, body: bytes | None) -> Reply:
    """Answer one order placement POST; ``body`` is None when it exceeded MAX_BODY_BYTES."""
    try:
        order = _authentic(content_type, authorization, body)
    except Refused as refused:
        return _refuse(refused)
    switch = mode()
    if switch == "stall":
        time.sleep(current_app.config["RECURRING_STALL_SECONDS"])
    if switch == "unreadable":
        _log("unreadable", order, reason="Store admin switch: answered with an HTML page.")
        return Reply(UNREADABLE_PAGE, HTML)
    try:
        order_number, created = _place(order, switch)
    except Refused as refused:
        refused.order = order
        return _refuse(refused)
    if created:
        _log("accepted", order, reason=f"Created {order_number}.", order_number=order_number)
    else:
        _log(
            "repeat",
            order,
            order_number=order_number,
            reason=f"Already placed as {order_number}; nothing created.",
        )
    code = "010" if switch == "verify_later" else None
    return Reply(order_xml.success(order_number, response_code=code))


def _refuse(refused: Refused) -> Reply:
    _log(refused.outcome, refused.order, code=refused.code, reason=str(refused))
    return Reply(order_xml.error(refused.code, str(refused)))


def _authentic(
    content_type: str | None, authorization: str | None, body: bytes | None
) -> order_xml.RecurringOrder:
    """Return the order if the request proves the platform sent it for this customer."""
    config = current_app.config
    public_id, hash_key = config.get("MERCHANT_PUBLIC_ID"), config.get("MERCHANT_HASH_KEY")
    if not (public_id and hash_key):
        raise Refused("The store has no merchant id and hash key for Perennial configured.")
    if content_type != XML:
        raise Refused("Content-Type must be application/xml.")
    if body is None:
        raise Refused(f"The order XML is larger than {MAX_BODY_BYTES:,} bytes.")
    try:
        auth = signing.verify_authorization(
            authorization, public_id=public_id, hash_key=hash_key, now=time.time()
        )
        order = order_xml.parse(body)
    except (signing.SignatureRefused, order_xml.OrderXMLError) as exc:
        raise Refused(str(exc)) from None
    if auth.sig_field != order.customer_partner_id:
        raise Refused(
            "The signature's sig_field is not the order's customerPartnerId.", order=order
        )
    return order


def _place(order: order_xml.RecurringOrder, switch: str) -> tuple[str, bool]:
    """Return the order number for this order and whether it was created just now.

    :raises Refused: for unknown data, a declining switch or card; nothing is written.
    """
    existing = _order_number(order.public_id)
    if existing:
        return existing, False
    customer = _customer(order)
    lines = [_line(item) for item in order.items]
    if order.currency != STORE_CURRENCY:
        raise Refused(f"This store sells in {STORE_CURRENCY} only, not {order.currency}.")
    expiry = _expiry(order.cc_expire) if order.cc_expire else None
    if switch in SWITCH_DECLINES:
        code, message = SWITCH_DECLINES[switch]
        raise Refused(message, code=code, outcome="declined")
    try:
        card = payments.charge_renewal(order.token)
    except payments.PaymentDeclined as declined:
        raise Refused(str(declined), code=declined.code, outcome="declined") from None
    return _create(order, customer, lines, card, expiry or card.exp_date)


def _customer(order: order_xml.RecurringOrder) -> sqlite3.Row:
    found = customers.get(order.customer_partner_id)
    if found is None and order.customer_email:
        found = customers.find_by_email(order.customer_email)
    if found is None:
        raise Refused(f"Customer {order.customer_partner_id} is not a customer of this store.")
    return found


def _line(item: order_xml.Item) -> dict[str, Any]:
    product = (
        catalog.get(item.product_id)
        or catalog.get(item.sku)
        or catalog.get_by_sku(item.sku)
        or catalog.get_by_sku(item.product_id)
    )
    if product is None:
        raise Refused(f"Product {item.product_id or item.sku} is not sold by this store.")
    if not product.purchasable:
        raise Refused(f"{product.name} ({product.product_id}) is not available right now.")
    return {
        "product_id": product.product_id,
        "sku": product.sku,
        "name": product.name,
        "quantity": item.quantity,
        "total_cents": item.total_cents,
        "unit_price_cents": (item.total_cents + item.quantity // 2) // item.quantity,
        "one_time": int(item.one_time),
    }


def _expiry(encrypted: str) -> str:
    """Decrypt ``orderCcExpire`` to MM/YYYY, refusing (120) unreadable or past dates."""
    try:
        plain = signing.decrypt_field(current_app.config["MERCHANT_HASH_KEY"], encrypted)
    except ValueError:
        plain = ""
    match = EXPIRY_RE.fullmatch(plain)
    if not match or not 1 <= int(match[1]) <= 12:
        raise Refused(
            "The card's expiry date (orderCcExpire) could not be read.",
            code="120",
            outcome="declined",
        )
    month, year = int(match[1]), int(match[2])
    today = datetime.now(UTC).date()
    if (year, month) < (today.year, today.month):
        raise Refused(f"The card expired in {month:02d}/{year}.", code="120", outcome="declined")
    return f"{month:02d}/{year}"


def _address(order: order_xml.RecurringOrder, customer: sqlite3.Row) -> dict[str, str]:
    """The order's shipping address, or the customer's own when the order has none."""
    sent = order.shipping
    if not (sent["address"] and sent["city"]):
        sent = {field: customer[field] for field in ADDRESS_FIELDS}
    address = {field: sent[field] or "" for field in ADDRESS_FIELDS}
    for name in ("first_name", "last_name"):
        address[name] = address[name] or customer[name]
    address["country_code"] = address["country_code"] or "US"
    return address


def _create(
    order: order_xml.RecurringOrder,
    customer: sqlite3.Row,
    lines: list[dict[str, Any]],
    card: payments.Card,
    expiry: str,
) -> tuple[str, bool]:
    address = _address(order, customer)
    row = {
        "user_id": customer["user_id"],
        "email": customer["email"],
        "status": "recurring",
        **{f"ship_{field}": value for field, value in address.items()},
        **orders.card_columns(card),
        "cc_exp_date": expiry,
        "currency": order.currency,
        "subtotal_cents": order.subtotal_cents,
        "discount_cents": order.subtotal_discount_cents,
        "shipping_cents": order.shipping_cents,
        "tax_cents": order.sales_tax_cents,
        "total_cents": order.total_cents,
    }
    db = get_db()
    try:
        with db:
            db.execute("BEGIN IMMEDIATE")  # writers queue here; the loser then hits the key
            order_id, order_number = orders.insert(db, row, lines)
            db.execute(
                "INSERT INTO recurring_order (order_public_id, order_id, og_order_id,"
                " og_order_date, customer_partner_id, received_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    order.public_id,
                    order_id,
                    order.og_order_id,
                    order.og_date,
                    order.customer_partner_id,
                    _now(),
                ),
            )
    except sqlite3.IntegrityError:
        existing = _order_number(order.public_id)  # a concurrent POST of the same order won
        if existing is None:
            raise
        return existing, False
    return order_number, True


def _order_number(public_id: str) -> str | None:
    row = (
        get_db()
        .execute(
            "SELECT o.order_number FROM recurring_order r JOIN store_order o ON o.id = r.order_id"
            " WHERE r.order_public_id = ?",
            (public_id,),
        )
        .fetchone()
    )
    return row["order_number"] if row else None


def _log(
    outcome: str,
    order: order_xml.RecurringOrder | None,
    *,
    reason: str,
    code: str | None = None,
    order_number: str | None = None,
) -> None:
    db = get_db()
    with db:
        cursor = db.execute(
            "INSERT INTO recurring_delivery (received_at, outcome, error_code, reason,"
            " order_public_id, customer_partner_id, order_number) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                _now(),
                outcome,
                code,
                reason,
                order and order.public_id,
                order and order.customer_partner_id,
                order_number,
            ),
        )
        db.execute(
            "DELETE FROM recurring_delivery WHERE id <= ?", (cursor.lastrowid - DELIVERIES_KEPT,)
        )


def received(limit: int = 50) -> list[sqlite3.Row]:
    """The recurring orders placed at the store, newest first, with customer and items."""
    return (
        get_db()
        .execute(
            "SELECT r.order_public_id, r.og_order_id, r.received_at, o.order_number, o.status,"
            " o.total_cents, o.currency, o.payment_token, o.cc_exp_date, c.first_name, c.last_name,"
            " c.email,"
            " (SELECT GROUP_CONCAT(quantity || ' × ' || name, '; ') FROM order_line"
            "  WHERE order_id = o.id) AS items"
            " FROM recurring_order r JOIN store_order o ON o.id = r.order_id"
            " JOIN customer c ON c.user_id = o.user_id ORDER BY o.id DESC LIMIT ?",
            (limit,),
        )
        .fetchall()
    )


def deliveries(limit: int = 50) -> list[sqlite3.Row]:
    """The latest POSTs to the order endpoint and what the store answered, newest first."""
    return (
        get_db()
        .execute("SELECT * FROM recurring_delivery ORDER BY id DESC LIMIT ?", (limit,))
        .fetchall()
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
