"""Feed runs: history, a run's report, and "Run now" with a self-updating status."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, send_file, url_for

from app.services import feeds, sftp_accounts
from app.views import htmx
from app.views.console.auth import actor, login_required

bp = Blueprint("feeds", __name__, url_prefix="/feeds")


def _index_ctx():
    account = sftp_accounts.get(g.merchant.id)
    return {
        "runs": feeds.list_runs(g.merchant.id),
        "account": account,
        "pending": feeds.pending_files(account) if account else [],
    }


@bp.get("/")
@login_required
def index():
    return htmx.render("console/feeds/index.html", **_index_ctx())


@bp.get("/runs")
@login_required
def rows():
    return htmx.render(
        "console/feeds/index.html", fragment="console/feeds/_runs.html", **_index_ctx()
    )


@bp.post("/run")
@login_required
def start():
    runs = feeds.schedule(g.merchant.id, trigger="console", requested_by=actor().id)
    if not runs:
        flash("No new file in incoming/. Upload <merchant id>.Products.xml first.", "info")
    else:
        flash(f"Started {len(runs)} feed run(s).", "success")
    return htmx.render(
        "console/feeds/index.html", fragment="console/feeds/_runs.html", **_index_ctx()
    )


@bp.get("/<run_id>")
@login_required
def detail(run_id: str):
    run = feeds.get_run(g.merchant.id, run_id)
    return htmx.render("console/feeds/run.html", fragment="console/feeds/_run_status.html", run=run)


@bp.get("/<run_id>/report.csv")
@login_required
def report(run_id: str):
    run = feeds.get_run(g.merchant.id, run_id)
    if not run.report_path:
        flash("This run has no report yet.", "info")
        return redirect(url_for("console.feeds.detail", run_id=run_id))
    return send_file(
        run.report_path,
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"{run.file_name or 'feed'}.{run.public_id}.report.csv",
    )
