"""Console routing: every endpoint is nested by page group, and no URL moved when they were.

``BEFORE`` is the console's URL map as it was while the console was one flat blueprint
(captured from ``app.url_map`` before the split): paths and methods must stay exactly these.
``ADDED`` are the pages added since.
"""

import pytest
from flask import url_for

from tests.factories import csrf_token

ORDER_ACTION = "<any(retry, send_again, confirm, rescue, send_now, reject):action>"
BEFORE = {
    ("/console/", "GET"),
    ("/console/checkouts/", "GET"),
    ("/console/feeds/", "GET"),
    ("/console/feeds/<run_id>", "GET"),
    ("/console/feeds/<run_id>/report.csv", "GET"),
    ("/console/feeds/run", "POST"),
    ("/console/feeds/runs", "GET"),
    ("/console/incentives/", "GET"),
    ("/console/incentives/", "POST"),
    ("/console/incentives/<public_id>", "GET"),
    ("/console/incentives/<public_id>", "POST"),
    ("/console/incentives/<public_id>/active", "POST"),
    ("/console/incentives/new", "GET"),
    ("/console/login", "GET"),
    ("/console/login", "POST"),
    ("/console/logout", "POST"),
    ("/console/offers/", "GET"),
    ("/console/offers/<location>", "GET"),
    ("/console/offers/<location>", "POST"),
    ("/console/offers/<location>/preview", "POST"),
    ("/console/orders/", "GET"),
    ("/console/orders/<public_id>", "GET"),
    ("/console/orders/<public_id>/" + ORDER_ACTION, "POST"),
    ("/console/outbox/", "GET"),
    ("/console/outbox/<public_id>", "GET"),
    ("/console/placement/runs", "GET"),
    ("/console/placement/runs", "POST"),
    ("/console/products/", "GET"),
    ("/console/products/<path:product_id>", "GET"),
    ("/console/products/<path:product_id>", "POST"),
    ("/console/settings", "GET"),
    ("/console/settings", "POST"),
    ("/console/settings/api-keys", "POST"),
    ("/console/settings/api-keys/<int:key_id>/revoke", "POST"),
    ("/console/settings/hash-key", "POST"),
    ("/console/settings/placement", "GET"),
    ("/console/settings/placement", "POST"),
    ("/console/settings/sftp/keys", "POST"),
    ("/console/settings/sftp/password", "POST"),
    ("/console/status", "GET"),
    ("/console/subscribers/", "GET"),
    ("/console/subscribers/<path:user_id>", "GET"),
}
ADDED = {
    ("/console/subscribers/subscriptions/<public_id>/<action>", "POST"),
    ("/console/subscribers/items/<public_id>/<action>", "POST"),
    ("/console/settings/subscription-manager", "GET"),
    ("/console/settings/subscription-manager", "POST"),
    ("/console/settings/subscription-manager/cancel-reasons", "POST"),
    ("/console/settings/subscription-manager/cancel-reasons/reset", "POST"),
}
# A value for each path variable, enough to reach the view's checks.
VALUES = {
    "run_id": "x",
    "public_id": "x",
    "location": "pdp",
    "product_id": "x",
    "user_id": "x",
    "key_id": 1,
    "action": "retry",
}
OPEN = {"console.auth.login", "console.auth.authenticate"}


def console_routes(app) -> list[tuple[str, str, str]]:
    """(path, method, endpoint) for every console rule, HEAD and OPTIONS aside."""
    return sorted(
        (rule.rule, method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("console.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def test_console_urls_are_the_same_as_before_the_split(app):
    assert {(path, method) for path, method, _ in console_routes(app)} == BEFORE | ADDED


def test_every_console_endpoint_is_console_group_view(app):
    for _, _, endpoint in console_routes(app):
        parent, group, view = endpoint.split(".")
        assert parent == "console" and view, endpoint
        assert f"console.{group}" in app.blueprints, endpoint
        assert app.view_functions[endpoint].__module__ == f"app.views.console.{group}", endpoint


def _urls(app, methods: set[str]) -> list[tuple[str, str]]:
    with app.test_request_context():
        return [
            (rule.endpoint, url_for(rule.endpoint, **{k: VALUES[k] for k in rule.arguments}))
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("console.") and rule.methods & methods
        ]


def _console_headers(response) -> None:
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_group_needs_a_login_and_sends_the_console_headers(app, client, method):
    checked = 0
    for endpoint, url in _urls(app, {method}):
        if endpoint in OPEN:
            continue
        # A fresh token each time: the redirect to the login clears the session it lived in.
        data = {"csrf_token": csrf_token(client)} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302, endpoint
        assert response.headers["Location"].startswith("/console/login"), endpoint
        _console_headers(response)
        checked += 1
    assert checked > 10


def test_every_console_post_needs_a_csrf_token(app, client):
    for endpoint, url in _urls(app, {"POST"}):
        response = client.post(url)
        assert response.status_code == 400, endpoint
        assert "Your form expired" in response.get_data(as_text=True), endpoint
        _console_headers(response)
