"""Query parameters read once, with bounds, for every view (``?page_size=``, dates, flags).

A bad value raises ``ValidationError`` naming the parameter: the API answers it as
``{"<name>": "<what is wrong>"}`` (contracts §8.3), the console as its error page.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from flask import request

from app.integrations import wire
from app.services.errors import ValidationError

TRUE, FALSE = ("1", "true", "True", "yes"), ("0", "false", "False", "no")


def _refuse(name: str, message: str) -> ValidationError:
    return ValidationError(f"{name}: {message}", fields={name: message})


def integer(name: str, *, default: int | None, low: int, high: int) -> int | None:
    """``?name=`` as a whole number from ``low`` to ``high``; ``default`` when absent or empty."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    try:
        return wire.parse_int(raw, low=low, high=high, label=name)
    except wire.WireError as exc:
        raise _refuse(name, f"Use a number from {low} to {high}.") from exc


def page_size(default: int = 10, high: int = 100) -> int:
    return integer("page_size", default=default, low=1, high=high)


def moment(name: str, *, default_tz: tzinfo = UTC) -> datetime | None:
    """``?name=`` as an aware UTC datetime (ISO 8601; naive values are in ``default_tz``)."""
    raw = request.args.get(name, "")
    if raw == "":
        return None
    try:
        return wire.parse_datetime(raw, default_tz=default_tz, label=name)
    except wire.WireError as exc:
        raise _refuse(name, f"{exc} Use an ISO 8601 date or datetime.") from exc


def flag(name: str) -> bool | None:
    """``?name=true|false`` (also 1/0, yes/no); None when absent or empty."""
    raw = request.args.get(name, "")
    if raw == "":
        return None
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    raise _refuse(name, "Use true or false.")


def choice(name: str, choices) -> str | None:
    """``?name=`` as one of ``choices``; None when absent or empty."""
    raw = request.args.get(name, "")
    if raw == "":
        return None
    if raw not in choices:
        raise _refuse(name, f"Use one of: {', '.join(choices)}.")
    return raw


def text(name: str, *, limit: int = 200) -> str:
    """``?name=`` as text of at most ``limit`` characters ("" when absent)."""
    raw = request.args.get(name, "")
    if len(raw) > limit:
        raise _refuse(name, f"At most {limit} characters.")
    return raw


def others(*names: str) -> dict[str, str]:
    """The request's query parameters but ``names``: what a next-page link carries over."""
    return {k: v for k, v in request.args.items() if k not in names}
