"""The REST API (contracts §8): Application scope by ``x-api-key``, JSON in and out."""

from flask import Blueprint

from app.views.ratelimits import limit_api

bp = Blueprint("api", __name__)
# Once, with the blueprint: Flask-Limiter keeps blueprint limits globally, so applying it in the
# app factory would count each request once more for every app a process builds (the tests').
limit_api(bp)

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
