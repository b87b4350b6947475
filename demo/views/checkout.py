"""Checkout: shipping address, a test payment token, and the store's own order."""

from flask import Blueprint, g, redirect, render_template, request, session, url_for

from demo import cart, customers, orders, payments, platform
from demo.views.guards import login_required

bp = Blueprint("checkout", __name__, url_prefix="/checkout")


def _render(address, errors=None, token="", status=200):
    lines = cart.lines(session.get("cart", {}))
    if not lines:
        return redirect(url_for("cart.index"))
    return render_template(
        "checkout/index.html",
        lines=lines,
        totals=cart.totals(lines),
        address=address,
        errors=errors or {},
        cards=payments.TEST_CARDS,
        token=token,
    ), status


@bp.get("")
@login_required
def index():
    return _render(customers.default_address(g.customer))


@bp.post("")
@login_required
def place():
    address, errors = orders.clean_address(request.form)
    token = request.form.get("payment_token", "")
    if errors:
        return _render(address, errors, token, status=422)
    lines = cart.lines(session.get("cart", {}))
    try:
        order_number = orders.place(g.customer, lines, address, token)
    except payments.PaymentDeclined as declined:
        return _render(address, {"payment_token": str(declined)}, token, status=402)
    session.pop("cart", None)
    platform.record_purchase(order_number, platform.session_id(request.cookies))
    return redirect(url_for("account.order", order_number=order_number, placed=1))
