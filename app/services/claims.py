"""Claim a row for one worker with a conditional UPDATE: exactly one caller wins.

Any number of processes on any number of machines may try to move the same row on (a feed run
from queued to running, an order from due to sending); the database applies the UPDATE to a row
that still matches ``conditions`` once, so ``rowcount`` tells each caller whether it won. A Redis
lock may still serialise work, but the claim is what makes it happen once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, update

from app.extensions import db


def claim(model: type, row_id: int, *conditions: ColumnElement[bool], **values: Any) -> bool:
    """Set ``values`` on the row if it still matches ``conditions``, and commit; True if this
    caller changed it, False if another got there first (or the row no longer qualifies)."""
    changed = take(model, row_id, *conditions, **values)
    db.session.commit()
    return changed


def take(model: type, row_id: int, *conditions: ColumnElement[bool], **values: Any) -> bool:
    """``claim`` without the commit: the caller adds what goes with it and commits once (or
    rolls back). The row stays locked by the UPDATE until then."""
    return bool(
        db.session.execute(
            update(model)
            .where(model.id == row_id, *conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
    )
