"""Checks every request passes before any view runs: storable text and ids in range.

A NUL character (PostgreSQL text cannot hold one) anywhere in the path, the query string or
a posted form is refused here with a 400 in the surface's shape, so no view, service or
query ever sees one. JSON bodies are checked where they are parsed (``integrations.wire``).
Integer path segments (``<int:…>``) match only ASCII digits within a row id's range; others
are simply not found.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from app.integrations import wire
from app.services.errors import ValidationError

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RowIdConverter(IntegerConverter):
    """``<int:…>`` for row ids: ASCII digits, at most the id column's largest value."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's own parameter name
        kwargs.setdefault("max", wire.DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def _inputs() -> Iterator[tuple[str, str]]:
    yield "path", request.path
    for key, value in request.args.items(multi=True):
        yield key, key
        yield key, value
    if request.mimetype in FORM_TYPES:
        for key, value in request.form.items(multi=True):
            yield key, key
            yield key, value


def refuse_unusable_text(_endpoint, _values) -> None:
    if request.mimetype in FORM_TYPES:
        request.get_data(cache=True)  # a view may still read the raw body (purchase POST)
        if None in request.form:  # a multipart part whose name could not be read
            raise ValidationError(
                "The form has a field without a readable name.",
                fields={"form": "A field has no readable name."},
            )
    for name, value in _inputs():
        try:
            label = "The path" if name == "path" else f"The {name[:64]!r} parameter"
            wire.check_text(value, label)
        except wire.WireError as exc:
            raise ValidationError(str(exc), fields={name[:64]: str(exc)}) from None


def register_converters(app: Flask) -> None:
    """Before any blueprint: rules bind their converters when they are registered."""
    app.url_map.converters["int"] = RowIdConverter


def init_app(app: Flask) -> None:
    # A URL value preprocessor runs before the blueprints' own ones (which look up the
    # storefront's merchant) and before every before_request function.
    app.url_value_preprocessor(refuse_unusable_text)
