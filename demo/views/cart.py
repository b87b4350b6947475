"""The session cart: view it, add, change quantities, remove."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from demo import cart, catalog, platform

bp = Blueprint("cart", __name__, url_prefix="/cart")


def _quantity() -> int:
    return request.form.get("quantity", 1, type=int)


@bp.get("")
def index():
    lines = cart.lines(session.get("cart", {}))
    subscriptions = platform.cart_subscriptions(platform.session_id(request.cookies))
    return render_template(
        "cart/index.html", lines=lines, totals=cart.totals(lines), subscriptions=subscriptions
    )


@bp.post("/add")
def add():
    product_id = request.form.get("product_id", "")
    session["cart"] = cart.add(session.get("cart", {}), product_id, _quantity())
    flash(f"Added {catalog.get(product_id).name} to your cart.", "success")
    return redirect(url_for("cart.index"))


@bp.post("/update")
def update():
    product_id = request.form.get("product_id", "")
    session["cart"] = cart.update(session.get("cart", {}), product_id, _quantity())
    return redirect(url_for("cart.index"))


@bp.post("/remove")
def remove():
    session["cart"] = cart.remove(session.get("cart", {}), request.form.get("product_id", ""))
    return redirect(url_for("cart.index"))
