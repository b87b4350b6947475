"""Untrusted input read once, at the boundary: JSON with a depth limit, text a database can
store, integers within bounds and datetimes that convert to UTC.

Pure functions: no Flask, no database. Each refusal is a ``WireError`` whose message can be
shown to the sender as it is; the views and services put it in their contract's shape.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, tzinfo
from typing import Any

MAX_DEPTH = 32  # arrays and objects inside each other; real payloads use fewer than 6
DB_INT_MAX = 2**31 - 1  # row ids are PostgreSQL ``integer`` columns
# NUL cannot be stored in PostgreSQL text; a lone surrogate cannot be encoded as UTF-8.
UNUSABLE = re.compile("[\x00\ud800-\udfff]")
DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only: str.isdigit() also accepts "²" and "١"
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class WireError(ValueError):
    """Input refused at the boundary; the message says why, in the sender's terms."""


class NotJson(WireError):
    """The text is not JSON at all (as opposed to JSON refused for what it holds)."""


def check_text(value: str, label: str = "A text value") -> str:
    """Return ``value`` unless it holds a NUL or a lone surrogate, which nothing can store."""
    if UNUSABLE.search(value):
        raise WireError(
            f"{label} contains a NUL character or an invalid (lone surrogate) character."
        )
    return value


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, label: str = "The JSON") -> Any:
    """Parse JSON that nests at most ``max_depth`` deep and holds only storable text.

    The depth is checked before parsing (the parser recurses), so a body of 100,000 ``[``
    costs one scan, never a RecursionError. NaN and Infinity are refused: they are not JSON.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise NotJson(f"{label} is not UTF-8 text.") from None
    _check_depth(text, max_depth, label)
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise NotJson(f"{label} is not valid JSON.") from exc
    check_tree(value, label=label)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _check_depth(text: str, max_depth: int, label: str) -> None:
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot nest deeper than it has brackets: the common, cheap case
    depth = 0
    for match in _NESTING.finditer(text):  # strings are skipped whole, brackets counted
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > max_depth:
                raise WireError(f"{label} nests deeper than {max_depth} levels.")
        elif token in ("]", "}"):
            depth -= 1


def check_tree(value: Any, *, label: str = "The JSON") -> None:
    """Refuse unusable text anywhere in a parsed JSON value, keys included (no recursion)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            check_text(item, f"{label} has a string that")
        elif isinstance(item, dict):
            for key, child in item.items():
                check_text(str(key), f"{label} has a key that")
                pending.append(child)
        elif isinstance(item, list):
            pending.extend(item)


def parse_int(value: Any, *, low: int, high: int, label: str = "The number") -> int:
    """An integer from ``low`` to ``high``: a JSON integer, or ASCII digits in a string."""
    if isinstance(value, str) and DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    elif isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise WireError(f"{label} must be a whole number from {low} to {high}.")
    return value


def parse_datetime(value: str, *, default_tz: tzinfo = UTC, label: str = "The date") -> datetime:
    """An ISO 8601 date or datetime as an aware UTC datetime; a naive one is in ``default_tz``.

    Refused: what is not ISO 8601, and moments that fall outside the calendar once moved to
    UTC (``0001-01-01T00:00+01:00``).
    """
    text = (value or "").strip()
    if len(text) > 64:
        raise WireError(f"{label} is not an ISO 8601 date or datetime.")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise WireError(
            f"{label} is not an ISO 8601 date or datetime, such as 2026-12-01T09:00:00Z."
        ) from None
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=default_tz)
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise WireError(f"{label} is out of range.") from None


def parse_date(value: Any, *, label: str = "The date") -> date:
    """A calendar date written ``YYYY-MM-DD``."""
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value.strip()):
        raise WireError(f"{label} must be YYYY-MM-DD.")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise WireError(f"{label} must be YYYY-MM-DD.") from None
