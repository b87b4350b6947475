"""The REST API (contracts §8): Application scope by ``x-api-key``, JSON in and out."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from app.views.api import (  # noqa: E402, F401  (routes register on bp)
    actions,
    customers,
    events,
    orders,
    products,
    purchases,
    subscriptions,
    webhooks,
)
