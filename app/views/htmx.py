"""The one place that reads HX-* headers: render a page, or its fragment for htmx."""

from __future__ import annotations

from typing import Any

from flask import make_response, render_template, request
from flask.typing import ResponseReturnValue


def is_fragment_request() -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and "HX-History-Restore-Request" not in request.headers
    )


def render(
    page: str, fragment: str | None = None, *, status: int = 200, **ctx: Any
) -> ResponseReturnValue:
    """Render ``fragment`` for htmx requests and ``page`` otherwise; vary on HX-Request."""
    template = fragment if fragment and is_fragment_request() else page
    response = make_response(render_template(template, **ctx), status)
    response.vary.add("HX-Request")
    return response


def trigger(response, event: str) -> None:
    """Ask htmx to fire ``event`` on the client after the swap (e.g. a toast)."""
    response.headers["HX-Trigger"] = event
