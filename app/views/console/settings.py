"""Merchant settings: identity, hash key on demand, API keys, timezone, endpoint, origins."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from app.services import api_keys, merchants, sftp_accounts
from app.services.errors import ValidationError
from app.views import htmx
from app.views.console.auth import actor, login_required, owner_required

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _page(status: int = 200, errors: dict | None = None, form: dict | None = None, **ctx):
    return htmx.render(
        "console/settings/index.html",
        status=status,
        merchant=g.merchant,
        form=form or merchants.snapshot(g.merchant),
        errors=errors or {},
        keys=api_keys.list_for(g.merchant.id),
        can_edit=g.staff.is_owner,
        **_sftp_ctx(),
        **ctx,
    )


def _sftp_ctx() -> dict:
    config = current_app.config
    return {
        "sftp": sftp_accounts.get(g.merchant.id),
        "sftp_username": g.merchant.public_id,
        "sftp_host": config["SFTP_PUBLIC_HOST"],
        "sftp_port": config["SFTP_PORT"],
        "sftp_fingerprint": sftp_accounts.host_key_fingerprint(),
    }


def _sftp_fragment(status: int = 200, **ctx):
    return htmx.render(
        "console/settings/index.html",
        fragment="console/settings/_sftp.html",
        status=status,
        merchant=g.merchant,
        form=merchants.snapshot(g.merchant),
        errors={},
        keys=api_keys.list_for(g.merchant.id),
        can_edit=g.staff.is_owner,
        **{**_sftp_ctx(), **ctx},
    )


@bp.post("/sftp/password")
@owner_required
def reset_sftp_password():
    password = sftp_accounts.set_password(g.merchant.id, g.merchant.public_id, actor=actor())
    return _sftp_fragment(new_password=password)


@bp.post("/sftp/keys")
@owner_required
def update_sftp_keys():
    text = request.form.get("authorized_keys", "")
    try:
        sftp_accounts.set_authorized_keys(g.merchant.id, g.merchant.public_id, text, actor=actor())
    except ValidationError as exc:
        return _sftp_fragment(400, sftp_error=exc.message, keys_text=text)
    return _sftp_fragment(sftp_saved=True)


@bp.get("")
@login_required
def index():
    return _page()


@bp.post("")
@owner_required
def update():
    # Only what was posted: the placement hour and endpoint live in the placement settings.
    form = {f: request.form[f] for f in merchants.SETTINGS_FIELDS if f in request.form}
    try:
        merchants.update_settings(g.merchant.id, form, actor=actor())
    except ValidationError as exc:
        flash(exc.message, "error")
        return _page(400, errors=exc.fields, form=form)
    flash("Settings saved.", "success")
    return redirect(url_for("console.settings.index"))


@bp.post("/hash-key")
@owner_required
def reveal_hash_key():
    key = merchants.reveal_hash_key(g.merchant.id, actor=actor())
    return htmx.render(
        "console/settings/index.html",
        fragment="console/settings/_hash_key.html",
        merchant=g.merchant,
        form=merchants.snapshot(g.merchant),
        errors={},
        keys=api_keys.list_for(g.merchant.id),
        can_edit=True,
        hash_key=key,
    )


@bp.post("/api-keys")
@owner_required
def create_api_key():
    try:
        key, raw = api_keys.create(
            g.merchant.id, request.form.get("name", ""), actor=actor(), created_by_id=g.staff.id
        )
    except ValidationError as exc:
        return _keys_fragment(error=exc.message, status=400)
    return _keys_fragment(new_key=raw, new_key_id=key.id)


@bp.post("/api-keys/<int:key_id>/revoke")
@owner_required
def revoke_api_key(key_id: int):
    api_keys.revoke(g.merchant.id, key_id, actor=actor())
    return _keys_fragment()


def _keys_fragment(status: int = 200, **ctx):
    return htmx.render(
        "console/settings/index.html",
        fragment="console/settings/_api_keys.html",
        status=status,
        merchant=g.merchant,
        form=merchants.snapshot(g.merchant),
        errors={},
        keys=api_keys.list_for(g.merchant.id),
        can_edit=True,
        **ctx,
    )
