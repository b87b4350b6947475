"""The check every generated request gets, and what it takes to make it sound.

``World.check`` sends one ``hostile.Request`` the way a WSGI server would and asserts: no 5xx;
a refusal (4xx) wrote nothing; a success made with A's credentials shows none of B's data.
The database is then put back as seeded, so every example starts from the same state and a
failure replays (and shrinks) on its own.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from werkzeug.test import EnvironBuilder

from app.extensions import db, limiter
from app.services import shops
from tests import dbstate

if TYPE_CHECKING:
    from tests.web.generated_input.world import Shop

SESSION_COOKIE = "perennial_console"
FIGURES: Counter[str] = Counter()  # examples sent, per test id (printed by tests/web/conftest)
FAILURE_LOG = os.environ.get("GENERATED_INPUT_LOG")  # append every failing example here (JSONL)
KEEP_GOING = os.environ.get("GENERATED_INPUT_KEEP_GOING") == "1"  # record, fail at the end
# What a refused request may still write, because recording it is the point:
IGNORE_COLUMNS = {
    "api_keys": {"last_used_at"},  # stamped (once a minute) when a key authenticates, before
    # the view decides; a 404 with a good key is still a use
}
IGNORE_ROWS = {"events": lambda row: row["type"] == "staff.login_failed"}  # its audit record
# Left as the request wrote them rather than undone: a key's last use is stamped at most once
# a minute, so undoing it would have every later request with the key write it again.
KEEP_COLUMNS = {"api_keys": {"last_used_at"}}


class ServerLog(logging.Handler):
    """Keeps the exceptions the app logged while serving the current request."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])


def where(exc: BaseException) -> tuple[str, str]:
    """The exception, and the deepest frame of our own code it passed through."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}app{os.sep}" in f.filename] or frames[-1:]
    at = (
        (
            f"{ours[-1].filename.rsplit(os.sep + 'app' + os.sep, 1)[-1]}:{ours[-1].lineno}"
            f" ({ours[-1].name})"
        )
        if ours
        else "?"
    )
    first = (str(exc).splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first[:200]}", at


@contextmanager
def server_stack(frames: int = 1000):
    """Serve with the stack a server worker has: about 1,000 frames. Hypothesis raises the
    recursion limit for its own use, by an amount that differs between its phases, so deep
    JSON would otherwise fail in one phase and pass in the next (and break shrinking)."""
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


@dataclass(repr=False)
class World:
    """The seeded merchants, the state every example starts from, and the check."""

    app: object
    a: Shop
    b: Shop
    console_cookie: str
    csrf: str
    baseline: dbstate.Rows
    log: ServerLog
    watch: dbstate.Watch
    rules: dict = field(default_factory=dict)  # (rule, method) -> werkzeug Rule
    cache: dict = field(default_factory=dict)  # strategies built for this world
    kept: dict = field(default_factory=dict)  # test id -> failures, with KEEP_GOING

    def __repr__(self) -> str:  # Hypothesis prints the arguments of a failing example
        return f"World(a={self.a.public_id}, b={self.b.public_id})"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))

    def check(self, request, test_id: str, *, isolation: bool) -> None:
        """Send ``request``; assert no 5xx, no write on refusal, no B data for A's credentials."""
        FIGURES[test_id] += 1
        status, body, crash = self._send(request)
        written = self._written_then_undone()
        if status >= 500:
            problem = f"answered {status}"
        elif status >= 400 and written:
            problem = f"refused with {status} but wrote: {written[:5]}"
        elif isolation and status < 400 and (leaked := self._leaked(request, body)):
            problem = f"answered {status} with merchant B's {leaked[:5]}"
        else:
            return
        error, at = where(crash) if crash is not None else ("no exception logged", "")
        server = f"{error} at {at}" if at else error
        self._log_failure(test_id, request, status, server, problem)
        if KEEP_GOING:  # one of each: the same exception at the same place
            key = (problem[:12], f"{error.partition(':')[0]} at {at}")
            self.kept.setdefault(test_id, {}).setdefault(key, (server, request))
            return
        raise AssertionError(f"{problem}\n  request: {request!r}\n  server: {server}") from crash

    def _leaked(self, request, body: bytes) -> list[str]:
        """B's strings in the response that the request did not itself send (an echo)."""
        sent = request.text()
        return [s for s in self.b.secrets() if s and s.encode() in body and s not in sent]

    def assert_no_failures_kept(self, test_id: str) -> None:
        """With GENERATED_INPUT_KEEP_GOING: fail now, listing each distinct failure once."""
        kept = self.kept.pop(test_id, {})
        assert not kept, "\n".join(
            f"{problem}: {server}\n  {request!r}"
            for (problem, _), (server, request) in kept.items()
        )

    def _written_then_undone(self) -> list[str]:
        """What the request wrote (audit records aside), after putting the database back."""
        if not self.watch.moved():
            return []
        after = dbstate.snapshot()
        written = dbstate.changes(
            self.baseline, after, ignore_columns=IGNORE_COLUMNS, ignore_rows=IGNORE_ROWS
        )
        self.baseline = dbstate.adopt(self.baseline, after, KEEP_COLUMNS)
        if dbstate.restore(self.baseline, after):
            shops.bump([self.a.id, self.b.id])  # the storefront caches what we just undid
        self.watch.moved()  # our own writes
        return written

    def _send(self, request) -> tuple[int, bytes, BaseException | None]:
        client = self.app.test_client()
        if request.mode == "console_a":
            client.set_cookie(SESSION_COOKIE, self.console_cookie)
        builder = EnvironBuilder(
            method=request.method,
            path="/",
            headers=request.headers,
            data=request.body,
            content_type=request.content_type,
            environ_overrides=request.environ_overrides(),
        )
        self.log.errors.clear()
        # Every request comes from 127.0.0.1: without a fresh budget the login throttle would
        # answer 429 before the view ever met the hostile input.
        limiter.reset()
        try:
            with server_stack():
                response = client.open(builder)
            try:
                status, body = response.status_code, response.get_data()
            finally:
                response.close()  # a sent file is closed here, as the server would
        except Exception as exc:  # it escaped the app's own error handlers: a 500 in production
            return 500, b"", exc
        finally:
            builder.close()
        return status, body, (self.log.errors[-1] if self.log.errors else None)

    def _log_failure(self, test_id, request, status, server, problem) -> None:
        if not FAILURE_LOG:
            return
        with open(FAILURE_LOG, "a") as fh:
            fh.write(
                json.dumps(
                    {
                        "test": test_id,
                        "status": status,
                        "problem": problem,
                        "server": server,
                        "request": repr(request),
                        "database": db.engine.dialect.name,
                    }
                )
                + "\n"
            )
