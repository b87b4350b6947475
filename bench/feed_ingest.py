"""Benchmark product feed ingestion, file on disk to committed rows, against a bare lxml pass.

Generates an Ordergroove-format feed of N products (streamed to disk, never held in memory),
then measures, each in a fresh child process of this script:

* ``lxml``: a bare ``etree.iterparse`` over the same file, clearing elements (the baseline);
* ``sqlite``: ingestion into a fresh SQLite database through ``feeds.run_now``, the file
  published in the merchant's ``incoming/`` exactly as the SFTP drop site publishes it;
* ``sqlite_rerun``: the same file published again (nothing changed: every product unchanged);
* ``postgres`` and ``postgres_rerun``: the same two runs on a PostgreSQL database made for this
  benchmark and dropped after;
* ``sqlite_4x``: a fresh SQLite ingestion of 4N products, to see whether memory stays flat.

Each child reports wall seconds and its own CPU seconds (the machine may be shared: CPU time
is the steadier figure, though it leaves out the database server's share). Peak RSS is the
child's ``ru_maxrss``. Linux carries a parent's high-water mark into a child
across fork and exec, so the parent only generates files and orchestrates: it never imports
the app or lxml, and its own peak is printed so the floor is visible.

The last line printed is one JSON object of figures (see ``summarise``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SQLITE_S = 15.0
TARGET_PEAK_RSS_MB = 250.0
TARGET_RSS_GROWTH = 1.20  # RSS at 4N within 20% of RSS at N
SETUP_TIMEOUT_S = 120
RUN_TIMEOUT_S = 1800
INGESTIONS = ("sqlite", "sqlite_rerun", "postgres", "postgres_rerun")  # all at N products

ADJECTIVES = (
    "Crème brûlée",
    "Café",
    "Jalapeño",
    "Smoked",
    "Organic",
    "Piña colada",
    "Ærø",
    "Wild",
    "Crunchy",
    "Müsli",
    "Señor's",
    "Grain-free",
    "Toasted",
    "Naïve",
)
NOUNS = (
    "Kibble",
    "Dog Treats",
    "Cat Food",
    "Coffee Beans",
    "Tea",
    "Granola",
    "Vitamins",
    "Shampoo",
    "Razor Blades",
    "Oat Milk",
    "Dental Chews",
    "Litter",
)
BRANDS = (
    "Fern & Fable™",
    "Smith & Sons",
    "Björk Naturals",
    "Hound & Co.®",
    "Pâtisserie Lumière",
    "Acme",
    "Bäckerei Groß",
    "Les Délices",
)
SIZES = ("2 oz", "12 oz", "1 lb", "5 lb", "30 ct", "90 ct", "500 ml", "1 l")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, or one measured scenario when called as a child."""
    args = parse_args(argv)
    if args.child:
        return run_child(args)
    return run_benchmark(args)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--products", type=int, default=100_000, help="products in the feed (default 100000)"
    )
    parser.add_argument(
        "--skip-4x",
        action="store_true",
        help="skip the SQLite run at 4x the products (no peak_rss_mb_4x)",
    )
    parser.add_argument("--skip-postgres", action="store_true", help="skip the PostgreSQL run")
    parser.add_argument("--seed", type=int, default=3, help="random seed of the generated feed")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the work directory (feeds, databases, reports) afterwards",
    )
    # Internal: how the parent starts each measured child.
    parser.add_argument(
        "--child", choices=("lxml", "pg", "prepare", "ingest"), help=argparse.SUPPRESS
    )
    parser.add_argument("--sql", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--feed", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--merchant", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.products < 1:
        parser.error("--products must be at least 1")
    return args


# The parent: generate, orchestrate, report.


def run_benchmark(args: argparse.Namespace) -> int:
    """Measure every scenario and print the figures, the JSON object last."""
    env = read_run_env()
    work = Path(tempfile.mkdtemp(prefix="perennial-bench-"))
    try:
        figures = measure_all(args, env, work)
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    figures["parent_rss_mb"] = peak_rss_mb()
    report(figures)
    return 0


def measure_all(args: argparse.Namespace, env: dict[str, str], work: Path) -> dict:
    """Run the scenarios in order and collect their raw figures."""
    n = args.products
    feed = work / "feed-1x.xml"
    figures: dict = {
        "products": n,
        "generate_s": timed(generate_feed, feed, n, args.seed),
        "feed_mb": round(feed.stat().st_size / 2**20, 1),
    }
    figures["lxml"] = child(["--child", "lxml", "--feed", str(feed)], env)
    sqlite_url = f"sqlite:///{work / 'sqlite-1x.db'}"
    figures["sqlite"], figures["sqlite_rerun"] = fresh_and_rerun(sqlite_url, work / "s1", feed, env)
    figures["postgres"] = figures["postgres_rerun"] = None
    if not args.skip_postgres:
        figures["postgres"], figures["postgres_rerun"] = measure_postgres(env, work, feed)
    if not args.skip_4x:
        feed4 = work / "feed-4x.xml"
        generate_feed(feed4, 4 * n, args.seed)
        figures["lxml_4x"] = child(["--child", "lxml", "--feed", str(feed4)], env)
        figures["sqlite_4x"] = ingest_fresh(
            f"sqlite:///{work / 'sqlite-4x.db'}", work / "s4", feed4, env
        )
        feed4.unlink()
    return figures


def fresh_and_rerun(url: str, work: Path, feed: Path, env: dict[str, str]) -> tuple[dict, dict]:
    """Ingest the feed into a fresh database, then the same file again."""
    merchant = prepare(url, work, env)
    first = ingest(url, work, feed, merchant, env)
    again = ingest(url, work, feed, merchant, env)
    return first, again


def ingest_fresh(url: str, work: Path, feed: Path, env: dict[str, str]) -> dict:
    """Ingest the feed once into a fresh database."""
    return ingest(url, work, feed, prepare(url, work, env), env)


def measure_postgres(env: dict[str, str], work: Path, feed: Path) -> tuple[dict | None, ...]:
    """Ingest and re-ingest into a database made for this run (dropped after), if PG answers."""
    base = os.environ.get("BENCH_PG_URL") or env.get("PG_URL")
    if not base:
        print("postgres: skipped (no PG_URL in .run/env: run scripts/bootstrap, or BENCH_PG_URL)")
        return None, None
    name = f"perennial_bench_{os.getpid()}"
    try:
        url = pg_admin(base, f'CREATE DATABASE "{name}"', database=name)
    except RuntimeError as exc:
        print(f"postgres: skipped ({base.split('@')[-1]} not reachable: {exc})")
        return None, None
    try:
        return fresh_and_rerun(url, work / "pg", feed, env)
    finally:
        pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', database=name)


def pg_admin(base_url: str, statement: str, *, database: str) -> str:
    """Run one statement on the server's ``postgres`` database; return ``database``'s URL.

    :raises RuntimeError: the server could not be reached or refused the statement.
    """
    result = child(
        ["--child", "pg", "--db", base_url, "--sql", statement, "--database", database],
        {},
        timeout=SETUP_TIMEOUT_S,
    )
    if "error" in result:
        raise RuntimeError(result["error"])
    return result["url"]


def prepare(url: str, work: Path, env: dict[str, str]) -> dict:
    """Migrate a fresh database and create the merchant with its drop-site home."""
    work.mkdir(parents=True, exist_ok=True)
    result = child(
        ["--child", "prepare", "--db", url, "--work", str(work)], env, timeout=SETUP_TIMEOUT_S
    )
    return result["merchant"]


def ingest(url: str, work: Path, feed: Path, merchant: dict, env: dict[str, str]) -> dict:
    """Publish the feed in the merchant's incoming/ and time its ingestion in a child."""
    publish(
        feed,
        work / "sftp" / merchant["public_id"] / "incoming",
        f"{merchant['public_id']}.Products.xml",
    )
    return child(
        ["--child", "ingest", "--db", url, "--work", str(work), "--merchant", str(merchant["id"])],
        env,
    )


def publish(source: Path, incoming: Path, name: str) -> None:
    """Copy the file in under a hidden staging name, then rename it: the drop site's publish."""
    staging = incoming / f".{name}.{secrets.token_hex(8)}.part"
    shutil.copyfile(source, staging)
    os.replace(staging, incoming / name)


def child(arguments: list[str], env: dict[str, str], *, timeout: int = RUN_TIMEOUT_S) -> dict:
    """Run this script as a child and return the JSON object it prints last."""
    # A SECRET_KEY in the environment keeps app.config from touching the repo's instance/.
    child_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SECRET_KEY": secrets.token_hex(16),
        "BENCH_CHILD_REDIS_URL": env.get("REDIS_URL", ""),
    }
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *arguments],
        capture_output=True,
        text=True,
        env=child_env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"benchmark child {arguments[1]} failed (exit {done.returncode})")
    return json.loads(last_line(done.stdout))


