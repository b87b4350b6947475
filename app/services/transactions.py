"""How a unit of work treats what the session holds across its commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.extensions import db


@contextmanager
def keeping_loaded() -> Iterator[None]:
    """Commits inside keep what the session holds loaded instead of reading it all again.

    For answering with what a service just wrote (an API action's object: its values are the
    ones this transaction committed), and for placing orders one after another: each order is
    read again once claimed, and its subscriptions before anything is decided for them (they
    may be cancelled meanwhile); the merchant's settings and the catalog are then as they were
    when the batch began reading them (a change applies from the next batch, seconds later).
    Every decision is still a conditional UPDATE on the order's row, whatever the session
    holds.
    """
    session = db.session()
    before = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = before
