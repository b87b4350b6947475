"""Perennial: subscribe-and-save for any store, speaking Ordergroove's contracts."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import assets, cli, extensions, views
from app.config import Config


def create_app(config: type[Config] = Config) -> Flask:
    """Build the web app: configuration, extensions, assets, blueprints and commands."""
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_path=config.INSTANCE_PATH,
    )
    app.config.from_object(config)
    app.config.from_prefixed_env("PERENNIAL")
    # A server database may drop idle connections: test each one as it leaves the pool. A
    # SQLite file cannot, and the ping would cost a query on every request.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_pre_ping": not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"),
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
    }
    # Rate limits share the app's Redis unless PERENNIAL_RATELIMIT_STORAGE_URI says otherwise.
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    extensions.init_app(app)
    assets.init_app(app)
    views.register_blueprints(app)
    cli.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        # Behind N proxies, trust their X-Forwarded-* so external URLs (API "next" links,
        # redirects) carry the public scheme and host.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app
