"""Map domain and HTTP errors to responses: JSON for APIs, pages for the console."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.services.errors import DomainError

API_PREFIXES = (
    "/api/",
    "/products",
    "/subscription",
    "/subscriptions",
    "/customers",
    "/orders",
    "/order/",
    "/items",
    "/carts",
    "/addresses",
    "/payments",
    "/merchant/",
    "/customer/",
    "/events",
    "/webhook_targets",
)


# Endpoints whose contract has its own error shape (contracts §5.4, §5.5).
PURCHASE_POST = "api.subscription_create"
PLAIN_TEXT = ("api.subscription_verify", "api.update_payment_default")


def wants_json() -> bool:
    if request.blueprint == "storefront" or request.path.startswith(API_PREFIXES):
        return True
    return request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if request.endpoint == PURCHASE_POST:
            return jsonify({"error_message": exc.message}), exc.status
        if request.endpoint in PLAIN_TEXT:
            return exc.message, exc.status, {"Content-Type": "text/plain; charset=utf-8"}
        if wants_json():
            body = exc.fields or {"detail": exc.message}
            return jsonify(body), exc.status
        return render_template("errors/error.html", code=exc.status, message=exc.message), (
            exc.status
        )

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = "Your form expired or was not sent from this site. Reload the page and retry."
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.response is not None:  # built by whoever raised it (a rate limit's on_breach)
            return exc.response
        if wants_json():
            detail = "Unable to find requested asset." if exc.code == 404 else exc.description
            return jsonify({"detail": detail}), exc.code
        return render_template("errors/error.html", code=exc.code, message=exc.description), (
            exc.code
        )

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return jsonify({"detail": "Internal error; it has been logged."}), 500
        return render_template("errors/error.html", code=500, message="Something went wrong."), 500
