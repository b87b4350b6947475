"""Demo customers, created on start-up so anyone can log in (the login page shows them)."""

from __future__ import annotations

import sqlite3

from werkzeug.security import generate_password_hash

DEMO_PASSWORD = "demo1234"  # noqa: S105 - a published demo password, shown on the login page

DEMO_CUSTOMERS: tuple[dict[str, str], ...] = (
    {
        "user_id": "DC69410241",
        "email": "maya.okafor@example.com",
        "first_name": "Maya",
        "last_name": "Okafor",
        "phone": "555-201-4410",
        "address": "75 Broad Street",
        "address2": "Apt 23B",
        "city": "New York",
        "state_province_code": "NY",
        "zip_postal_code": "10004",
    },
    {
        "user_id": "DC69410258",
        "email": "jonas.lindqvist@example.com",
        "first_name": "Jonas",
        "last_name": "Lindqvist",
        "phone": "555-318-0923",
        "address": "1200 Pearl Street",
        "address2": "",
        "city": "Boulder",
        "state_province_code": "CO",
        "zip_postal_code": "80302",
    },
    {
        "user_id": "DC69410265",
        "email": "ines.garcia@example.com",
        "first_name": "Inés",
        "last_name": "García",
        "phone": "555-764-2281",
        "address": "48 Rue Royale Court",
        "address2": "",
        "city": "New Orleans",
        "state_province_code": "LA",
        "zip_postal_code": "70130",
    },
)


def demo_customers(conn: sqlite3.Connection) -> None:
    """Insert the demo customers that are missing (hashing only theirs: scrypt is slow). Safe
    when several processes start on one file at once (gunicorn's workers): the first wins."""
    existing = {row[0] for row in conn.execute("SELECT user_id FROM customer")}
    with conn:
        for customer in DEMO_CUSTOMERS:
            if customer["user_id"] in existing:
                continue
            row = {**customer, "password_hash": generate_password_hash(DEMO_PASSWORD)}
            columns = ", ".join(row)
            conn.execute(
                f"INSERT OR IGNORE INTO customer ({columns}) VALUES ({', '.join('?' * len(row))})",  # noqa: S608
                tuple(row.values()),
            )
