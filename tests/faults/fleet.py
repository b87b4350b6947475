"""Real processes for the fault tests: RQ workers and ``flask`` commands on the test's database
and Redis. Each starts its own session, so it and every process it forks (RQ's work-horses call
``setpgrp``, but stay in the session) can be found, signalled and ended; nothing else is ever
signalled."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask
from rq import Worker

from app.jobs import queue

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")


class Fleet:
    """The processes one test started: ``workers``, ``command``, ``kill`` and ``stop``."""

    def __init__(self, app: Flask, database_url: str, folder: Path, **config: object) -> None:
        self.folder = folder
        self.procs: list[subprocess.Popen] = []
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TEST_", "PERENNIAL_", "SMTP_"))
        }
        env.update(
            {
                "DATABASE_URL": database_url,
                "REDIS_URL": app.config["REDIS_URL"],
                "SECRET_KEY": app.config["SECRET_KEY"],
                "PERENNIAL_INSTANCE": str(folder),
                "PYTHONUNBUFFERED": "1",
            }
        )
        # Config for the children, e.g. PLACEMENT_LEASE_MARGIN_SECONDS=1 (Flask reads
        # PERENNIAL_<NAME> as JSON).
        env.update({f"PERENNIAL_{name}": str(value) for name, value in config.items()})
        self.env = env

    def start(self, *args: str, name: str) -> subprocess.Popen:
        """Start ``flask --app wsgi <args>`` in its own session, output to ``<name>.log``."""
        with open(self.folder / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(  # noqa: S603 - our venv's flask
                [str(FLASK), "--app", "wsgi", *args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def workers(self, n: int, timeout: float = 20.0) -> list[subprocess.Popen]:
        """Start ``n`` RQ workers and wait until each has registered with Redis."""
        started = [self.start("worker", name=f"worker{len(self.procs) + 1}") for _ in range(n)]
        deadline = time.monotonic() + timeout
        while Worker.count(connection=queue.redis()) < n:
            if any(p.poll() is not None for p in started) or time.monotonic() > deadline:
                raise AssertionError(f"workers did not start:\n{self.logs()}")
            time.sleep(0.05)
        return started

    def command(self, *args: str, name: str, timeout: float = 60.0) -> str:
        """Run a ``flask`` command to its end; return its output (AssertionError if it fails)."""
        proc = self.start(*args, name=name)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._end(proc)
            raise AssertionError(f"{name} did not finish in {timeout} s") from None
        output = self.log(name)
        assert code == 0, f"{name} exited {code}:\n{output}"
        return output

    def owns(self, pid: int) -> bool:
        return any(pid in self.members(proc) for proc in self.procs)

    def kill(self, pid: int, sig: int = signal.SIGKILL) -> None:
        """Signal one of our own processes (refused for any other)."""
        assert self.owns(pid), f"pid {pid} is not one of this test's processes"
        os.kill(pid, sig)

    @staticmethod
    def members(proc: subprocess.Popen) -> list[int]:
        """Every live process in ``proc``'s session (the leader, its work-horses, ...)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            if int(fields[3]) == proc.pid and fields[0] != "Z":
                found.append(int(stat.parent.name))
        return found

    def stop(self) -> None:
        """End every process started, with every process in its session (SIGKILL: by now
        nothing they do matters, and a worker's warm shutdown takes seconds)."""
        for proc in self.procs:
            self._end(proc)

    def _end(self, proc: subprocess.Popen) -> None:
        for pid in self.members(proc):
            with contextlib.suppress(ProcessLookupError):  # ended meanwhile
                os.kill(pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while self.members(proc) and time.monotonic() < deadline:
            time.sleep(0.02)  # orphaned work-horses are reaped by init

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.folder.glob("*.log"))
        )
