"""What people see of recurring orders at the demo store: the store admin's switch, the orders
and deliveries it lists, and the customer's order history."""

from __future__ import annotations

import re

import pytest

from tests.orderkit import (
    PUBLIC_ID,
    authorization,
    count_orders,
    make_store,
    order_xml,
    post,
    reply,
)

ADMIN = "/admin/"


@pytest.fixture
def store(tmp_path):
    return make_store(tmp_path)


@pytest.fixture
def client(store):
    return store.test_client()


def csrf_token(client, path: str) -> str:
    return re.search(
        r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)
    ).group(1)


def switch(client, mode: str):
    return client.post(
        "/admin/recurring-orders", data={"mode": mode, "csrf_token": csrf_token(client, ADMIN)}
    )


def selected_mode(client) -> str:
    page = client.get(ADMIN).get_data(as_text=True)
    return re.search(r'<option value="(\w+)" selected>', page).group(1)


def test_the_switch_is_set_with_a_csrf_protected_post(store, client):
    assert selected_mode(client) == "accept"
    refused = client.post("/admin/recurring-orders", data={"mode": "decline_140"})
    assert refused.status_code == 400 and selected_mode(client) == "accept"

    response = switch(client, "decline_160")

    assert response.status_code == 302
    assert selected_mode(client) == "decline_160"
    assert reply(post(store.test_client()))["errorCode"] == "160"


def test_an_unknown_switch_value_changes_nothing(client):
    response = switch(client, "explode")

    assert response.status_code == 302
    assert "Unknown recurring orders mode" in client.get(ADMIN).get_data(as_text=True)
    assert selected_mode(client) == "accept"


def test_the_cli_shows_and_sets_the_switch(store):
    runner = store.test_cli_runner()
    assert runner.invoke(args=["recurring-orders"]).output.startswith("accept:")

    result = runner.invoke(args=["recurring-orders", "unreadable"])

    assert result.exit_code == 0 and result.output.startswith("unreadable:")
    assert runner.invoke(args=["recurring-orders", "nonsense"]).exit_code == 2


def test_the_admin_page_lists_orders_received_and_every_delivery(store, client):
    number = reply(post(client))["orderId"]
    post(client)  # a repeat
    post(client, order_xml("b" * 32, token="tok_visa_0341"))
    post(client, auth=authorization(ts=1592570791))  # stale

    page = client.get(ADMIN).get_data(as_text=True)

    orders = re.findall(r'<tr class="recurring-order">(.*?)</tr>', page, re.S)
    assert len(orders) == 1 and number in orders[0] and PUBLIC_ID in orders[0]
    assert "Maya Okafor" in orders[0] and "2 × Café Crème Coffee Beans, 12 oz" in orders[0]
    assert "$46.69" in orders[0] and "exp 12/2099" in orders[0]
    deliveries = re.findall(r'<tr class="delivery delivery--(\w+)">', page)
    assert deliveries == ["refused", "declined", "repeat", "accepted"]  # newest first
    assert "The signature has expired" in page and "Your card was declined." in page
    assert "http://127.0.0.1:5001/og/orders" in page


def test_order_history_marks_recurring_orders(store, client):
    number = reply(post(client))["orderId"]
    assert count_orders(store) == 1
    shopper = store.test_client()
    shopper.post(
        "/login",
        data={
            "email": "maya.okafor@example.com",
            "password": "demo1234",
            "csrf_token": csrf_token(shopper, "/login"),
        },
    )

    history = shopper.get("/account").get_data(as_text=True)
    row = re.search(r'<tr class="order-row order-row--recurring">(.*?)</tr>', history, re.S)
    assert row and number in row.group(1) and "Subscription delivery" in row.group(1)
    assert 'badge badge--recurring">Recurring<' in row.group(1)
    detail = shopper.get(f"/orders/{number}").get_data(as_text=True)
    assert "A delivery from your subscriptions" in detail
    assert "one-time add-on" in detail and "$46.69" in detail
    assert "Expiry on file with your subscriptions: 12/2099" in detail
