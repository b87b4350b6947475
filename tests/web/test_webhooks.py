"""Webhooks (contracts §8.4, T11): the configuration API, and the event log delivered to a real
receiver: filtered, signed (both keys during a rotation), retried with backoff while the
receiver is down, each event once per attempt, and delivered though nothing was ever enqueued
(the sweep reads the log)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.extensions import db
from app.integrations import signing
from app.models import WebhookDelivery, WebhookTarget
from app.models.types import utcnow
from app.services import webhook_delivery
from tests.actionkit import make_shopper, subscribe
from tests.dashkit import shop_merchant
from tests.factories import make_api_key
from tests.webhookkit import receiver


@pytest.fixture
def shopper(app):
    return make_shopper(shop_merchant())


@pytest.fixture
def key(shopper):
    return {"x-api-key": make_api_key(shopper.merchant)}


def call(client, method, path, body, headers):
    return client.open(
        path,
        method=method,
        data=json.dumps(body),
        headers={"Content-Type": "application/json", **headers},
    )


def target(client, shopper, key, url: str, pattern: str | None = None) -> dict:
    made = call(
        client,
        "POST",
        "/webhook_targets/",
        {"merchant": shopper.merchant.public_id, "target_url": url, "enabled": True},
        key,
    )
    assert made.status_code == 201, made.get_json()
    if pattern:
        assert (
            call(
                client,
                "POST",
                f"/webhook_targets/{made.get_json()['id']}/filters",
                {"pattern": pattern},
                key,
            ).status_code
            == 201
        )
    return made.get_json()


def sweep(minutes: float = 1) -> dict:
    return webhook_delivery.deliver_pending(now=utcnow() + timedelta(minutes=minutes))


def test_the_configuration_api(client, shopper, key):
    made = target(client, shopper, key, "https://hooks.example/og")
    assert set(made) == {
        "id",
        "merchant",
        "target_url",
        "enabled",
        "filters",
        "failing",
        "created",
        "updated",
    }
    assert made["merchant"] == shopper.merchant.public_id and "whsec" not in json.dumps(made)
    path = f"/webhook_targets/{made['id']}"
    assert call(
        client, "POST", f"{path}/filters", {"pattern": "subscription.*|order.*"}, key
    ).get_json()["filters"] == ["subscription.*|order.*"]
    bad = call(client, "POST", f"{path}/filters", {"pattern": "ORDER!"}, key)
    assert bad.status_code == 400 and "pattern" in bad.get_json()
    first = client.get(f"{path}/signing_key", headers=key).get_json()["signing_key"]
    rotated = call(client, "POST", f"{path}/signing_key/rotate", {}, key).get_json()["signing_key"]
    assert (
        first != rotated
        and client.get(f"{path}/signing_key", headers=key).get_json()["signing_key"] == rotated
    )
    assert call(client, "PATCH", f"{path}/", {"enabled": False}, key).get_json()["enabled"] is False
    assert [
        t["id"] for t in client.get("/webhook_targets/", headers=key).get_json()["results"]
    ] == [made["id"]]
    for url in ("http://hooks.example/og", "ftp://x", "", "https://user:pw@hooks.example/"):
        refused = call(client, "POST", "/webhook_targets/", {"target_url": url}, key)
        assert refused.status_code == 400 and "target_url" in refused.get_json()


def test_another_merchant_and_the_storefront_scope_cannot_reach_targets(client, shopper, key):
    made = target(client, shopper, key, "https://hooks.example/og")
    theirs = {"x-api-key": make_api_key(shop_merchant())}
    assert (
        client.get(f"/webhook_targets/{made['id']}/signing_key", headers=theirs).status_code == 404
    )
    assert client.get("/webhook_targets/", headers=theirs).get_json()["results"] == []
    assert client.get("/webhook_targets/").status_code == 403
    other = call(
        client,
        "POST",
        "/webhook_targets/",
        {"merchant": "someone-else", "target_url": "https://x.example/"},
        key,
    )
    assert other.status_code == 403


def test_events_are_delivered_filtered_and_signed_as_t11_says(client, shopper, key):
    with receiver() as hooks:
        made = target(client, shopper, key, hooks.url, "subscription.*")
        subscribe(shopper)  # subscription.create and order.create
        counts = sweep()
        assert counts["delivered"] == 1 and len(hooks.received) == 1
        headers, body = hooks.received[0]
        sent = json.loads(body)
        assert sent["type"] == "subscription.create" and set(sent) == {
            "id",
            "type",
            "created",
            "data",
            "context",
            "snapshot",
        }
        signing_key = client.get(
            f"/webhook_targets/{made['id']}/signing_key", headers=key
        ).get_json()["signing_key"]
        signing.verify_webhook_header(headers["Ordergroove-Signature"], signing_key, body)
        assert sweep()["delivered"] == 0  # nothing twice
        [delivery] = WebhookDelivery.query.all()
        assert (delivery.status, delivery.response_status, delivery.attempts) == (
            "delivered",
            200,
            1,
        )


def test_a_receiver_down_for_a_while_gets_every_event_once_it_is_up(client, shopper, key):
    with receiver() as hooks:
        target(client, shopper, key, hooks.url)
        hooks.up = False
        for _ in range(3):
            subscribe(shopper)
        first = sweep()
        events = first["queued"]
        assert events >= 3 and first["retry"] == events and first["delivered"] == 0
        assert sweep(minutes=1.5)["retry"] == 0  # backoff: not due again yet
        hooks.up = True
        later = sweep(minutes=5)
        assert later["delivered"] == events
        assert sorted(set(hooks.ids())) == sorted(hooks.ids()[events:])  # each once when up
        failed_tries = len(hooks.received) - events
        assert failed_tries == events  # one attempt each while down, none repeated within it


def test_after_a_rotation_both_keys_verify_for_a_day(client, shopper, key):
    with receiver() as hooks:
        made = target(client, shopper, key, hooks.url)
        path = f"/webhook_targets/{made['id']}/signing_key"
        old = client.get(path, headers=key).get_json()["signing_key"]
        new = call(client, "POST", f"{path}/rotate", {}, key).get_json()["signing_key"]
        subscribe(shopper)
        sweep()
        headers, body = hooks.received[-1]
        header = headers["Ordergroove-Signature"]
        assert header.count("sig=") == 2 and header.index(
            signing.webhook_signature(new, int(header.split(",")[0][3:]), body)
        ) < header.index(signing.webhook_signature(old, int(header.split(",")[0][3:]), body))
        for k in (old, new):
            signing.verify_webhook_header(header, k, body)
        db.session.get(WebhookTarget, WebhookTarget.query.one().id).rotated_at = (
            utcnow() - timedelta(hours=25)
        )
        db.session.commit()
        subscribe(shopper)
        sweep()
        later = hooks.received[-1][0]["Ordergroove-Signature"]
        assert later.count("sig=") == 1
        with pytest.raises(signing.SignatureError):
            signing.verify_webhook_header(later, old, hooks.received[-1][1])


def test_a_receiver_that_never_comes_back_flags_the_target_failing(client, shopper, key):
    with receiver() as hooks:
        target(client, shopper, key, hooks.url, "subscription.create")
        hooks.up = False
        subscribe(shopper)
        minutes, last = 1.0, {}
        for _ in range(webhook_delivery.MAX_ATTEMPTS):
            last = sweep(minutes)
            minutes += 300
        assert last["failed"] == 1
        assert WebhookTarget.query.one().failing is True
        assert WebhookDelivery.query.one().status == "failed"
