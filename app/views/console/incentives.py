"""Incentives (promotions): list, create, edit and schedule them; switch them on and off."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, g, redirect, request, url_for

from app.domain import money
from app.models.incentive import APPLIES_TO, KINDS, SCOPES, TARGETS
from app.services import incentives, pricing
from app.services.errors import ValidationError
from app.views import htmx
from app.views.console.auth import actor, login_required

bp = Blueprint("incentives", __name__, url_prefix="/incentives")

FIELDS = (
    "name",
    "kind",
    "scope",
    "applies_to",
    "percent",
    "amount",
    "currency",
    "threshold",
    "gift_product",
    "target",
    "target_group",
    "target_products",
    "min_order",
    "max_order",
    "starts_at",
    "ends_at",
    "active",
)
LABELS = {
    "kind": dict(
        zip(
            KINDS,
            ("Percent off", "Amount off", "Free shipping", "Flat-rate shipping", "Free gift"),
            strict=True,
        )
    ),
    "scope": dict(zip(SCOPES, ("Each item", "The whole order"), strict=True)),
    "applies_to": dict(
        zip(
            APPLIES_TO,
            ("First order", "Recurring orders", "First and recurring orders"),
            strict=True,
        )
    ),
    "target": dict(
        zip(TARGETS, ("All products", "A product group", "Listed products"), strict=True)
    ),
}


def _status(incentive, now: datetime) -> str:
    if not incentive.active:
        return "Off"
    if incentive.starts_at and incentive.starts_at > now:
        return "Scheduled"
    if incentive.ends_at and incentive.ends_at <= now:
        return "Ended"
    return "Active"


def _list_ctx(**ctx):
    now = datetime.now(UTC)
    rows = [
        {"incentive": i, "status": _status(i, now), "reads": pricing.describe(i)}
        for i in incentives.list_for(g.merchant.id)
    ]
    return {"rows": rows, "labels": LABELS, "tz": g.merchant.tz, **ctx}


def _form_page(incentive=None, form=None, errors=None, status: int = 200):
    return htmx.render(
        "console/incentives/form.html",
        status=status,
        incentive=incentive,
        form=form or _form(incentive),
        errors=errors or {},
        labels=LABELS,
        tz=g.merchant.tz,
        state=_status(incentive, datetime.now(UTC)) if incentive else None,
        reads=pricing.describe(incentive) if incentive else None,
    )


@bp.get("/")
@login_required
def index():
    return htmx.render(
        "console/incentives/index.html", fragment="console/incentives/_table.html", **_list_ctx()
    )


@bp.get("/new")
@login_required
def new():
    return _form_page()


@bp.post("/")
@login_required
def create():
    form = _posted()
    try:
        incentive = incentives.create(g.merchant.id, form, actor=actor())
    except ValidationError as exc:
        flash(exc.message, "error")
        return _form_page(None, form, exc.fields, status=400)
    flash("Incentive created.", "success")
    return redirect(url_for("console.incentives.detail", public_id=incentive.public_id))


@bp.get("/<public_id>")
@login_required
def detail(public_id: str):
    return _form_page(incentives.get(g.merchant.id, public_id))


@bp.post("/<public_id>")
@login_required
def update(public_id: str):
    form = _posted()
    try:
        incentives.update(g.merchant.id, public_id, form, actor=actor())
    except ValidationError as exc:
        flash(exc.message, "error")
        return _form_page(incentives.get(g.merchant.id, public_id), form, exc.fields, status=400)
    flash("Incentive saved.", "success")
    return redirect(url_for("console.incentives.detail", public_id=public_id))


@bp.post("/<public_id>/active")
@login_required
def set_active(public_id: str):
    switch = incentives.activate if request.form.get("active") == "on" else incentives.deactivate
    incentive = switch(g.merchant.id, public_id, actor=actor())
    notice = f"{incentive.name} is {'on' if incentive.active else 'off'}."
    return htmx.render(
        "console/incentives/index.html",
        fragment="console/incentives/_table.html",
        **_list_ctx(notice=notice),
    )


def _posted() -> dict[str, str]:
    """The form as posted; an unticked "active" box is sent as "" (off), not left out."""
    return {key: request.form.get(key, "") for key in FIELDS}


def _form(incentive) -> dict[str, str]:
    """The edit form's values: major units, percentages, local datetime-local strings."""
    if incentive is None:
        return {key: "" for key in FIELDS} | {
            "kind": "percent_off",
            "scope": "item",
            "applies_to": "both",
            "target": "all",
            "currency": g.merchant.currency,
            "active": "on",
        }
    i = incentive
    return {
        "name": i.name,
        "kind": i.kind,
        "scope": i.scope,
        "applies_to": i.applies_to,
        "percent": pricing.format_percent(i.percent_bp).rstrip("%") if i.percent_bp else "",
        "amount": _major(i.amount_minor, i.currency),
        "currency": i.currency,
        "threshold": _major(i.threshold_minor, i.currency),
        "gift_product": i.gift_product.product_id if i.gift_product else "",
        "target": i.target,
        "target_group": i.target_group or "",
        "target_products": " ".join(i.target_product_ids or []),
        "min_order": str(i.min_order_number or ""),
        "max_order": str(i.max_order_number or ""),
        "starts_at": _local(i.starts_at),
        "ends_at": _local(i.ends_at),
        "active": "on" if i.active else "",
    }


def _major(minor: int | None, currency: str) -> str:
    return "" if minor is None else money.decimal_string(minor, currency)


def _local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(g.merchant.tz)
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")
