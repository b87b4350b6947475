"""Register the store's blueprints and what every page needs (customer, cart count, tags)."""

from flask import Flask, g, session

from demo import cart as carts
from demo import platform
from demo.views import account, admin, checkout, csrf, errors, guards, recurring, shop
from demo.views import cart as cart_views


def money(cents: int, currency: str = "USD") -> str:
    """Format integer cents for display, e.g. 1650 -> "$16.50"."""
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{symbol}{cents // 100:,}.{cents % 100:02d}"


PERIODS = {1: "day", 2: "week", 3: "month", 4: "year"}


def every(frequency: dict) -> str:
    """A frequency for shoppers: {"every": 4, "every_period": 2} -> "every 4 weeks"."""
    count, unit = frequency.get("every"), PERIODS.get(frequency.get("every_period"), "?")
    return f"every {unit}" if count == 1 else f"every {count} {unit}s"


def page_context() -> dict:
    return {
        "customer": g.get("customer"),
        "cart_count": carts.count(session.get("cart", {})),
        "main_js": platform.script_url("main.js"),
    }


def register_blueprints(app: Flask) -> None:
    csrf.init_app(app)
    errors.init_app(app)
    app.before_request(guards.load_customer)
    app.context_processor(page_context)
    app.add_template_filter(money)
    app.add_template_filter(every)
    for module in (shop, cart_views, account, checkout, admin, recurring):
        app.register_blueprint(module.bp)
