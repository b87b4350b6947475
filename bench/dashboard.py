"""Benchmark the subscriber dashboard: its render, each action, and msi.js's size.

On one gunicorn server (``--workers`` sync workers) over a fresh database (SQLite, then
PostgreSQL unless ``--skip-postgres``), seeded with ``--customers`` subscribers of one merchant
(each a live subscription and its upcoming order, made by the checkout's own service), and
``--clients`` concurrent clients (``bench/_harness.py``), each measurement ``--seconds`` long:

* ``trivial``: ``GET /healthz`` of the same server, the same-run baseline;
* ``render``: ``GET /<merchant>/msi/``, the dashboard of a random subscriber (signed ``og_auth``
  in ``X-OG-Auth``, as msi.js sends it); ``render_ratio`` = render / trivial throughput,
  target >= 0.3;
* each action, as the REST call of contracts §4.3 in the Storefront scope (the dashboard's
  actions call the same services): ``change_quantity``, ``change_frequency``,
  ``change_next_order_date``, ``change_email_reminder``, ``pause_resume`` (alternately),
  ``cancel_reactivate`` (alternately), ``send_now`` and ``skip_subscription`` (each on an order
  of its own). Every client acts on subscribers of its own, so two requests never contend for
  one row. ``action_p95_ms``: per action, target <= 50 ms.

Trivial and render are measured ``--rounds`` times alternately (the median round is reported).
``msi_gzip_bytes``: gzip (level 9) of our code in ``msi.js`` without the bundled htmx, target
<= 8 KB. The last line printed is one JSON object with ``render_rps``, ``trivial_rps``,
``render_ratio``, ``action_p95_ms`` and ``msi_gzip_bytes`` (SQLite), and the same under
``postgres``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import _harness as harness  # noqa: E402

TARGET_P95_MS = 50.0
TARGET_RENDER_RATIO = 0.3
TARGET_MSI_BYTES = 8 * 1024
SLOTS = 8  # client threads (at most) the subscribers are shared out between
PER_ACTION = 10  # subscribers of each client thread for each repeatable action
ACTIONS = (
    "change_quantity",
    "change_frequency",
    "change_next_order_date",
    "change_email_reminder",
    "pause_resume",
    "cancel_reactivate",
    "send_now",
    "skip_subscription",
)
ONE_SHOT = ("send_now", "skip_subscription")  # each needs an order no request had before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement (5)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (4)")
    parser.add_argument("--rounds", type=int, default=3, help="trivial/render pairs (3)")
    parser.add_argument("--customers", type=int, default=3000, help="seeded subscribers")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child-seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_seed:
        print(json.dumps(seed(int(os.environ["BENCH_CUSTOMERS"]))))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    try:
        print("sqlite:")
        figures = measure(work / "sqlite", args, f"sqlite:///{work / 'bench.db'}")
        if not args.skip_postgres:
            with harness.pg_database("perennial_bench_dashboard") as url:
                if url is None:
                    print("postgres: skipped (no PG_URL in .run/env: run scripts/bootstrap)")
                else:
                    print("postgres:")
                    figures["postgres"] = measure(work / "pg", args, url)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    met = [figures, *([figures["postgres"]] if "postgres" in figures else [])]
    figures["targets_met"] = {
        "action_p95_ms": all(
            p is not None and p <= TARGET_P95_MS for f in met for p in f["action_p95_ms"].values()
        ),
        "render_ratio": all(f["render_ratio"] >= TARGET_RENDER_RATIO for f in met),
        "msi_gzip_bytes": figures["msi_gzip_bytes"] is not None
        and figures["msi_gzip_bytes"] <= TARGET_MSI_BYTES,
    }
    print(json.dumps(figures))
    return 0


def measure(work: Path, args: argparse.Namespace, database_url: str) -> dict:
    env = {
        **harness.app_env(database_url, work / "instance"),
        "BENCH_CUSTOMERS": str(args.customers),
    }
    began = time.monotonic()
    seeded = harness.seed_in_child(__file__, env)
    print(f"  seeded {len(seeded['customers'])} subscribers in {time.monotonic() - began:.0f} s")
    with harness.serve(env, args.workers) as port:
        msi_bytes = msi_size(port, seeded["merchant"])
        render = partial(render_request, seeded)
        harness.load(port, harness.trivial, seconds=1.0, clients=args.clients)  # warm-up
        harness.load(port, render, seconds=1.0, clients=args.clients)
        rounds = []
        for _ in range(args.rounds):
            trivial = harness.load(
                port, harness.trivial, seconds=args.seconds, clients=args.clients
            )
            shown = harness.load(port, render, seconds=args.seconds, clients=args.clients)
            rounds.append(
                (shown["rps"] / trivial["rps"] if trivial["rps"] else 0.0, trivial, shown)
            )
        rounds.sort(key=lambda r: r[0])
        ratio, trivial, shown = rounds[len(rounds) // 2]
        print(
            f"  render: {shown['rps']} req/s, p95 {shown['p95_ms']} ms ({shown['errors']} "
            f"errors); trivial {trivial['rps']} req/s; ratio {ratio:.3f} (target >= "
            f"{TARGET_RENDER_RATIO})"
        )
        actions = {}
        for action in ACTIONS:
            request = partial(action_request, seeded, action)
            if action not in ONE_SHOT:  # warm-up, as for render (one-shot ones have no spares)
                harness.load(port, request, seconds=0.5, clients=args.clients)
            result = harness.load(port, request, seconds=args.seconds, clients=args.clients)
            actions[action] = result
            print(
                f"  {action}: p95 {result['p95_ms']} ms, p50 {result['p50_ms']} ms, "
                f"{result['rps']} req/s, statuses {result['statuses']}"
            )
    return {
        "render_rps": shown["rps"],
        "trivial_rps": trivial["rps"],
        "render_ratio": round(ratio, 3),
        "render_p95_ms": shown["p95_ms"],
        "render_errors": shown["errors"],
        "rounds": [round(r[0], 3) for r in rounds],
        "action_p95_ms": {a: r["p95_ms"] for a, r in actions.items()},
        "action_p50_ms": {a: r["p50_ms"] for a, r in actions.items()},
        "action_errors": {a: r["errors"] for a, r in actions.items()},
        "msi_gzip_bytes": msi_bytes,
        "customers": len(seeded["customers"]),
        "workers": args.workers,
        "clients": args.clients,
        "seconds": args.seconds,
        "cpus": os.cpu_count(),
    }


def msi_size(port: int, merchant: str) -> int | None:
    """gzip -9 of our code in msi.js: what follows the bundled htmx (None: no msi.js yet)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/{merchant}/msi.js") as response:  # noqa: S310 - our local server
            body = response.read().decode("utf-8")
    except OSError:
        return None
    ours = body.find("var OG_")
    return len(gzip.compress(body[max(ours, 0) :].encode(), 9)) if "og-msi" in body else None


