"""Store admin: what the store sends to Perennial and receives from it, and its switches.

A demo has no staff accounts, so this page is open like the rest of the store; it never
shows the SFTP password. A real store would put it behind its own staff login.
"""

from datetime import datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from demo import catalog, feed, platform, purchase_post, recurring

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
def index():
    site = platform.configured_drop_site()
    return render_template(
        "admin/index.html",
        products=catalog.PRODUCTS,
        file_name=platform.feed_filename(),
        site=site,
        fingerprint=feed.pinned_fingerprint(site) if site else None,
        console_feeds=platform.console_url("feeds/"),
        posts=purchase_post.recent(),
        order_endpoint=platform.order_endpoint_url(),
        modes=recurring.MODES,
        mode=recurring.mode(),
        received=recurring.received(),
        deliveries=recurring.deliveries(),
    )


@bp.post("/recurring-orders")
def recurring_orders():
    recurring.set_mode(request.form.get("mode", ""))  # UnknownMode -> views/errors.py
    flash(f"Recurring orders: {recurring.MODES[recurring.mode()]}.", "success")
    return redirect(url_for("admin.index", _anchor="recurring-title"))


@bp.post("/retry-purchases")
def retry_purchases():
    flash(f"Retried {purchase_post.retry_due()} purchase POST(s) that were due.", "success")
    return redirect(url_for("admin.index"))


@bp.post("/sync-catalog")
def sync_catalog():
    upload = platform.sync_catalog()  # SyncError -> flash and back here (views/errors.py)
    flash(
        Markup(
            "Uploaded <code>{file}</code> ({n} products) at {at:%H:%M:%S} UTC; Perennial ingests "
            'it at the next :00 or :30 ({next:%H:%M} UTC), or press Run now in <a href="{url}">the '
            "console</a>."
        ).format(
            file=upload.file_name,
            n=upload.products,
            at=upload.at,
            next=next_sweep(upload.at),
            url=platform.console_url("feeds/"),
        ),
        "success",
    )
    return redirect(url_for("admin.index"))


def next_sweep(at: datetime) -> datetime:
    """Return the next :00 or :30 after ``at``, when the platform's feed sweep runs."""
    base = at.replace(minute=0, second=0, microsecond=0)
    return base + timedelta(minutes=30 if at.minute < 30 else 60)
