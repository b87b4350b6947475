"""Benchmark recurring order placement: 10,000 due orders placed at the demo store's endpoint.

The same due orders (``--orders``: one customer, address, card and subscription each, a 10 %
incentive, due yesterday) are seeded once per database and copied for every measurement
(SQLite: the file; PostgreSQL: ``CREATE DATABASE ... TEMPLATE``). The store is the demo
store's real ``POST /og/orders`` under gunicorn (``--store-workers`` sync workers) on a fresh
database of its own that knows every customer. In each round, alternately:

* ``endpoint``: the baseline. The same orders, built beforehand as placement builds them (XML
  body and signed ``Authorization`` header), are sent straight to the endpoint by
  ``--workers`` concurrent clients, each with one ``requests.Session`` as placement uses.
* ``sqlite`` and ``postgres``: a placement run started as the hourly cron starts one
  (``placement.start``) and carried out by ``--workers`` RQ workers (``flask worker``), timed
  from the run's ``started_at`` to its ``finished_at`` (both written by the platform).

After each placement the store is counted: store orders per subscription cycle (``duplicates``
is every store order beyond the first for one cycle, ``missing`` every cycle without one), and
the platform's orders in SUCCESS and ledger attempts. Figures are medians over ``--rounds``.
RQ uses database 4 of the bootstrap's Redis (or ``BENCH_REDIS_URL``), emptied before each
placement. The last line printed is one JSON object with ``orders``, ``sqlite_s``, ``postgres_s``,
``endpoint_baseline_s``, ``ratio`` (endpoint_baseline_s / postgres_s: placement's throughput as
a share of the endpoint's own), ``duplicates``, and the targets: postgres_s <= 60 for 10,000
orders and ratio >= 0.5.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import _harness as harness  # noqa: E402

ROOT = harness.ROOT
BIN = Path(sys.executable).parent
TARGET_S = 60.0  # for 10,000 orders on PostgreSQL
TARGET_RATIO = 0.5
HASH_KEY = "Mt!ZQ45q&GHsgiRD8{NB-_h87#rjvbn0"  # noqa: S105 - the contracts' T1 test key
PRODUCT = "FF2040101"  # in the demo store's catalog
RUN_TIMEOUT_S = 900


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=10_000, help="due orders (10,000)")
    parser.add_argument("--workers", type=int, default=2, help="RQ workers and clients (2)")
    parser.add_argument("--store-workers", type=int, default=2, help="store's gunicorn (2)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds (1)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child", choices=["seed", "requests", "start"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    work = Path(tempfile.mkdtemp(prefix="bench-placement-"))
    print(f"work: {work}", flush=True)
    pg = None
    try:
        dbs = {}
        if not args.skip_sqlite:
            dbs["sqlite"] = SqliteCopies(work)
        if not args.skip_postgres:
            pg = PostgresCopies.from_env()
            if pg is None:
                print("postgres: skipped (no PG_URL in .run/env: run scripts/bootstrap)")
            else:
                dbs["postgres"] = pg
        if not dbs:
            raise SystemExit("nothing to measure")
        seeded = {name: copies.seed(args.orders) for name, copies in dbs.items()}
        first = next(iter(dbs))
        requests_file = work / "requests.pickle"
        run_child("requests", dbs[first].seed_url, work / "req", out=requests_file)
        prebuilt = pickle.loads(requests_file.read_bytes())  # noqa: S301 - our own file
        print(f"seeded {args.orders} due orders; {len(prebuilt)} requests built", flush=True)
        figures: dict[str, list[dict]] = {"endpoint": [], **{name: [] for name in dbs}}
        for r in range(args.rounds):
            figures["endpoint"].append(
                baseline(work, prebuilt, seeded[first]["merchant_public_id"], args)
            )
            print(f"round {r + 1}: endpoint {figures['endpoint'][-1]}", flush=True)
            for name, copies in dbs.items():
                figures[name].append(place(work, copies, seeded[name], args))
                print(f"round {r + 1}: {name} {figures[name][-1]}", flush=True)
    finally:
        if pg is not None:
            pg.drop_all()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    result = summarise(figures, args)
    print(json.dumps(result))
    return 0


def summarise(figures: dict[str, list[dict]], args: argparse.Namespace) -> dict:
    def median(name: str, key: str) -> float | None:
        values = [f[key] for f in figures.get(name, [])]
        return round(statistics.median(values), 2) if values else None

    endpoint_s = median("endpoint", "seconds")
    out = {
        "orders": args.orders,
        "workers": args.workers,
        "store_workers": args.store_workers,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "endpoint_baseline_s": endpoint_s,
        "sqlite_s": median("sqlite", "seconds"),
        "postgres_s": median("postgres", "seconds"),
        "duplicates": sum(
            f["duplicates"] for name in ("sqlite", "postgres") for f in figures.get(name, [])
        ),
        "missing": sum(
            f["missing"] for name in ("sqlite", "postgres") for f in figures.get(name, [])
        ),
        "rounds_detail": figures,
    }
    for name in ("sqlite", "postgres"):
        if out[f"{name}_s"]:
            out[f"{name}_orders_per_s"] = round(args.orders / out[f"{name}_s"], 1)
            out[f"{name}_ratio"] = round(endpoint_s / out[f"{name}_s"], 3)
    out["ratio"] = out.get("postgres_ratio")
    scale = args.orders / 10_000
    out["targets"] = {"postgres_s": TARGET_S * scale, "ratio": TARGET_RATIO}
    out["targets_met"] = (
        out["postgres_s"] is not None
        and out["postgres_s"] <= TARGET_S * scale
        and out["ratio"] >= TARGET_RATIO
        and out["duplicates"] == 0
        and out["missing"] == 0
    )
    return out


# -- the measurements ----------------------------------------------------------------------


def baseline(
    work: Path, prebuilt: list[tuple[bytes, str]], merchant_public_id: str, args: argparse.Namespace
) -> dict:
    """The prebuilt requests straight to the endpoint, ``--workers`` clients at a time."""
    import requests

    with demo_store(work, "baseline", merchant_public_id, args) as store:
        queue = list(reversed(prebuilt))
        lock = threading.Lock()
        answers: Counter = Counter()

        def client() -> None:
            session = requests.Session()
            while True:
                with lock:
                    if not queue:
                        return
                    body, header = queue.pop()
                reply = session.post(
                    store.url,
                    data=body,
                    timeout=30,
                    headers={"Content-Type": "application/xml", "Authorization": header},
                )
                with lock:
                    answers["SUCCESS" if b"SUCCESS" in reply.content else "other"] += 1

        began, cpu = time.perf_counter(), cpu_busy_s()
        threads = [threading.Thread(target=client) for _ in range(args.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds, cpu = time.perf_counter() - began, cpu_busy_s() - cpu
        counted = store.count_orders()
    return {
        "seconds": round(seconds, 2),
        "cpu_ms_per_order": round(1000 * cpu / len(prebuilt), 2),
        "success": answers["SUCCESS"],
        "other": answers["other"],
        "store_orders": counted,
    }


def place(work: Path, copies, seeded: dict, args: argparse.Namespace) -> dict:
    """A placement run on a fresh copy of the seeded database, ``--workers`` RQ workers."""
    from sqlalchemy import create_engine, text

    url = copies.fresh_copy()
    env = {**harness.app_env(url, work / "instance"), "REDIS_URL": redis_url()}
    flush_redis()
    with demo_store(work, copies.name, seeded["merchant_public_id"], args) as store:
        subprocess.run(
            [
                str(BIN / "flask"),
                "--app",
                "wsgi",
                "merchant",
                "set",
                seeded["merchant_public_id"],
                f"order_endpoint_url={store.url}",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        with rq_workers(work, env, args.workers):
            cpu = cpu_busy_s()
            out = subprocess.run(
                [sys.executable, __file__, "--child", "start"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            run_id = json.loads(out.strip().splitlines()[-1])["run_id"]
            engine = create_engine(url)
            deadline = time.monotonic() + RUN_TIMEOUT_S
            while True:
                with engine.connect() as conn:
                    row = conn.execute(
                        text(
                            "SELECT status, started_at, finished_at, processed FROM placement_runs"
                            " WHERE id = :id"
                        ),
                        {"id": run_id},
                    ).one()
                if row.status == "finished" or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            cpu = cpu_busy_s() - cpu  # the machine's, the start command's included
        placed = store.public_ids()
        with engine.connect() as conn:
            cycles = {
                public_id: (sub, cycle)
                for public_id, sub, cycle in conn.execute(
                    text(
                        "SELECT o.public_id, i.subscription_id, i.cycle FROM orders o"
                        " JOIN order_items i ON i.order_id = o.id"
                    )
                )
            }
            success = conn.execute(text("SELECT count(*) FROM orders WHERE status = 5")).scalar()
            attempts = conn.execute(text("SELECT count(*) FROM placement_attempts")).scalar()
        engine.dispose()
    copies.done(url)
    if row.status != "finished":
        raise SystemExit(
            f"{copies.name}: the run did not finish in {RUN_TIMEOUT_S} s "
            f"({row.processed} processed)"
        )
    per_cycle = Counter(cycles[p] for p in placed)
    return {
        "seconds": round(seconds_between(row.started_at, row.finished_at), 2),
        "cpu_ms_per_order": round(1000 * cpu / seeded["orders"], 2),
        "store_orders": len(placed),
        "success": success,
        "attempts": attempts,
        "duplicates": sum(n - 1 for n in per_cycle.values() if n > 1),
        "missing": seeded["orders"] - len(per_cycle),
    }


def cpu_busy_s() -> float:
    """Seconds of CPU time the whole machine has spent busy so far (/proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def seconds_between(start, end) -> float:
    from datetime import datetime

    if isinstance(start, str):  # SQLite hands back text
        start, end = datetime.fromisoformat(start), datetime.fromisoformat(end)
    return (end - start).total_seconds()


# -- the processes --------------------------------------------------------------------------


class Store:
    def __init__(self, url: str, db_path: Path) -> None:
        self.url, self.db_path = url, db_path

    def _rows(self, sql: str) -> list[tuple]:
        conn = sqlite3.connect(self.db_path, timeout=30)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def count_orders(self) -> int:
        return self._rows("SELECT count(*) FROM recurring_order")[0][0]

    def public_ids(self) -> list[str]:
        """One per store order made from a recurring order POST."""
        return [r[0] for r in self._rows("SELECT order_public_id FROM recurring_order")]


@contextmanager
def demo_store(work: Path, label: str, merchant_public_id: str, args: argparse.Namespace):
    """The demo store under gunicorn on a fresh database that knows every bench customer."""
    db_path = work / f"store-{label}-{time.time_ns()}.db"
    credentials = work / f"store-{label}-credentials.json"
    credentials.write_text(
        json.dumps({"merchant_public_id": merchant_public_id, "hash_key": HASH_KEY})
    )
    env = {
        **os.environ,
        "DEMO_DB": str(db_path),
        "DEMO_CREDENTIALS": str(credentials),
        "DEMO_SECRET_KEY": "bench",
    }
    port = harness.free_port()
    log = open(work / f"store-{label}.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(args.store_workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--no-control-socket",
            "demo:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        harness._wait_ready(port, proc)
        conn = sqlite3.connect(db_path, timeout=30)
        with conn:
            conn.executemany(
                "INSERT OR IGNORE INTO customer (user_id, email, password_hash, first_name,"
                " last_name, address, city, state_province_code, zip_postal_code)"
                " VALUES (?, ?, '-', 'Bench', 'Buyer', '1 Main St', 'Albany', 'NY', '12207')",
                [(user, f"{user.lower()}@example.com") for user in users(args.orders)],
            )
        conn.close()
        yield Store(f"http://127.0.0.1:{port}/og/orders", db_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def rq_workers(work: Path, env: dict[str, str], n: int):
    from redis import Redis
    from rq import Worker

    procs = []
    for i in range(n):
        with open(work / f"worker{i}.log", "ab") as log:
            procs.append(
                subprocess.Popen(
                    [str(BIN / "flask"), "--app", "wsgi", "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    try:
        conn = Redis.from_url(redis_url())
        deadline = time.monotonic() + 30
        while Worker.count(connection=conn) < n:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit(
                    "RQ workers did not start:\n"
                    + "".join((work / f"worker{i}.log").read_text()[-2000:] for i in range(n))
                )
            time.sleep(0.05)
        yield
    finally:
        for proc in procs:
            try:
                os.killpg(proc.pid, 9)
            except ProcessLookupError:
                pass
            proc.wait()


def redis_url() -> str:
    """BENCH_REDIS_URL, else database 4 of the bootstrap's Redis (flushed before each run)."""
    if os.environ.get("BENCH_REDIS_URL"):
        return os.environ["BENCH_REDIS_URL"]
    base = harness.run_env().get("REDIS_URL", "redis://127.0.0.1:6379/0")
    return base.rsplit("/", 1)[0] + "/4"


def flush_redis() -> None:
    from redis import Redis

    Redis.from_url(redis_url()).flushdb()


def run_child(kind: str, url: str, instance: Path, out: Path | None = None) -> dict:
    env = {**harness.app_env(url, instance), "REDIS_URL": redis_url()}
    cmd = [sys.executable, __file__, "--child", kind] + (["--out", str(out)] if out else [])
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"child {kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def users(n: int) -> list[str]:
    return [f"BP{i:08d}" for i in range(1, n + 1)]


class SqliteCopies:
    name = "sqlite"

    def __init__(self, work: Path) -> None:
        self.work = work
        self.seed_path = work / "seed-sqlite.db"
        self.seed_url = f"sqlite:///{self.seed_path}"

    def seed(self, orders: int) -> dict:
        return seed_database(self.work, self.seed_url, orders)

    def fresh_copy(self) -> str:
        path = self.work / f"run-{time.time_ns()}.db"
        shutil.copy(self.seed_path, path)
        return f"sqlite:///{path}"

    def done(self, url: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)


class PostgresCopies:
    name = "postgres"

    def __init__(self, base: str) -> None:
        from sqlalchemy import create_engine, make_url

        self.base = make_url(base)
        self.admin = create_engine(self.base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.prefix = f"perennial_bench_placement_{os.getpid()}"
        self.seed_name = f"{self.prefix}_seed"
        self.seed_url = self._url(self.seed_name)
        self.made: list[str] = []

    @classmethod
    def from_env(cls) -> PostgresCopies | None:
        base = os.environ.get("BENCH_PG_URL") or harness.run_env().get("PG_URL")
        return cls(base) if base else None

    def _url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None = None) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(
                text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
            )
        self.made.append(name)

    def seed(self, orders: int) -> dict:
        self._create(self.seed_name)
        return seed_database(self.work_dir(), self.seed_url, orders)

    def work_dir(self) -> Path:
        path = Path(tempfile.gettempdir()) / self.prefix
        path.mkdir(exist_ok=True)
        return path

    def fresh_copy(self) -> str:
        name = f"{self.prefix}_{len(self.made)}"
        self._create(name, template=self.seed_name)
        return self._url(name)

    def done(self, url: str) -> None:
        self._drop(url.rsplit("/", 1)[1])

    def _drop(self, name: str) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.made:
            self.made.remove(name)

    def drop_all(self) -> None:
        for name in list(self.made):
            self._drop(name)
        shutil.rmtree(self.work_dir(), ignore_errors=True)
        self.admin.dispose()


def seed_database(work: Path, url: str, orders: int) -> dict:
    """Migrate ``url`` and seed it in a child process; note the merchant for the store."""
    env = {**harness.app_env(url, work / "instance"), "REDIS_URL": redis_url()}
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    env["BENCH_ORDERS"] = str(orders)
    done = subprocess.run(
        [sys.executable, __file__, "--child", "seed"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"seeding failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- in a child process, inside the app ------------------------------------------------------


def child(args: argparse.Namespace) -> int:
    from wsgi import app

    with app.app_context():
        if args.child == "seed":
            result = seed(int(os.environ["BENCH_ORDERS"]))
        elif args.child == "requests":
            result = build_requests(Path(args.out))
        else:
            result = start_run()
    print(json.dumps(result))
    return 0


def seed(n: int) -> dict:
    from datetime import timedelta

    from app.extensions import db
    from app.integrations import signing
    from app.models import (
        Address,
        Customer,
        Order,
        OrderItem,
        OrderStatus,
        PaymentMethod,
        Product,
        Subscription,
    )
    from app.models.types import utcnow
    from app.services import events, incentives, merchants, orders, placement

    merchant = merchants.create("Bench Placement")
    merchant.hash_key = HASH_KEY
    merchant.timezone = "America/New_York"
    merchant.placement_hour = 0
    merchant.order_timeout_seconds = 10
    db.session.commit()
    incentives.create(
        merchant.id,
        {"name": "Ten", "kind": "percent_off", "percent": "10", "applies_to": "ongoing"},
        actor=events.Actor("system", "bench", "bench"),
    )
    product = Product(
        merchant_id=merchant.id,
        product_id=PRODUCT,
        sku="81020401011",
        name="Café Crème Coffee Beans, 12 oz",
        price_minor=1650,
        currency=merchant.currency,
        autoship_eligible=True,
        in_stock=True,
    )
    db.session.add(product)
    db.session.commit()
    promised = [i.public_id for i in incentives.list_for(merchant.id)]
    now = utcnow()
    day = placement.local_today(merchant, now) - timedelta(days=1)
    expiry = signing.encrypt_field(merchant.hash_key, "12/2099")
    everyone = users(n)
    for chunk in range(0, n, 500):
        subs = []
        for user in everyone[chunk : chunk + 500]:
            customer = Customer(
                merchant_id=merchant.id,
                merchant_user_id=user,
                email=f"{user.lower()}@example.com",
                first_name="Bench",
                last_name="Buyer",
            )
            address = Address(
                merchant_id=merchant.id,
                customer=customer,
                first_name="Bench",
                last_name="Buyer",
                address="1 Main St",
                city="Albany",
                state_province_code="NY",
                zip_postal_code="12207",
                country_code="US",
                fingerprint=f"fp-{user}",
            )
            payment = PaymentMethod(
                merchant_id=merchant.id,
                customer=customer,
                token_id="tok_visa_4242",  # noqa: S106 - a test token
                cc_type=1,
                cc_exp_date_enc=expiry,
                expiry_month=12,
                expiry_year=2099,
            )
            subs.append(
                Subscription(
                    merchant_id=merchant.id,
                    customer=customer,
                    product=product,
                    quantity=2,
                    every=4,
                    every_period=2,
                    shipping_address=address,
                    payment=payment,
                    start_date=day,
                    iteration=1,
                    currency=merchant.currency,
                    merchant_order_id=f"co-{user}",
                    incentive_ids=promised,
                )
            )
        db.session.add_all(subs)
        db.session.flush()
        for sub in subs:
            order = Order(
                merchant_id=merchant.id,
                customer=sub.customer,
                place_date=day,
                shipping_address=sub.shipping_address,
                payment=sub.payment,
                status=OrderStatus.UNSENT,
                currency=merchant.currency,
            )
            order.items.append(
                OrderItem(subscription_id=sub.id, product_id=product.id, quantity=2, cycle=2)
            )
            orders.reprice(order, now=now)  # priced when made, as every upcoming order is
            db.session.add(order)
        db.session.commit()
    return {"merchant_public_id": merchant.public_id, "merchant_id": merchant.id, "orders": n}


def build_requests(out: Path) -> dict:
    """Each due order's body and header, built as placement builds them (nothing claimed)."""
    from app.extensions import db
    from app.integrations import signing
    from app.integrations.xml import order as order_xml
    from app.models import Merchant, Order
    from app.models.types import utcnow
    from app.services import order_documents, orders, placement

    merchant = db.session.scalars(db.select(Merchant)).one()
    now = utcnow()
    as_of = placement.local_today(merchant, now)
    built = []
    for order_id in placement.due_orders(merchant.id, as_of, now):
        order = db.session.get(Order, order_id)
        orders.reprice(order, now=now)
        body = order_xml.build_order(order_documents.build(order, merchant, as_of=as_of))
        header = signing.build_auth_header(
            merchant.public_id, merchant.hash_key, order.customer.merchant_user_id
        )
        built.append((body, header))
    db.session.rollback()
    out.write_bytes(pickle.dumps(built))
    return {"requests": len(built)}


def start_run() -> dict:
    """Start a run as the hourly cron does: its orders go to the RQ workers in batches."""
    from app.extensions import db
    from app.models import Merchant
    from app.models.types import utcnow
    from app.services import placement

    merchant = db.session.scalars(db.select(Merchant)).one()
    now = utcnow()
    run = placement.start(
        merchant.id,
        trigger="cron",
        as_of=placement.local_today(merchant, now),
        now=now,
        slot=f"bench-{time.time_ns()}"[:40],
    )
    return {"run_id": run.id, "due": run.due}


if __name__ == "__main__":
    sys.exit(main())
