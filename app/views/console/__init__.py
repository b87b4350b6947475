"""The merchant console: one blueprint, a module per page group."""

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/console")

from app.views.console import (  # noqa: E402, F401  (routes register on bp)
    auth,
    feeds,
    incentives,
    offers,
    orders,
    outbox,
    overview,
    placement,
    products,
    settings,
    subscribers,
)
