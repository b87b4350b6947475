"""Map errors to pages a shopper can act on."""

from flask import Flask, flash, redirect, render_template, url_for

from demo.cart import CartError
from demo.feed import SyncError
from demo.recurring import UnknownMode


def cart_error(error: CartError):
    flash(str(error), "error")
    return redirect(url_for("cart.index"))


def admin_error(error: SyncError | UnknownMode):
    flash(str(error), "error")
    return redirect(url_for("admin.index"))


def http_error(error):
    return render_template("error.html", error=error), error.code


def init_app(app: Flask) -> None:
    app.register_error_handler(CartError, cart_error)
    app.register_error_handler(SyncError, admin_error)
    app.register_error_handler(UnknownMode, admin_error)
    for code in (400, 404, 405):
        app.register_error_handler(code, http_error)
