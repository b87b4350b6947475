"""Customer login/logout, the My Account page and order pages."""

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from demo import customers, orders, platform, purchase_post
from demo.seed import DEMO_CUSTOMERS, DEMO_PASSWORD
from demo.views import csrf
from demo.views.guards import login_required, safe_next

bp = Blueprint("account", __name__)


@bp.get("/login")
def login():
    return render_template(
        "account/login.html",
        demo_customers=DEMO_CUSTOMERS,
        demo_password=DEMO_PASSWORD,
        next=request.args.get("next", ""),
    )


@bp.post("/login")
def authenticate():
    form = request.form
    customer = customers.authenticate(form.get("email", ""), form.get("password", ""))
    if customer is None:
        flash("That email and password don't match an account.", "error")
        return render_template(
            "account/login.html",
            demo_customers=DEMO_CUSTOMERS,
            demo_password=DEMO_PASSWORD,
            next=form.get("next", ""),
            email=form.get("email", ""),
        ), 401
    session["user_id"] = customer["user_id"]
    csrf.rotate()
    response = redirect(safe_next(form.get("next"), url_for("account.index")))
    platform.sign_in(response, customer["user_id"])
    return response


@bp.post("/logout")
def logout():
    session.pop("user_id", None)
    csrf.rotate()
    response = redirect(url_for("shop.index"))
    platform.sign_out(response)
    return response


@bp.get("/account")
@login_required
def index():
    return render_template("account/index.html", orders=orders.for_customer(g.customer["user_id"]))


@bp.post("/account/details")
@login_required
def update_details():
    """The customer's new email and phone: saved here, then told to Perennial (contracts §7.1)."""
    user_id = g.customer["user_id"]
    email, phone = request.form.get("email", ""), request.form.get("phone", "")
    problem = customers.update_contact(user_id, email, phone)
    if problem:
        flash(problem, "error")
        return render_template(
            "account/index.html",
            orders=orders.for_customer(user_id),
            details={"email": email, "phone": phone},
        ), 400
    refused = platform.set_contact_details(user_id, email.strip().lower(), " ".join(phone.split()))
    if refused:
        flash(f"Your details are saved here, but {refused}.", "error")
    else:
        flash("Your contact details are saved.", "success")
    return redirect(url_for("account.index") + "#details-title")


@bp.get("/account/subscriptions")
@login_required
def subscriptions():
    """My Subscriptions: the page tagged for Perennial's subscriber dashboard (contracts §4.1)."""
    return render_template("account/subscriptions.html", msi_js=platform.script_url("msi.js"))


@bp.get("/og/auth")
def og_auth():
    """The authentication page (contracts §4.2): no login required; renews ``og_auth`` for a
    logged-in customer, sets nothing otherwise. msi.js loads it in a hidden iframe."""
    response = make_response("<!doctype html><title>Sign-in check</title>")
    if g.customer is not None:
        platform.sign_in(response, g.customer["user_id"])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/orders/<order_number>")
@login_required
def order(order_number: str):
    found = orders.get(order_number, g.customer["user_id"]) or abort(404)
    post = purchase_post.for_order(order_number)
    return render_template(
        "account/order.html",
        order=found,
        lines=orders.lines(found["id"]),
        just_placed=request.args.get("placed") == "1",
        post=post,
        subscriptions=purchase_post.subscriptions_for(order_number),
        names={line["product_id"]: line["name"] for line in orders.lines(found["id"])},
    )
