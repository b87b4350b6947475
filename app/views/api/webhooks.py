"""The webhook configuration API (contracts §8.4), Application scope:

* ``POST /webhook_targets/`` ``{"merchant", "target_url", "enabled"}`` → 201 the target
  (``{"id", "merchant", "target_url", "enabled", "filters", "failing", "created", "updated"}``);
  ``GET /webhook_targets/`` lists them; ``PATCH /webhook_targets/<id>/`` changes
  ``target_url`` or ``enabled``.
* ``POST /webhook_targets/<id>/filters`` ``{"pattern": "subscription.*|order.*"}`` adds a filter.
* ``GET /webhook_targets/<id>/signing_key`` → ``{"signing_key": …}``;
  ``POST /webhook_targets/<id>/signing_key/rotate`` → the new one (the old signs beside it for
  24 hours).
"""

from __future__ import annotations

from flask import g, jsonify

from app.extensions import sqlite_writer_lock
from app.services import webhooks
from app.services.errors import PermissionDenied
from app.views.api import bp
from app.views.api.auth import api_key_required
from app.views.api.customers import json_body


def _shown(target):
    return webhooks.target_dict(target, g.merchant.public_id)


@bp.post("/webhook_targets/")
@api_key_required
def webhook_target_create():
    body = json_body()
    if body.get("merchant") not in (None, "", g.merchant.public_id):
        raise PermissionDenied("Authentication Failed")
    with sqlite_writer_lock():
        target = webhooks.create(
            g.merchant.id, body.get("target_url"), enabled=body.get("enabled", True), actor=g.actor
        )
    return jsonify(_shown(target)), 201


@bp.get("/webhook_targets/")
@api_key_required
def webhook_target_list():
    return jsonify({"results": [_shown(t) for t in webhooks.list_for(g.merchant.id)]})


@bp.patch("/webhook_targets/<public_id>/")
@api_key_required
def webhook_target_update(public_id: str):
    body = json_body()
    with sqlite_writer_lock():
        target = webhooks.update(g.merchant.id, public_id, body, actor=g.actor)
    return jsonify(_shown(target))


@bp.post("/webhook_targets/<public_id>/filters")
@bp.post("/webhook_targets/<public_id>/filters/")
@api_key_required
def webhook_target_filter(public_id: str):
    body = json_body()
    with sqlite_writer_lock():
        target = webhooks.add_filter(g.merchant.id, public_id, body.get("pattern"), actor=g.actor)
    return jsonify(_shown(target)), 201


@bp.get("/webhook_targets/<public_id>/signing_key")
@bp.get("/webhook_targets/<public_id>/signing_key/")
@api_key_required
def webhook_target_key(public_id: str):
    return jsonify({"signing_key": webhooks.get(g.merchant.id, public_id).signing_key})


@bp.post("/webhook_targets/<public_id>/signing_key/rotate")
@bp.post("/webhook_targets/<public_id>/signing_key/rotate/")
@api_key_required
def webhook_target_rotate(public_id: str):
    with sqlite_writer_lock():
        target = webhooks.rotate(g.merchant.id, public_id, actor=g.actor)
    return jsonify({"signing_key": target.signing_key})