def read_run_env() -> dict[str, str]:
    """The URLs scripts/bootstrap wrote to .run/env, with Redis on a db of its own."""
    values: dict[str, str] = {}
    path = ROOT / ".run" / "env"
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
    # A Redis db of our own, so the per-merchant feed lock cannot meet a dev app's merchant 1.
    redis = values.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/13"
    values["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL") or redis
    return values


def generate_feed(path: Path, count: int, seed: int) -> None:
    """Write a realistic feed of ``count`` products, streaming (flat memory at any size)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<products>\n')
        chunk: list[str] = []
        for index in range(count):
            chunk.append(product_xml(rng, index))
            if len(chunk) == 1000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
        out.write("</products>\n")


def product_xml(rng: random.Random, index: int) -> str:
    """One <product> as a cartridge would write it; about 1 in 500 breaks a rule on purpose."""
    pid = f"P{index:07d}"
    cents = rng.randint(99, 2_499_99)
    lines = [
        f"<name><![CDATA[{product_name(rng)}]]></name>",
        f"<product_id>{pid}</product_id>",
        f"<sku>{rng.randrange(10**10, 10**11)}</sku>",
    ]
    if rng.random() < 0.35:
        lines.append(groups_xml(rng, index))
    lines.append(f"<price>{cents // 100}.{cents % 100:02d}</price>")
    lines.append(
        f"<details_url>https://shop.example.com/products/{pid.lower()}?ref=feed&amp;v=2"
        "</details_url>"
    )
    lines.append(
        "<image_url></image_url>"
        if rng.random() < 0.05
        else f"<image_url>https://cdn.shop.example.com/images/{pid}/main.jpg</image_url>"
    )
    lines.extend(state_xml(rng, index))
    if rng.random() < 0.4:
        lines.append(extra_data_xml(rng))
    if rng.random() < 0.25:
        lines.append(
            f"<every>{rng.choice((1, 2, 4, 6, 8))}</every>"
            f"<every_period>{rng.choice((2, 3))}</every_period>"
        )
    if rng.random() < 0.03:
        lines.append("<product_type>static price bundle</product_type>")
    body = "\n    ".join(lines)
    if index % 500 == 499:
        body = break_rule(body, index)
    return f"  <product>\n    {body}\n  </product>\n"


def product_name(rng: random.Random) -> str:
    return f"{rng.choice(BRANDS)} {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}, {rng.choice(SIZES)}"


def groups_xml(rng: random.Random, index: int) -> str:
    groups = [f'<group type="sku_swap"><![CDATA[Family {index // 6} & friends]]></group>']
    if rng.random() < 0.3:
        groups.append(f'<group type="incentive">Incentive {rng.randint(1, 40)}</group>')
    return f"<groups>{''.join(groups)}</groups>"


def state_xml(rng: random.Random, index: int) -> list[str]:
    """Eligibility and stock; about 1% discontinued, most of those with a replacement."""
    if index > 0 and rng.random() < 0.01:
        kind = rng.choice(("discontinued_replacement", "discontinued_silent_replacement"))
        related = (
            f"<relationships><relationship><name>{kind}</name><related><product_id>"
            f"P{index - 1:07d}</product_id></related></relationship></relationships>"
        )
        return [
            "<autoship_eligible>0</autoship_eligible>",
            "<in_stock>0</in_stock>",
            "<discontinued>1</discontinued>",
            *([related] if rng.random() < 0.8 else []),
        ]
    state = [f"<in_stock>{int(rng.random() < 0.9)}</in_stock>"]
    if rng.random() < 0.95:
        state.insert(0, f"<autoship_eligible>{int(rng.random() < 0.85)}</autoship_eligible>")
    return state


def extra_data_xml(rng: random.Random) -> str:
    fields = [
        f'<field key="variant_name"><![CDATA[{rng.choice(SIZES)} – {rng.choice(NOUNS)}]]></field>'
    ]
    if rng.random() < 0.3:
        fields.append(f'<field key="flavour">{rng.choice(("Chicken", "Beef", "Salmon"))}</field>')
    return f"<extra_data>{''.join(fields)}</extra_data>"


def break_rule(body: str, index: int) -> str:
    """Make one product invalid in one of a few ways a merchant's feed really goes wrong."""
    kind = (index // 500) % 4
    if kind == 0:
        return re.sub(r"<price>[^<]*</price>", "<price>0.00</price>", body, count=1)
    if kind == 1:
        return body.replace("https://cdn.", "http://cdn.", 1).replace(
            "<image_url></image_url>", "<image_url>http://cdn.example.com/x.jpg</image_url>"
        )
    if kind == 2:
        return body.replace("<sku>", "<sku_code>", 1).replace("</sku>", "</sku_code>", 1)
    return body.replace("<in_stock>", '<in_stock>"', 1).replace("</in_stock>", '"</in_stock>', 1)


# The children: one measured scenario each, printing one JSON object.


def run_child(args: argparse.Namespace) -> int:
    """Run one scenario in this (fresh) process and print its figures as JSON."""
    scenarios = {
        "lxml": child_lxml,
        "pg": child_pg,
        "prepare": child_prepare,
        "ingest": child_ingest,
    }
    result = scenarios[args.child](args)
    result["rss_mb"] = peak_rss_mb()
    print(json.dumps(result))
    return 0


def child_lxml(args: argparse.Namespace) -> dict:
    """The floor: iterparse every <product> and free it, with no validation and no database."""
    from lxml import etree

    began, cpu = time.perf_counter(), time.process_time()
    count = 0
    for _, element in etree.iterparse(args.feed, events=("end",), tag="product"):
        count += 1
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
    return {
        "seconds": time.perf_counter() - began,
        "cpu_s": time.process_time() - cpu,
        "products": count,
    }


def child_pg(args: argparse.Namespace) -> dict:
    """Run ``--sql`` on the server's ``postgres`` database; give ``--database``'s URL."""
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.exc import DBAPIError

    url = make_url(args.db)
    engine = create_engine(
        url.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )
    try:
        with engine.connect() as conn:
            conn.execute(text(args.sql))
    except DBAPIError as exc:
        return {"error": str(exc.orig).strip().splitlines()[0]}
    finally:
        engine.dispose()
    return {"url": url.set(database=args.database).render_as_string(hide_password=False)}


def bench_app(args: argparse.Namespace):
    """The app on the benchmark's database, drop site and Redis db."""
    from app import create_app
    from app.config import Config

    work = Path(args.work)
    settings = {
        "SQLALCHEMY_DATABASE_URI": args.db,
        "SECRET_KEY": secrets.token_hex(16),
        "REDIS_URL": os.environ["BENCH_CHILD_REDIS_URL"],
        "SFTP_ROOT": str(work / "sftp"),
        "FEEDS_DIR": str(work / "feeds"),
    }
    return create_app(type("BenchConfig", (Config,), settings))


def child_prepare(args: argparse.Namespace) -> dict:
    """Build the schema through the migrations and create the merchant and its drop-site home."""
    from flask_migrate import upgrade

    from app.extensions import db
    from app.services import merchants, sftp_accounts

    app = bench_app(args)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        merchant = merchants.create("Bench Merchant & Co.")
        sftp_accounts.ensure(merchant.id, merchant.public_id)
        db.session.commit()
        result = {"merchant": {"id": merchant.id, "public_id": merchant.public_id}}
        db.engine.dispose()
    return result


def child_ingest(args: argparse.Namespace) -> dict:
    """Time ``feeds.run_now`` on the published file: claim, parse, validate, write, commit."""
    from app.extensions import db
    from app.services import feeds

    app = bench_app(args)
    with app.app_context():
        began, cpu = time.perf_counter(), time.process_time()
        runs = feeds.run_now(args.merchant)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        if len(runs) != 1:
            raise SystemExit(f"expected one feed run, got {len(runs)}")
        run = runs[0]
        result = {
            "seconds": seconds,
            "cpu_s": cpu,
            "status": run.status,
            "error": run.error,
            **{
                name: getattr(run, name)
                for name in (
                    "received",
                    "created",
                    "updated",
                    "unchanged",
                    "rejected",
                    "discontinued",
                )
            },
        }
        db.engine.dispose()
    return result


# Figures and helpers shared by both sides.


def summarise(figures: dict) -> dict:
    """The JSON object: seconds, CPU seconds, RSS, ratios to the lxml baseline, targets met.

    ``peak_rss_mb`` is the largest of the N-product ingestions; ``rss_growth_4x`` compares the
    SQLite ingestion of 4N products with the one of N.
    """
    base = figures["lxml"]["seconds"]
    out = {
        "products": figures["products"],
        "feed_mb": figures["feed_mb"],
        "lxml_baseline_s": round(base, 3),
        "lxml_cpu_s": round(figures["lxml"]["cpu_s"], 3),
        "lxml_rss_mb": figures["lxml"]["rss_mb"],
    }
    for name in INGESTIONS:
        out.update(scenario_figures(name, figures.get(name), base))
    four = figures.get("sqlite_4x")
    out["peak_rss_mb"] = max(out[f"{name}_rss_mb"] or 0 for name in INGESTIONS)
    out["peak_rss_mb_4x"] = None if four is None else four["rss_mb"]
    out["sqlite_4x_s"] = None if four is None else round(four["seconds"], 3)
    out["sqlite_4x_cpu_s"] = None if four is None else round(four["cpu_s"], 3)
    out["sqlite_4x_x_lxml"] = (
        None if four is None else round(four["seconds"] / figures["lxml_4x"]["seconds"], 2)
    )
    out["rss_growth_4x"] = (
        None if four is None else round(four["rss_mb"] / figures["sqlite"]["rss_mb"], 3)
    )
    out["parent_rss_mb"] = figures["parent_rss_mb"]
    out["targets"] = {
        "sqlite_s": TARGET_SQLITE_S,
        "peak_rss_mb": TARGET_PEAK_RSS_MB,
        "rss_growth_4x": TARGET_RSS_GROWTH,
    }
    out["targets_met"] = targets_met(out, figures["products"])
    return out


def scenario_figures(name: str, run: dict | None, base: float) -> dict:
    """One ingestion's figures under its name (all None when it was skipped)."""
    if run is None:
        keys = ("s", "cpu_s", "x_lxml", "rss_mb", "status")
        return dict.fromkeys(f"{name}_{key}" for key in keys)
    return {
        f"{name}_s": round(run["seconds"], 3),
        f"{name}_cpu_s": round(run["cpu_s"], 3),
        f"{name}_x_lxml": round(run["seconds"] / base, 2),
        f"{name}_rss_mb": run["rss_mb"],
        f"{name}_status": run["status"],
    }


def targets_met(out: dict, products: int) -> dict:
    """Each target as a boolean (None when the run needed for it was skipped)."""
    growth = out["rss_growth_4x"]
    return {
        # The time target is for 100,000 products; a larger feed gets proportionally longer.
        "sqlite_s": out["sqlite_s"] <= TARGET_SQLITE_S * max(1.0, products / 100_000),
        "peak_rss_mb": out["peak_rss_mb"] <= TARGET_PEAK_RSS_MB,
        "rss_growth_4x": None if growth is None else growth <= TARGET_RSS_GROWTH,
        "all_succeeded": all(out[f"{name}_status"] in (None, "succeeded") for name in INGESTIONS),
    }


def report(figures: dict) -> None:
    """Print one readable line per figure, then the JSON object as the last line."""
    n, lxml = figures["products"], figures["lxml"]
    print(f"feed: {n} products, {figures['feed_mb']} MB, written in {figures['generate_s']:.1f} s")
    print(
        f"lxml baseline {n} products: {lxml['seconds']:.2f} s (cpu {lxml['cpu_s']:.2f} s), "
        f"peak RSS {lxml['rss_mb']} MB"
    )
    labels = {
        "sqlite": f"sqlite {n} products",
        "sqlite_rerun": f"sqlite rerun {n} unchanged",
        "postgres": f"postgres {n} products",
        "postgres_rerun": f"postgres rerun {n} unchanged",
        "sqlite_4x": f"sqlite {4 * n} products",
    }
    for key, label in labels.items():
        if figures.get(key) is not None:
            floor = figures["lxml_4x" if key == "sqlite_4x" else "lxml"]["seconds"]
            print(describe(label, figures[key], floor))
    summary = summarise(figures)
    print_targets(summary)
    print(json.dumps(summary))


def describe(label: str, run: dict, floor: float) -> str:
    """One scenario as a line: time, ratio to the baseline, CPU, memory and the run's counts."""
    counts = ", ".join(
        f"{key} {run[key]}" for key in ("created", "updated", "unchanged", "rejected")
    )
    error = f" ({run['error']})" if run["error"] else ""
    return (
        f"{label}: {run['seconds']:.1f} s (x{run['seconds'] / floor:.1f} lxml baseline; "
        f"cpu {run['cpu_s']:.1f} s), peak RSS {run['rss_mb']} MB; "
        f"{run['status']}{error}: {counts}"
    )


def print_targets(summary: dict) -> None:
    met = summary["targets_met"]
    growth = summary["rss_growth_4x"]
    print(
        f"target sqlite <= {TARGET_SQLITE_S:.0f} s per 100k ({summary['sqlite_s']:.1f} s): "
        f"{verdict(met['sqlite_s'])}"
    )
    print(
        f"target peak RSS <= {TARGET_PEAK_RSS_MB:.0f} MB ({summary['peak_rss_mb']} MB): "
        f"{verdict(met['peak_rss_mb'])}"
    )
    shown = "skipped" if growth is None else f"x{growth:.2f}"
    print(f"target RSS at 4x within 20% of 1x ({shown}): {verdict(met['rss_growth_4x'])}")


def verdict(value: bool | None) -> str:
    return "skipped" if value is None else ("met" if value else "MISSED")


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def timed(function, *args) -> float:
    began = time.perf_counter()
    function(*args)
    return round(time.perf_counter() - began, 2)


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


if __name__ == "__main__":
    sys.exit(main())
