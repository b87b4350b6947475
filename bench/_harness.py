"""Shared by the HTTP benchmarks: a gunicorn server on a fresh database, and a load generator.

``seed_in_child`` migrates the database and runs a seeding function in a child process;
``serve`` starts gunicorn (``--workers`` sync workers) on a free port (``server`` also tells
its process ids, for memory figures: ``rss_kb``). ``load`` runs ``clients`` concurrent
HTTP clients (threads spread over two client processes, forked) for ``seconds``, each opening a
new connection per request (gunicorn's sync workers close them), and returns the latencies of
the answers with the expected status plus a count of every status (0 = connection error).
``fetch`` sends given requests one after another.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 30
# (random generator, client number, request number) -> (method, path, body, headers)
Request = Callable[[random.Random, str, int], tuple[str, str, bytes | None, dict[str, str]]]


def run_env() -> dict[str, str]:
    """The bootstrap's settings (.run/env): REDIS_URL, PG_URL, ..."""
    path = ROOT / ".run" / "env"
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip().removeprefix("export "): v.strip().strip("'\"") for k, v in pairs}


@contextlib.contextmanager
def pg_database(prefix: str) -> Iterator[str | None]:
    """A fresh, empty PostgreSQL database on the bootstrap's server (``BENCH_PG_URL`` or
    ``PG_URL``), dropped afterwards; None when there is no server to use."""
    base = os.environ.get("BENCH_PG_URL") or run_env().get("PG_URL")
    if not base:
        yield None
        return
    from sqlalchemy import create_engine, make_url, text

    url = make_url(base)
    name = f"{prefix}_{os.getpid()}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def app_env(database_url: str, instance: Path) -> dict[str, str]:
    instance.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench",
        "PERENNIAL_INSTANCE": str(instance),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
    }


def seed_in_child(script: str, env: dict[str, str]) -> dict:
    """Migrate, then run ``script --child-seed`` (it prints one JSON object last)."""
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "flask"), "--app", "wsgi", "db", "upgrade"],  # noqa: S603 - our venv's flask
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [sys.executable, script, "--child-seed"],
        cwd=ROOT,  # noqa: S603 - this benchmark
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


@dataclass(frozen=True)
class Server:
    port: int
    pid: int  # gunicorn's arbiter, which only supervises

    def workers(self) -> list[int]:
        """The process ids of the workers serving the requests."""
        pids = []
        for entry in Path("/proc").iterdir():
            try:
                status = (entry / "status").read_text() if entry.name.isdigit() else ""
            except OSError:
                continue  # exited meanwhile
            if f"\nPPid:\t{self.pid}\n" in status:
                pids.append(int(entry.name))
        return sorted(pids)


@contextlib.contextmanager
def serve(env: dict[str, str], workers: int) -> Iterator[int]:
    """gunicorn ``wsgi:app`` on a free port; yields the port once /healthz answers."""
    with server(env, workers) as running:
        yield running.port


@contextlib.contextmanager
def server(env: dict[str, str], workers: int) -> Iterator[Server]:
    """As ``serve``, yielding the port and gunicorn's process id."""
    port = free_port()
    # No control socket: its default path is one per user, shared with any other gunicorn.
    process = subprocess.Popen(  # noqa: S603 - our venv's gunicorn
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--no-control-socket",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait_ready(port, process)
        yield Server(port, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def rss_kb(pid: int) -> int:
    """The process's resident set size (VmRSS) in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def fetch(port: int, paths: Iterable[str]) -> dict[int, int]:
    """GET each path in turn, on a new connection each; return how many got each status."""
    statuses: dict[int, int] = {}
    for path in paths:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            code = response.status
        except OSError:
            code = 0
        finally:
            conn.close()
        statuses[code] = statuses.get(code, 0) + 1
    return statuses


def free_port() -> int:
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


def load(port: int, request: Request, *, seconds: float, clients: int, expect: int = 200) -> dict:
    """Run the clients; return percentiles, throughput and status counts."""
    procs = max(1, min(2, clients))
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    children = [
        context.Process(target=_client, args=(port, request, seconds, threads, i, expect, queue))
        for i, threads in enumerate(per)
    ]
    for child in children:
        child.start()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    for _ in children:
        lat, stat = queue.get()
        latencies += lat
        for code, n in stat.items():
            statuses[code] = statuses.get(code, 0) + n
    for child in children:
        child.join()
    return {
        **percentiles(latencies, seconds),
        "requests": len(latencies),
        "errors": sum(n for code, n in statuses.items() if code != expect),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def _client(port, request, seconds, threads, index, expect, queue) -> None:
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
            method, path, body, headers = request(rnd, f"{run_id}-{thread}", n)
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
                if code == expect:
                    latencies.append(elapsed)

    pool = [threading.Thread(target=loop, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    queue.put((latencies, statuses))


def percentiles(latencies: list[float], seconds: float) -> dict:
    if len(latencies) < 2:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "rps": 0.0}
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "p50_ms": round(cuts[49] * 1000, 2),
        "p95_ms": round(cuts[94] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "rps": round(len(latencies) / seconds, 1),
    }


def trivial(_rnd: random.Random, _client: str, _n: int):
    """The baseline: ``GET /healthz`` of the same app (no database)."""
    return "GET", "/healthz", None, {}
