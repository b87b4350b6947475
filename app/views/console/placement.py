"""Order placement: its runs (and "Run placement now"), and its settings."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, g, redirect, request, url_for

from app.models.types import utcnow
from app.services import merchants, order_search, placement
from app.services.errors import ValidationError
from app.views import htmx
from app.views.console.auth import actor, login_required, owner_required

bp = Blueprint("placement", __name__)  # its runs and its settings sit under two paths

# The section's fields, all posted every time ("" for an unticked box): update_settings checks
# only what is posted, so the form must post exactly these.
FIELDS = ("placement_hour", "order_endpoint_url", *merchants.PLACEMENT_FIELDS)
POLL_FOR = timedelta(minutes=30)  # a run still "running" after this lost its worker: stop


def _runs_ctx(**ctx) -> dict:
    rows = order_search.runs(g.merchant.id)
    since = utcnow() - POLL_FOR
    polling = any(r.run.status == "running" and r.run.started_at >= since for r in rows)
    return {
        "rows": rows,
        "polling": polling,
        "tz": g.merchant.tz,
        "can_run": g.staff.is_owner,
        "merchant": g.merchant,
        "outcomes": order_search.OUTCOMES,
        "outcome_tones": order_search.OUTCOME_TONES,
        **ctx,
    }


@bp.get("/placement/runs")
@login_required
def runs():
    return htmx.render(
        "console/placement/runs.html", fragment="console/placement/_runs.html", **_runs_ctx()
    )


@bp.post("/placement/runs")
@owner_required
def start():
    now = utcnow()
    run = placement.start(
        g.merchant.id, trigger="console", now=now, as_of=placement.local_today(g.merchant, now)
    )
    notice = (
        f"Started a run: {run.due} order{'s' if run.due != 1 else ''} due."
        if run.due
        else "Nothing is due now: no order was sent."
    )
    return htmx.render(
        "console/placement/runs.html",
        fragment="console/placement/_runs.html",
        **_runs_ctx(notice=notice),
    )


def _form(merchant) -> dict[str, str]:
    """The settings as the form shows them."""
    values = merchants.snapshot(merchant)
    names = values["card_type_names"] or {}
    return {
        **{k: "" if v is None else str(v) for k, v in values.items()},
        "placement_hour": "never"
        if merchant.placement_hour is None
        else str(merchant.placement_hour),
        "endpoint_dedupes": "on" if merchant.endpoint_dedupes else "",
        "card_type_names": " ".join(f"{code}={name}" for code, name in sorted(names.items())),
    }


def _settings_page(status: int = 200, form: dict | None = None, errors: dict | None = None):
    return htmx.render(
        "console/placement/settings.html",
        status=status,
        form=form or _form(g.merchant),
        errors=errors or {},
        can_edit=g.staff.is_owner,
    )


@bp.get("/settings/placement")
@login_required
def settings():
    return _settings_page()


@bp.post("/settings/placement")
@owner_required
def update_settings():
    form = {field: request.form.get(field, "") for field in FIELDS}
    try:
        merchants.update_settings(g.merchant.id, form, actor=actor())
    except ValidationError as exc:
        flash(exc.message, "error")
        return _settings_page(400, form, exc.fields)
    flash("Order placement settings saved.", "success")
    return redirect(url_for("console.placement.settings"))
