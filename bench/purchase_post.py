"""Benchmark the purchase POST over HTTP, on SQLite and on PostgreSQL, against a trivial endpoint.

For each database: a fresh database is migrated and seeded (a merchant, its API key, catalog
products and a 10 % incentive); gunicorn serves ``wsgi:app`` with ``--workers`` sync workers;
then ``--clients`` concurrent HTTP clients (``bench/_harness.py``) measure, in the same run:

* ``trivial``: ``GET /healthz`` for ``--seconds`` (the same app and server: the baseline);
* ``purchase``: ``POST /subscription/create`` for ``--seconds``, each a 3-line order (2
  subscription lines, 1 one-time line) with a new ``merchant_order_id``, the whole JSON
  URL-encoded, ``x-api-key`` auth, an AES ``cc_exp_date``, customers drawn from a pool of 200
  (so both new and returning customers are matched).

Only 200 answers count; any other status is reported. Latency is per request, client side,
connection included. The last line printed is one JSON object: ``sqlite`` and ``postgres``
objects with ``p50_ms``, ``p95_ms``, ``p99_ms``, ``rps``, ``trivial_rps``, ``ratio``,
``trivial_p50_ms``, ``requests``, ``errors``; plus the settings. Target: p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from functools import partial
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import _harness as harness  # noqa: E402

TARGET_P95_MS = 50.0
CUSTOMERS = 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement (10)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--clients", type=int, default=2, help="concurrent clients (2)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child-seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_seed:
        print(json.dumps(seed()))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-purchase-"))
    results: dict[str, dict | None] = {}
    try:
        results["sqlite"] = measure("sqlite", f"sqlite:///{work / 'bench.db'}", work, args)
        results["postgres"] = None if args.skip_postgres else measure_postgres(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures = {
        **results,
        "seconds": args.seconds,
        "workers": args.workers,
        "clients": args.clients,
        "cpus": os.cpu_count(),
        "target_p95_ms": TARGET_P95_MS,
        "targets_met": {
            name: r["p95_ms"] is not None and r["p95_ms"] <= TARGET_P95_MS and r["errors"] == 0
            for name, r in results.items()
            if r is not None
        },
    }
    print(json.dumps(figures))
    return 0


def measure_postgres(work: Path, args: argparse.Namespace) -> dict | None:
    base = os.environ.get("BENCH_PG_URL") or harness.run_env().get("PG_URL")
    if not base:
        print("postgres: skipped (no PG_URL in .run/env: run scripts/bootstrap, or BENCH_PG_URL)")
        return None
    from sqlalchemy import create_engine, make_url, text

    url = make_url(base)
    name = f"perennial_bench_{os.getpid()}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - report and carry on without PostgreSQL
        print(f"postgres: skipped ({exc.__class__.__name__}: {exc})")
        return None
    try:
        return measure(
            "postgres", url.set(database=name).render_as_string(hide_password=False), work, args
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(name: str, database_url: str, work: Path, args: argparse.Namespace) -> dict:
    env = harness.app_env(database_url, work / f"{name}-instance")
    seeded = harness.seed_in_child(__file__, env)
    from app.integrations.signing import encrypt_field

    seeded["expiry"] = encrypt_field(seeded["hash_key"], "12/2099")
    order = partial(purchase, seeded)
    with harness.serve(env, args.workers) as port:
        harness.load(port, harness.trivial, seconds=1.0, clients=args.clients)  # warm-up
        harness.load(port, order, seconds=1.0, clients=args.clients)
        trivial = harness.load(port, harness.trivial, seconds=args.seconds, clients=args.clients)
        figures = harness.load(port, order, seconds=args.seconds, clients=args.clients)
    figures.update(
        trivial_rps=trivial["rps"],
        trivial_p50_ms=trivial["p50_ms"],
        trivial_p95_ms=trivial["p95_ms"],
    )
    figures["ratio"] = round(figures["rps"] / trivial["rps"], 3) if trivial["rps"] else None
    met = figures["p95_ms"] is not None and figures["p95_ms"] <= TARGET_P95_MS
    print(
        f"{name}: purchase POST p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
        f"p99 {figures['p99_ms']} ms, {figures['rps']} req/s ({figures['requests']} requests, "
        f"{figures['errors']} errors); trivial {trivial['rps']} req/s "
        f"(p50 {trivial['p50_ms']} ms); ratio {figures['ratio']}; "
        f"target p95 <= {TARGET_P95_MS} ms: {'met' if met else 'NOT met'}"
    )
    return figures


def seed() -> dict:
    """In the child, with DATABASE_URL set: the merchant, key, products and an incentive."""
    from app import create_app
    from app.extensions import db
    from app.models import Product
    from app.services import api_keys, events, incentives, merchants

    app = create_app()
    with app.app_context():
        merchant = merchants.create("Bench shop", timezone="America/New_York")
        db.session.commit()
        products = [f"B{i:04d}" for i in range(50)]
        db.session.add_all(
            Product(
                merchant_id=merchant.id,
                product_id=pid,
                name=f"Bench product {pid}",
                price_minor=999 + i,
                currency="USD",
                autoship_eligible=True,
                in_stock=True,
                every=4,
                every_period=2,
            )
            for i, pid in enumerate(products)
        )
        db.session.commit()
        actor = events.Actor("system", None, "bench")
        incentives.create(
            merchant.id, {"name": "Ten", "kind": "percent_off", "percent": "10"}, actor=actor
        )
        key = api_keys.create(merchant.id, "bench", actor=actor)[1]
        return {
            "merchant_id": merchant.public_id,
            "hash_key": merchant.hash_key,
            "api_key": key,
            "products": products,
        }


def purchase(seeded: dict, rnd: random.Random, client: str, n: int):
    """A 3-line order: 2 subscription lines, 1 one-time line; a returning or new customer."""
    products = rnd.sample(seeded["products"], 3)
    user = f"U{rnd.randrange(CUSTOMERS):04d}"
    address = {
        "first_name": "Bench",
        "last_name": user,
        "address": "1 Main St",
        "city": "New York",
        "state_province_code": "NY",
        "zip_postal_code": "10004",
        "country_code": "US",
    }
    payload = {
        "merchant_id": seeded["merchant_id"],
        "merchant_order_id": f"{client}-{n}",
        "og_cart_tracking": False,
        "user": {
            "user_id": user,
            "first_name": "Bench",
            "last_name": user,
            "email": f"{user}@example.com",
            "shipping_address": address,
        },
        "payment": {"token_id": f"tok_{user}", "cc_exp_date": seeded["expiry"], "cc_type": "1"},
        "products": [
            {
                "product": products[0],
                "purchase_info": {"quantity": 1, "price": "9.99"},
                "subscription_info": {
                    "quantity": 1,
                    "tracking_override": {"every": 4, "every_period": 2},
                },
            },
            {
                "product": products[1],
                "purchase_info": {"quantity": 2, "price": "9.99"},
                "subscription_info": {
                    "quantity": 2,
                    "tracking_override": {"every": 2, "every_period": 3},
                },
            },
            {"product": products[2], "purchase_info": {"quantity": 1, "price": "9.99"}},
        ],
    }
    body = ("create_request=" + quote(json.dumps(payload), safe="")).encode()
    return (
        "POST",
        "/subscription/create",
        body,
        {"Content-Type": "application/json", "x-api-key": seeded["api_key"]},
    )


if __name__ == "__main__":
    sys.exit(main())
