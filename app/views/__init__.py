"""Blueprints, one per surface, registered by the factory."""

from __future__ import annotations

from flask import Flask, redirect, url_for

from app.extensions import csrf
from app.views import api, boundary, console, errors, security, storefront


def register_blueprints(app: Flask) -> None:
    boundary.register_converters(app)
    boundary.init_app(app)
    csrf.exempt(api.bp)  # server-to-server: authenticated by key or signature, not cookies
    app.register_blueprint(api.bp)
    app.register_blueprint(console.bp)
    csrf.exempt(storefront.bp)  # cross-origin, cookie-less: guarded by origin, not CSRF tokens
    app.register_blueprint(storefront.bp)
    errors.init_app(app)
    security.init_app(app)

    @app.get("/")
    def index():
        return redirect(url_for("console.overview.index"))

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}