# -- the requests -----------------------------------------------------------------------------


def _slot(client: str) -> int:
    """The client thread's own share of the subscribers (see ``harness._client``'s ids)."""
    _run, proc, thread = client.rsplit("-", 2)
    return (int(proc) * SLOTS // 2 + int(thread)) % SLOTS


def _auth(seeded: dict, customer: dict) -> dict[str, str]:
    return {
        "X-OG-Auth": customer["og_auth"],
        "Authorization": customer["og_auth"],
        "X-OG-Merchant": seeded["merchant"],
        "Content-Type": "application/json",
    }


def render_request(seeded: dict, rnd: random.Random, _client: str, _n: int):
    customer = rnd.choice(seeded["customers"])
    return "GET", f"/{seeded['merchant']}/msi/", None, _auth(seeded, customer)


def action_request(seeded: dict, action: str, rnd, client: str, n: int):
    """The ``n``-th request of this client for ``action``: on a subscriber of its own share
    (for a one-shot action, one no request had before, while there are any)."""
    customers = seeded["customers"]
    share = len(customers) // SLOTS
    pool = customers[_slot(client) * share : (_slot(client) + 1) * share]
    repeatable = [a for a in ACTIONS if a not in ONE_SHOT]
    if action in ONE_SHOT:  # after the repeatable actions' subscribers, half the rest each
        rest = pool[len(repeatable) * PER_ACTION :]
        part = len(rest) // len(ONE_SHOT)
        customer = rest[ONE_SHOT.index(action) * part + min(n - 1, part - 1)]
    else:  # two requests in a row on one subscriber: an alternating action undoes itself
        first = repeatable.index(action) * PER_ACTION
        customer = pool[first + ((n - 1) // 2) % PER_ACTION]
    sub, order = customer["subscription"], customer["order"]
    odd = n % 2 == 1
    today = date.fromisoformat(seeded["today"])
    paths = {
        "change_quantity": (
            "PATCH",
            f"/subscriptions/{sub}/change_quantity/",
            {"quantity": 1 + n % 3},
        ),
        "change_frequency": (
            "PATCH",
            f"/subscriptions/{sub}/change_frequency/",
            {"every": 2 + n % 3, "every_period": 2},
        ),
        "change_next_order_date": (
            "PATCH",
            f"/subscriptions/{sub}/change_next_order_date/",
            {"order_date": (today + timedelta(days=20 + n % 5)).isoformat()},
        ),
        "change_email_reminder": (
            "PATCH",
            f"/subscriptions/{sub}/change_email_reminder/",
            {"reminder_days": 5 + n % 4},
        ),
        "pause_resume": (
            "PATCH",
            f"/subscriptions/{sub}/{'pause' if odd else 'resume'}/",
            {},
        ),
        "cancel_reactivate": (
            "PATCH",
            f"/subscriptions/{sub}/{'cancel' if odd else 'reactivate'}/",
            {"cancel_reason": "1|bench"}
            if odd
            else {"every": 4, "every_period": 2, "start_date": today.isoformat()},
        ),
        "send_now": ("PATCH", f"/orders/{order}/send_now/", None),
        "skip_subscription": (
            "PATCH",
            f"/orders/{order}/skip_subscription/",
            {"subscription": sub},
        ),
    }
    method, path, body = paths[action]
    data = json.dumps(body).encode() if body is not None else None
    return method, path, data, _auth(seeded, customer)


# -- the seed (in a child process) --------------------------------------------------------------


def seed(count: int) -> dict:
    """In the child, with DATABASE_URL set: one merchant, its catalog, ``count`` subscribers."""
    from app import create_app
    from app.extensions import db
    from app.integrations import signing
    from app.models import Address, Customer, PaymentMethod, Product
    from app.models.types import utcnow
    from app.services import events, merchants, subscriptions

    app = create_app()
    with app.app_context():
        merchant = merchants.create("Bench shop", timezone="America/New_York")
        db.session.commit()
        products = [
            Product(
                merchant_id=merchant.id,
                product_id=f"P{i:03d}",
                name=f"Bench product {i}",
                price_minor=1000 + i,
                currency="USD",
                autoship_eligible=True,
                in_stock=True,
            )
            for i in range(20)
        ]
        db.session.add_all(products)
        db.session.commit()
        now = utcnow()
        today = now.astimezone(merchant.tz).date()
        actor = events.Actor("system", None, "bench")
        out = []
        for i in range(count):
            customer = Customer(
                merchant_id=merchant.id, merchant_user_id=f"U{i:06d}", email=f"u{i}@example.com"
            )
            db.session.add(customer)
            db.session.flush()
            address = Address(
                merchant_id=merchant.id,
                customer_id=customer.id,
                address=f"{i} Main St",
                city="Albany",
                country_code="US",
                fingerprint=f"fp-{i}",
            )
            card = PaymentMethod(merchant_id=merchant.id, customer_id=customer.id, token_id=f"t{i}")
            db.session.add_all([address, card])
            db.session.flush()
            [sub] = subscriptions.create_many(
                customer,
                [
                    subscriptions.NewSubscription(
                        product=products[i % len(products)],
                        quantity=1,
                        every=4,
                        every_period=2,
                        offer_id=None,
                        first_date=today + timedelta(days=14),
                        extra_data={},
                        subscription_type="standard",
                    )
                ],
                start=today,
                shipping=address,
                payment=card,
                merchant_order_id=f"co-{i}",
                session_id=None,
                currency="USD",
                now=now,
                actor=actor,
                incentives=[],
            )
            db.session.commit()
            order = subscriptions.upcoming_order(sub)
            out.append(
                {
                    "subscription": sub.public_id,
                    "order": order.public_id,
                    "og_auth": signing.make_og_auth(merchant.hash_key, customer.merchant_user_id),
                }
            )
        return {"merchant": merchant.public_id, "today": today.isoformat(), "customers": out}


if __name__ == "__main__":
    sys.exit(main())
