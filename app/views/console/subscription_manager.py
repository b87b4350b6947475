"""Subscription Manager settings: what the subscriber dashboard offers, the cancel reasons,
the store's auth page and where instant upsell is on."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from app.domain.frequency import PERIODS
from app.models.offer import DEFAULT_LOCATION
from app.services import cancel_reasons, dashboard_settings, offers
from app.services.errors import ValidationError
from app.views import htmx
from app.views.console.auth import actor, login_required, owner_required

bp = Blueprint("subscription_manager", __name__, url_prefix="/settings/subscription-manager")

BLANK_REASON_ROWS = 3  # empty rows under the list, to add reasons
UPSELL_LOCATIONS = ("pdp", "cart")  # offered even before the merchant has an offer there


def _form(chosen: dashboard_settings.DashboardSettings) -> dict:
    """The settings as the form shows them."""
    offer = chosen.save_offer or {}
    return {
        "quantities": ", ".join(str(q) for q in chosen.quantities),
        **{flag: getattr(chosen, flag) for flag in dashboard_settings.FLAGS},
        "save_offer": offer.get("kind", ""),
        "every": str(offer.get("every", "")),
        "every_period": str(offer.get("every_period", "")),
        "percent": str(offer.get("percent", "")),
        "orders": str(offer.get("orders", "")),
        "auth_page_url": chosen.auth_page_url or "",
        "upsell_locations": list(chosen.upsell_locations),
    }


def _reason_rows(given: list[dict] | None = None) -> list[dict]:
    rows = [
        {"code": str(r["code"]), "reason": r["reason"], "requires_text": r["requires_text"]}
        for r in (given if given is not None else cancel_reasons.reasons(g.merchant.id))
    ]
    return rows + [{"code": "", "reason": "", "requires_text": False}] * BLANK_REASON_ROWS


def _page(status: int = 200, **ctx):
    chosen = dashboard_settings.settings_for(g.merchant)
    form = ctx.pop("form", None) or _form(chosen)
    known = {o.location for o in offers.list_for(g.merchant.id)} - {DEFAULT_LOCATION}
    return htmx.render(
        "console/subscription_manager/index.html",
        status=status,
        form=form,
        errors=ctx.pop("errors", {}),
        reasons=ctx.pop("reasons", None) or _reason_rows(),
        reason_errors=ctx.pop("reason_errors", {}),
        custom_reasons=g.merchant.cancel_reasons is not None,
        locations=sorted(known | set(UPSELL_LOCATIONS) | set(form["upsell_locations"])),
        periods=PERIODS,
        can_edit=g.staff.is_owner,
        **ctx,
    )


@bp.get("")
@login_required
def index():
    return _page()


@bp.post("")
@owner_required
def update():
    form = request.form.to_dict()
    form["upsell_locations"] = request.form.getlist("upsell_locations")
    try:
        dashboard_settings.save(g.merchant.id, form, actor=actor())
    except ValidationError as exc:
        flash(exc.message, "error")
        shown = {**form, **{f: bool(form.get(f)) for f in dashboard_settings.FLAGS}}
        return _page(400, form=shown, errors=exc.fields)
    flash("Subscription Manager settings saved.", "success")
    return redirect(url_for("console.subscription_manager.index"))


@bp.post("/cancel-reasons")
@owner_required
def update_reasons():
    given, rows = _posted_reasons(request.form)
    try:
        cancel_reasons.set_reasons(g.merchant.id, given, actor=actor())
    except ValidationError as exc:
        flash(exc.message, "error")
        return _page(400, reasons=rows, reason_errors=_row_errors(exc.fields, given, rows))
    flash("Cancel reasons saved.", "success")
    return redirect(url_for("console.subscription_manager.index") + "#cancel-reasons")


@bp.post("/cancel-reasons/reset")
@owner_required
def reset_reasons():
    cancel_reasons.set_reasons(g.merchant.id, None, actor=actor())
    flash("Cancel reasons are back to the defaults.", "success")
    return redirect(url_for("console.subscription_manager.index") + "#cancel-reasons")


def _posted_reasons(form: MultiDict) -> tuple[list[dict], list[dict]]:
    """The filled-in rows as ``set_reasons`` takes them, and every row as posted."""
    given, rows = [], []
    for n in range(cancel_reasons.MAX_REASONS + BLANK_REASON_ROWS):
        code = form.get(f"reasons-{n}-code", "").strip()
        reason = form.get(f"reasons-{n}-reason", "")
        requires_text = bool(form.get(f"reasons-{n}-text"))
        if f"reasons-{n}-code" not in form and f"reasons-{n}-reason" not in form:
            continue
        row = {"code": code, "reason": reason, "requires_text": requires_text}
        if code or reason.strip():
            number = int(code) if code.isascii() and code.isdigit() and len(code) <= 6 else code
            given.append({**row, "code": number, "row": len(rows)})
        rows.append(row)
    return given, rows


def _row_errors(fields: dict, given: list[dict], rows: list[dict]) -> dict:
    """``cancel_reasons.<n>.<field>`` (n among the filled-in rows) as ``<row>.<field>``."""
    found = {}
    for key, message in fields.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(given):
            found[f"{given[int(parts[1])]['row']}.{parts[2]}"] = message
        else:
            found["list"] = message
    return found
