"""Feed runs: history, a run's report, and "Run now" with a self-updating status."""

from __future__ import annotations

from flask import flash, g, redirect, send_file, url_for

from app.services import feeds, sftp_accounts
from app.views import htmx
from app.views.console import bp
from app.views.console.auth import actor, login_required


def _index_ctx():
    account = sftp_accounts.get(g.merchant.id)
    return {
        "runs": feeds.list_runs(g.merchant.id),
        "account": account,
        "pending": feeds.pending_files(account) if account else [],
    }


@bp.get("/feeds/")
@login_required
def feeds_index():
    return htmx.render("console/feeds/index.html", **_index_ctx())


@bp.get("/feeds/runs")
@login_required
def feed_rows():
    return htmx.render(
        "console/feeds/index.html", fragment="console/feeds/_runs.html", **_index_ctx()
    )


@bp.post("/feeds/run")
@login_required
def run_feeds():
    runs = feeds.schedule(g.merchant.id, trigger="console", requested_by=actor().id)
    if not runs:
        flash("No new file in incoming/. Upload <merchant id>.Products.xml first.", "info")
    else:
        flash(f"Started {len(runs)} feed run(s).", "success")
    return htmx.render(
        "console/feeds/index.html", fragment="console/feeds/_runs.html", **_index_ctx()
    )


@bp.get("/feeds/<run_id>")
@login_required
def feed_run(run_id: str):
    run = feeds.get_run(g.merchant.id, run_id)
    return htmx.render("console/feeds/run.html", fragment="console/feeds/_run_status.html", run=run)


@bp.get("/feeds/<run_id>/report.csv")
@login_required
def feed_report(run_id: str):
    run = feeds.get_run(g.merchant.id, run_id)
    if not run.report_path:
        flash("This run has no report yet.", "info")
        return redirect(url_for("console.feed_run", run_id=run_id))
    return send_file(
        run.report_path,
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"{run.file_name or 'feed'}.{run.public_id}.report.csv",
    )
