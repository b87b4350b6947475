"""The REST API's rate limit (contracts §8.3): per client address over every API endpoint, in
Redis; over it 429 with Retry-After. Across two web processes: tests/faults/test_rate_limit.py."""

from __future__ import annotations

import secrets

import pytest

from app.config import Config
from app.extensions import limiter
from tests.factories import make_api_key, make_merchant


@pytest.fixture
def key(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    limiter.reset()  # whatever storage the limiter is on (Redis, or its in-memory fallback)
    return make_api_key(make_merchant())


@pytest.fixture
def client(client):
    """Requests from an address of their own: no other test's count can reach them."""
    client.environ_base["REMOTE_ADDR"] = f"198.51.100.{secrets.randbelow(250) + 1}"
    return client


def test_the_default_is_6000_a_minute():
    assert Config.API_RATE_LIMIT == "6000 per minute"


def test_over_the_limit_is_429_with_retry_after_whatever_the_endpoint(client, key):
    headers = {"x-api-key": key}
    statuses = [
        client.get("/products/", headers=headers).status_code,
        client.get("/subscriptions/", headers=headers).status_code,
        client.get("/customers/NOPE/", headers={"x-api-key": "wrong"}).status_code,  # counts too
    ]
    assert statuses == [200, 200, 403]
    refused = client.get("/products/", headers=headers)
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert 1 <= seconds <= 60
    assert refused.get_json() == {
        "detail": f"Request was throttled. Expected available in {seconds} seconds."
    }


def test_another_address_and_the_storefront_are_not_counted(client, key):
    for _ in range(3):
        client.get("/products/", headers={"x-api-key": key})
    other = client.get(
        "/products/", headers={"x-api-key": key}, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )  # its own address
    assert other.status_code == 200
    assert client.get("/healthz").status_code == 200
