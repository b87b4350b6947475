"""The store's side of the purchase POST: tell Perennial about every checkout, reliably.

Each placed order gets a row in ``purchase_post`` and one attempt right away, server to server,
with a 5-second timeout. The store's own order never waits on Perennial or fails because of it.
Retries follow the client policy of contracts §5.4: on a timeout, a connection error or a 5xx,
resend 3 times within 10 minutes, then once more after 24 hours, then give up. A 4xx is not
retried (it needs a fix); a 409 means Perennial already has the order, which counts as sent.

Only public contracts cross this boundary: the JSON body, the ``x-api-key`` header and AES
field encryption (contracts §0.3, ``demo.signing``), implemented as any merchant would.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests
from flask import current_app

from demo.db import get_db
from demo.signing import encrypt_field

TIMEOUT_SECONDS = 5
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=3),
    timedelta(minutes=6),
    timedelta(hours=24),
)  # after attempts 1, 2, 3, 4; then give up
SENT, PENDING, FAILED, ABANDONED = "sent", "pending", "failed", "abandoned"


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def build(
    order: sqlite3.Row, lines: list[sqlite3.Row], customer: sqlite3.Row, session_id: str | None
) -> dict[str, Any]:
    """The create_request body for one store order (contracts §5.2)."""
    config = current_app.config
    address = {
        field: order[f"ship_{field}"]
        for field in (
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
    }
    payload: dict[str, Any] = {
        "merchant_id": config["MERCHANT_PUBLIC_ID"],
        "merchant_order_id": order["order_number"],
        "og_cart_tracking": bool(session_id),
        "user": {
            "user_id": customer["user_id"],
            "first_name": customer["first_name"],
            "last_name": customer["last_name"],
            "email": customer["email"],
            "phone_number": customer["phone"],
            "shipping_address": address,
            "billing_address": address,
        },
        "payment": {"token_id": order["payment_token"], "cc_type": order["cc_type"]},
        "products": [
            {
                "product": line["product_id"],
                "sku": line["sku"],
                "purchase_info": {
                    "quantity": line["quantity"],
                    "price": _money(line["unit_price_cents"]),
                    "discounted_price": _money(line["unit_price_cents"]),
                    "total": _money(line["total_cents"]),
                },
            }
            for line in lines
        ],
    }
    if session_id:
        payload["session_id"] = session_id
    else:
        payload["tracking"] = []  # no offers were seen: a checkout without subscriptions
    if config.get("MERCHANT_HASH_KEY"):
        payload["payment"]["cc_exp_date"] = encrypt_field(
            config["MERCHANT_HASH_KEY"], order["cc_exp_date"]
        )
    return payload


def record(
    order: sqlite3.Row, lines: list[sqlite3.Row], customer: sqlite3.Row, session_id: str | None
) -> None:
    """Queue the order's purchase POST and try it once now; never raises for the platform."""
    if not (
        current_app.config.get("MERCHANT_PUBLIC_ID") and current_app.config.get("PLATFORM_API_KEY")
    ):
        current_app.logger.warning("purchase POST skipped: no merchant id or API key configured")
        return
    db = get_db()
    now = _now()
    with db:
        db.execute(
            "INSERT OR IGNORE INTO purchase_post (order_number, payload, status, attempts,"
            " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?, ?)",
            (
                order["order_number"],
                json.dumps(build(order, lines, customer, session_id)),
                PENDING,
                now,
                now,
                now,
            ),
        )
    send(order["order_number"])


def send(order_number: str) -> sqlite3.Row:
    """One attempt for a queued purchase POST; returns its updated row."""
    db = get_db()
    row = db.execute(
        "SELECT * FROM purchase_post WHERE order_number = ?", (order_number,)
    ).fetchone()
    config = current_app.config
    body = "create_request=" + quote(row["payload"], safe="")
    attempts = row["attempts"] + 1
    try:
        response = requests.post(
            f"{config['PLATFORM_URL']}/subscription/create",
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/json", "x-api-key": config["PLATFORM_API_KEY"]},
            timeout=TIMEOUT_SECONDS,
        )
        status_code, text = response.status_code, response.text[:2000]
    except requests.RequestException as exc:
        status_code, text = None, f"{type(exc).__name__}: {exc}"[:2000]
    outcome = _outcome(status_code, attempts)
    subs_req_id = _subs_req_id(text) if status_code in (200, 207, 409) else None
    next_at = (
        (_now_dt() + RETRY_DELAYS[attempts - 1]).isoformat(timespec="seconds")
        if outcome == PENDING
        else None
    )
    with db:
        db.execute(
            "UPDATE purchase_post SET status = ?, attempts = ?, http_status = ?, response = ?,"
            " subs_req_id = COALESCE(?, subs_req_id), next_attempt_at = ?, updated_at = ?"
            " WHERE order_number = ?",
            (outcome, attempts, status_code, text, subs_req_id, next_at, _now(), order_number),
        )
    if outcome != SENT:
        current_app.logger.warning(
            "purchase POST for %s: %s (%s) %s", order_number, outcome, status_code, text[:300]
        )
    return db.execute(
        "SELECT * FROM purchase_post WHERE order_number = ?", (order_number,)
    ).fetchone()


def _outcome(status_code: int | None, attempts: int) -> str:
    if status_code in (200, 201, 207, 409):
        return SENT
    if status_code is not None and status_code < 500:
        return FAILED
    return PENDING if attempts <= len(RETRY_DELAYS) else ABANDONED


def _subs_req_id(text: str) -> str | None:
    try:
        value = json.loads(text).get("subs_req_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def retry_due() -> int:
    """Send every pending purchase POST whose next attempt is due; return how many were tried."""
    due = (
        get_db()
        .execute(
            "SELECT order_number FROM purchase_post WHERE status = ? AND next_attempt_at <= ?"
            " ORDER BY id",
            (PENDING, _now()),
        )
        .fetchall()
    )
    for row in due:
        send(row["order_number"])
    return len(due)


def for_order(order_number: str) -> sqlite3.Row | None:
    return (
        get_db()
        .execute("SELECT * FROM purchase_post WHERE order_number = ?", (order_number,))
        .fetchone()
    )


def recent(limit: int = 20) -> list[sqlite3.Row]:
    return (
        get_db()
        .execute("SELECT * FROM purchase_post ORDER BY id DESC LIMIT ?", (limit,))
        .fetchall()
    )


def subscriptions_for(order_number: str) -> list[dict[str, Any]] | None:
    """The subscriptions Perennial created for this order (None: unknown yet or unreachable)."""
    row = for_order(order_number)
    if row is None or not row["subs_req_id"]:
        return None
    config = current_app.config
    headers = {"x-api-key": config["PLATFORM_API_KEY"]}
    base = config["PLATFORM_URL"]
    try:
        status = requests.get(
            f"{base}/subscription/{row['subs_req_id']}/response",
            headers=headers,
            timeout=TIMEOUT_SECONDS,
        )
        if status.status_code != 200:
            return None
        found = []
        for entry in status.json().get("subscriptions", []):
            for sub_id in entry.values():
                sub = requests.get(
                    f"{base}/subscriptions/{sub_id}/", headers=headers, timeout=TIMEOUT_SECONDS
                )
                sub.raise_for_status()
                found.append(sub.json())
        return found
    except (requests.RequestException, ValueError, AttributeError) as exc:
        current_app.logger.warning("could not read subscriptions for %s: %s", order_number, exc)
        return None


def _now_dt() -> datetime:
    return datetime.now(UTC)


def _now() -> str:
    return _now_dt().isoformat(timespec="seconds")
