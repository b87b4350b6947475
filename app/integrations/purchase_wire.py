"""The purchase POST's wire format (contracts §5): the body, its fields, and card numbers.

Pure: bytes and JSON values in, plain values out, ``Unusable`` with the message the store
reads when something cannot be used (the service answers it as the contract's 400). Nothing
here knows a merchant or the database.

* ``parse_body`` reads ``create_request=<JSON>`` in both encodings Ordergroove's integrations
  use: the whole JSON URL-encoded, or each string value encoded.
* ``refuse_card_numbers``: anything that looks like a card number (13-19 digits, spaces or
  dashes allowed, standing on their own, a card network's prefix and a valid Luhn check)
  anywhere in the payload refuses the request.
* The field readers (``text``, ``obj``, ``flag``, ``line_int``, ``override``) say what is wrong
  with a field in the contract's words ("User id cannot be null").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote, unquote_plus

from app.integrations import wire

MAX_TEXT = 500
PAN_RE = re.compile(r"(?<![0-9A-Za-z])(?:\d[ -]?){12,18}\d(?![0-9A-Za-z])")
PAN_PREFIXES = re.compile(
    r"4|5[1-5]|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[47]|3(?:0[0-5]|[68])|"
    r"6(?:011|5|4[4-9]|22)|35(?:2[89]|[3-8])|62|8[1-8]"
)


class Unusable(Exception):  # noqa: N818 - what the request is, as the contract says it
    """The request cannot be used; the message says why, in the contract's words. Not a
    ValueError: that is one subscription line failing (``line_int``), the others going on."""


def parse_body(raw: bytes, field: str = "create_request") -> dict[str, Any]:
    """``<field>=<JSON>``: the whole JSON URL-encoded, or each string value encoded. The
    purchase POST's ``create_request``; the legacy payment update's ``update_request``."""
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise Unusable("The request body is not UTF-8 text.") from None
    for prefix in (f"{field}=", f"{field}%3D"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    else:
        if not text.startswith(("{", "%7B", "%7b")):
            raise Unusable(f"Send the order as {field}=<JSON>.")
    if "&" in text and not text.lstrip().startswith("{"):
        text = text.split("&", 1)[0]  # other form fields are ignored
    try:
        data = _json(text, field)
        if data is None:
            data = _json(unquote_plus(text), field)
        if not isinstance(data, dict):
            raise Unusable(f"{field} is not a JSON object.")
        data = _decoded(data)
        wire.check_tree(data, label=field)  # percent-decoding may add a NUL
    except wire.WireError as exc:
        raise Unusable(str(exc)) from None
    return data


def _json(text: str, field: str) -> Any:
    """The JSON value, or None when it is not JSON (refused JSON raises WireError)."""
    try:
        return wire.loads(text, label=field)
    except wire.NotJson:
        return None


def _decoded(value: Any) -> Any:
    """Percent-decode every string leaf (the per-value encoding; harmless otherwise)."""
    if isinstance(value, str):
        return unquote(value) if "%" in value else value
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _decoded(v) for k, v in value.items()}
    return value  # depth is bounded by wire.loads, so this recursion is too


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def looks_like_pan(text: str) -> bool:
    """A card number: 13-19 digits (spaces/dashes allowed) standing on their own, a network
    prefix, a valid Luhn. Digits inside a word are not one: a merchant's public id (hex) such
    as ``…d83542758135348a…`` holds a Luhn-valid run, and every checkout naming it was refused."""
    for match in PAN_RE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and PAN_PREFIXES.match(digits) and _luhn(digits):
            return True
    return False


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def holds_card_number(payload: Mapping[str, Any]) -> bool:
    """Whether anything in ``payload`` looks like a card number."""
    return any(
        isinstance(leaf, int | str) and not isinstance(leaf, bool) and looks_like_pan(str(leaf))
        for leaf in _leaves(payload)
    )


def refuse_card_numbers(payload: Mapping[str, Any]) -> None:
    if holds_card_number(payload):
        raise Unusable(
            "The request contains what looks like a card number; send the payment "
            "gateway's token_id instead."
        )


def text(
    data: Mapping[str, Any],
    key: str,
    label: str,
    *,
    required: bool = False,
    limit: int = MAX_TEXT,
    numbers: bool = True,
) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise Unusable(f"{label} cannot be null")
        return None
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise Unusable(f"{label} must be a string")
    value = value.strip()
    if len(value) > limit:
        raise Unusable(f"{label} is longer than {limit} characters")
    if required and not value:
        raise Unusable(f"{label} cannot be null")
    return value or None


def obj(data: Mapping[str, Any], key: str, label: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Unusable(f"{label} must be an object")
    return value


def flag(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise Unusable(f"{key} must be true or false")


def line_int(value: Any, label: str, low: int, high: int) -> int:
    """A line's number (ValueError: the line fails, the others may still subscribe)."""
    try:
        return wire.parse_int(value, low=low, high=high, label=label)
    except wire.WireError:
        raise ValueError(f"{label} must be a whole number from {low} to {high}") from None


def override(value: Any, label: str) -> dict[str, Any] | None:
    """A ``tracking_override`` object, its ``product`` and ``offer`` ids read as strings."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Unusable(f"{label} must be an object")
    checked = dict(value)
    for key in ("product", "offer"):
        item = value.get(key)
        if item in (None, ""):
            checked[key] = None
        elif isinstance(item, str | int) and not isinstance(item, bool) and len(str(item)) <= 64:
            checked[key] = str(item)
        else:
            raise Unusable(f"{label}.{key} must be an id of at most 64 characters")
    return checked
