"""Benchmark the web worker's memory under storefront requests for merchants that do not exist.

For each database (SQLite, then PostgreSQL): a fresh database is migrated and seeded with one
merchant and one product; gunicorn serves ``wsgi:app`` with one sync worker. After a warm-up
(``WARM_UP`` rounds of the known merchant's three storefront requests plus one unknown id), the
worker's resident set (VmRSS, read from /proc) is measured around:

* ``known_kb``, the baseline: 1,000 requests for the known merchant, the loader, its offers
  (one product) and its cart in turn;
* ``unknown_kb``: 1,000 requests with distinct unknown merchant ids, four in five a ~4 KB id
  (near gunicorn's request-line limit) on the loader or the offers path, the fifth a
  well-formed 32-hex id on the loader, offers and cart paths in turn.

Target: ``unknown_kb`` < 2,048 (the storefront caches only known merchants). PostgreSQL uses the
database ``perennial_bench_storefront`` on ``BENCH_PG_URL`` or .run/env's ``PG_URL`` server
(created when missing, emptied each run). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import _harness as harness  # noqa: E402

REQUESTS = 1_000
WARM_UP = 300
TARGET_KB = 2 * 1024
LONG_ID = 4_000  # gunicorn refuses a request line over 4,094 bytes
PG_DATABASE = "perennial_bench_storefront"
OFFER_QUERY = "?k=o0&p=P1&l=pdp&d=&t="


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child-seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_seed:
        print(json.dumps(seed()))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-storefront-memory-"))
    results: dict[str, dict | None] = {}
    try:
        results["sqlite"] = measure("sqlite", f"sqlite:///{work / 'bench.db'}", work)
        results["postgres"] = None if args.skip_postgres else measure_postgres(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                **results,
                "requests": REQUESTS,
                "warm_up_rounds": WARM_UP,
                "target_kb": TARGET_KB,
                "targets_met": {
                    name: r["unknown_kb"] < TARGET_KB
                    for name, r in results.items()
                    if r is not None
                },
            }
        )
    )
    return 0


def measure(name: str, database_url: str, work: Path) -> dict:
    env = harness.app_env(database_url, work / f"{name}-instance")
    merchant = harness.seed_in_child(__file__, env)["merchant_id"]
    with harness.server(env, workers=1) as server:
        (worker,) = server.workers()
        warm = [path for n in range(WARM_UP) for path in (*known(merchant, 3), unknown(n))]
        harness.fetch(server.port, warm)
        start = harness.rss_kb(worker)
        known_statuses = harness.fetch(server.port, known(merchant, REQUESTS))
        middle = harness.rss_kb(worker)
        unknown_statuses = harness.fetch(
            server.port, (unknown(WARM_UP + n) for n in range(REQUESTS))
        )
        end = harness.rss_kb(worker)
    figures = {
        "unknown_kb": end - middle,
        "known_kb": middle - start,
        "rss_kb": end,
        "known_statuses": _named(known_statuses),
        "unknown_statuses": _named(unknown_statuses),
    }
    met = "met" if figures["unknown_kb"] < TARGET_KB else "NOT met"
    print(
        f"{name}: worker RSS +{figures['unknown_kb']} kB over {REQUESTS} unknown merchant ids "
        f"{figures['unknown_statuses']}; baseline +{figures['known_kb']} kB over {REQUESTS} "
        f"requests for the known merchant {figures['known_statuses']}; RSS {end} kB; "
        f"target < {TARGET_KB} kB: {met}"
    )
    return figures


def measure_postgres(work: Path) -> dict | None:
    base = os.environ.get("BENCH_PG_URL") or harness.run_env().get("PG_URL")
    if not base:
        print("postgres: skipped (no PG_URL in .run/env: run scripts/bootstrap, or BENCH_PG_URL)")
        return None
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.exc import OperationalError

    url = make_url(base).set(database=PG_DATABASE)
    engine = create_engine(url)
    try:
        try:
            engine.connect().close()
        except OperationalError:  # no such database yet
            admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
            admin.dispose()
        with engine.begin() as conn:  # the bench's own database: start from nothing
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # noqa: BLE001 - report and carry on without PostgreSQL
        print(f"postgres: skipped ({exc.__class__.__name__}: {exc})")
        return None
    finally:
        engine.dispose()
    return measure("postgres", url.render_as_string(hide_password=False), work)


def known(merchant: str, count: int) -> list[str]:
    paths = [f"/{merchant}/main.js", f"/{merchant}/offers/{OFFER_QUERY}", f"/carts/{merchant}.1.1/"]
    return [paths[n % 3] for n in range(count)]


def unknown(n: int) -> str:
    """The n-th hostile request (the same mix as tests/web/test_storefront_memory.py)."""
    if n % 5:
        merchant, path = secrets.token_hex(LONG_ID // 2), n % 2
    else:
        merchant, path = uuid.uuid4().hex, n // 5 % 3
    return [f"/{merchant}/main.js", f"/{merchant}/offers/{OFFER_QUERY}", f"/carts/{merchant}.1.1/"][
        path
    ]


def _named(statuses: dict[int, int]) -> dict[str, int]:
    return {str(code): count for code, count in sorted(statuses.items())}


def seed() -> dict:
    """In the child, with DATABASE_URL set: one merchant with one product."""
    from app import create_app
    from app.extensions import db
    from app.models import Product
    from app.services import merchants

    app = create_app()
    with app.app_context():
        merchant = merchants.create("Bench shop")
        db.session.commit()
        db.session.add(
            Product(
                merchant_id=merchant.id,
                product_id="P1",
                name="Bench product",
                price_minor=1900,
                currency="USD",
                autoship_eligible=True,
                in_stock=True,
            )
        )
        db.session.commit()
        return {"merchant_id": merchant.public_id}


if __name__ == "__main__":
    sys.exit(main())
