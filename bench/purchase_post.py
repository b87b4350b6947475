"""Benchmark the purchase POST over HTTP, on SQLite and on PostgreSQL, against a trivial endpoint.

For each database: a fresh database is migrated and seeded (a merchant, its API key, catalog
products and a 10 % incentive); gunicorn serves ``wsgi:app`` on a free local port with
``--workers`` sync workers; then, with ``--clients`` concurrent HTTP clients (threads spread
over client processes, a new connection per request as gunicorn's sync workers close them):

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
import http.client
import json
import multiprocessing
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_P95_MS = 50.0
CUSTOMERS = 200
START_TIMEOUT_S = 30


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement (10)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (4)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
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
        results["postgres"] = None
        if not args.skip_postgres:
            results["postgres"] = measure_postgres(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures = {**results, "seconds": args.seconds, "workers": args.workers,
               "clients": args.clients, "cpus": os.cpu_count(), "target_p95_ms": TARGET_P95_MS,
               "targets_met": {name: r is not None and r["p95_ms"] <= TARGET_P95_MS
                               and r["errors"] == 0 for name, r in results.items()
                               if r is not None}}
    print(json.dumps(figures))
    return 0


def measure_postgres(work: Path, args: argparse.Namespace) -> dict | None:
    base = os.environ.get("BENCH_PG_URL") or _run_env().get("PG_URL")
    if not base:
        print("postgres: skipped (no PG_URL in .run/env: run scripts/bootstrap, or BENCH_PG_URL)")
        return None
    from sqlalchemy import create_engine, make_url, text

    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1)
                   if base.startswith("postgresql://") else base)
    name = f"perennial_bench_{os.getpid()}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - report and carry on without PostgreSQL
        print(f"postgres: skipped ({exc.__class__.__name__}: {exc})")
        return None
    try:
        return measure("postgres", url.set(database=name).render_as_string(hide_password=False),
                       work, args)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _run_env() -> dict[str, str]:
    path = ROOT / ".run" / "env"
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip().strip("'\"") for k, v in pairs}


def measure(name: str, database_url: str, work: Path, args: argparse.Namespace) -> dict:
    instance = work / f"{name}-instance"
    instance.mkdir()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench",
           "PERENNIAL_INSTANCE": str(instance),
           "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")}
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,  # noqa: S603 - our venv's flask
                   env=env, check=True, capture_output=True)
    seeded = json.loads(subprocess.run(  # noqa: S603 - this script, as the seeding child
        [sys.executable, __file__, "--child-seed"], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True).stdout.strip().splitlines()[-1])
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our venv's gunicorn
        [str(bin_dir / "gunicorn"), "--workers", str(args.workers), "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait_ready(port, server)
        requests_ = _payloads(seeded, name)
        run_load(port, "trivial", None, seeded, 1.0, args.clients)  # warm-up
        run_load(port, "purchase", requests_, seeded, 1.0, args.clients)
        trivial = run_load(port, "trivial", None, seeded, args.seconds, args.clients)
        purchase = run_load(port, "purchase", requests_, seeded, args.seconds, args.clients)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    figures = {**summary(purchase), "trivial_rps": trivial["rps"],
               "trivial_p50_ms": trivial["p50_ms"], "trivial_p95_ms": trivial["p95_ms"]}
    figures["ratio"] = round(figures["rps"] / figures["trivial_rps"], 3) \
        if figures["trivial_rps"] else None
    print(f"{name}: purchase POST p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
          f"p99 {figures['p99_ms']} ms, {figures['rps']} req/s ({figures['requests']} requests, "
          f"{figures['errors']} errors); trivial {figures['trivial_rps']} req/s "
          f"(p50 {figures['trivial_p50_ms']} ms); ratio {figures['ratio']}; "
          f"target p95 <= {TARGET_P95_MS} ms: "
          f"{'met' if figures['p95_ms'] <= TARGET_P95_MS else 'NOT met'}")
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
        products = []
        for i in range(50):
            db.session.add(Product(merchant_id=merchant.id, product_id=f"B{i:04d}",
                                   name=f"Bench product {i}", price_minor=999 + i,
                                   currency="USD", autoship_eligible=True, in_stock=True,
                                   every=4, every_period=2))
            products.append(f"B{i:04d}")
        db.session.commit()
        actor = events.Actor("system", None, "bench")
        incentives.create(merchant.id, {"name": "Ten", "kind": "percent_off", "percent": "10"},
                          actor=actor)
        key = api_keys.create(merchant.id, "bench", actor=actor)[1]
        return {"merchant_id": merchant.public_id, "hash_key": merchant.hash_key,
                "api_key": key, "products": products}


def _payloads(seeded: dict, name: str) -> dict:
    from app.integrations.signing import encrypt_field

    return {"expiry": encrypt_field(seeded["hash_key"], "12/2099"), "prefix": name}


def order_body(seeded: dict, extra: dict, order_id: str, rnd: random.Random) -> bytes:
    products = rnd.sample(seeded["products"], 3)
    user = f"U{rnd.randrange(CUSTOMERS):04d}"
    payload = {
        "merchant_id": seeded["merchant_id"], "merchant_order_id": order_id,
        "og_cart_tracking": False,
        "user": {"user_id": user, "first_name": "Bench", "last_name": user,
                 "email": f"{user}@example.com",
                 "shipping_address": {"first_name": "Bench", "last_name": user,
                                      "address": "1 Main St", "city": "New York",
                                      "state_province_code": "NY", "zip_postal_code": "10004",
                                      "country_code": "US"}},
        "payment": {"token_id": f"tok_{user}", "cc_exp_date": extra["expiry"], "cc_type": "1"},
        "products": [
            {"product": products[0], "purchase_info": {"quantity": 1, "price": "9.99"},
             "subscription_info": {"quantity": 1, "tracking_override": {
                 "every": 4, "every_period": 2}}},
            {"product": products[1], "purchase_info": {"quantity": 2, "price": "9.99"},
             "subscription_info": {"quantity": 2, "tracking_override": {
                 "every": 2, "every_period": 3}}},
            {"product": products[2], "purchase_info": {"quantity": 1, "price": "9.99"}},
        ],
    }
    return ("create_request=" + quote(json.dumps(payload), safe="")).encode()


def run_load(port: int, kind: str, extra: dict | None, seeded: dict, seconds: float,
             clients: int) -> dict:
    """``clients`` threads over two client processes, hammering one endpoint."""
    procs = max(1, min(2, clients))
    queue: multiprocessing.Queue = multiprocessing.Queue()
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    workers = [multiprocessing.Process(target=_client, args=(
        port, kind, extra, seeded, seconds, threads, i, queue)) for i, threads in enumerate(per)]
    for worker in workers:
        worker.start()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    for _ in workers:
        lat, stat = queue.get()
        latencies += lat
        for code, n in stat.items():
            statuses[code] = statuses.get(code, 0) + n
    for worker in workers:
        worker.join()
    return {"latencies": latencies, "statuses": statuses, "seconds": seconds,
            **_percentiles(latencies, seconds)}


def _client(port, kind, extra, seeded, seconds, threads, index, queue) -> None:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    run_id = f"{time.time_ns()}-{index}"

    def loop(thread: int) -> None:
        rnd = random.Random(f"{run_id}-{thread}")  # noqa: S311 - test data, not secrets
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            if kind == "trivial":
                method, path, body, headers = "GET", "/healthz", None, {}
            else:
                body = order_body(seeded, extra, f"{extra['prefix']}-{run_id}-{thread}-{n}", rnd)
                method, path = "POST", "/subscription/create"
                headers = {"Content-Type": "application/json", "x-api-key": seeded["api_key"]}
            began = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                code = response.status
            except OSError:
                code = 0
            finally:
                conn.close()
            elapsed = time.perf_counter() - began
            with lock:
                statuses[code] = statuses.get(code, 0) + 1
                if code == 200:
                    latencies.append(elapsed)

    pool = [threading.Thread(target=loop, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    queue.put((latencies, statuses))


def _percentiles(latencies: list[float], seconds: float) -> dict:
    if len(latencies) < 2:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "rps": 0.0}
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50_ms": round(cuts[49] * 1000, 2), "p95_ms": round(cuts[94] * 1000, 2),
            "p99_ms": round(cuts[98] * 1000, 2), "rps": round(len(latencies) / seconds, 1)}


def summary(result: dict) -> dict:
    ok = result["statuses"].get(200, 0)
    return {"p50_ms": result["p50_ms"], "p95_ms": result["p95_ms"], "p99_ms": result["p99_ms"],
            "rps": result["rps"], "requests": ok,
            "errors": sum(n for code, n in result["statuses"].items() if code != 200),
            "statuses": {str(k): v for k, v in sorted(result["statuses"].items())}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited: {server.stderr.read().decode()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not answer /healthz in time")


if __name__ == "__main__":
    sys.exit(main())
