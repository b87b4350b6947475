"""Console: orders (list, filters, pages, one in full), what staff can do to an order, placement
runs and placement settings; against a real store endpoint and a real RQ worker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.jobs import queue
from app.models import Event, Merchant, Order, OrderStatus, PlacementRun
from app.models.types import utcnow
from app.services import placement
from tests import storekit
from tests.factories import HX, csrf_token, login, make_staff
from tests.placementkit import make_due_order, make_placing_merchant

S = OrderStatus
NOW = datetime(2030, 3, 15, 12, 0, tzinfo=UTC)  # 08:00 in New York
TODAY = date(2030, 3, 15)


@pytest.fixture
def store(app):
    with storekit.store() as endpoint:
        yield endpoint


@pytest.fixture
def merchant(store):
    return make_placing_merchant(store.url)


@pytest.fixture
def owner(client, merchant):
    user = make_staff(merchant, role="owner")
    login(client, user)
    return user


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def reload(order: Order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


def with_status(order: Order, status: int, **values) -> Order:
    db.session.execute(update(Order).where(Order.id == order.id).values(status=status, **values))
    db.session.commit()
    return reload(order)


def act(client, order: Order, action: str, headers=HX, **data):
    token = csrf_token(client)  # the login page's: it renders signed in or out
    return client.post(
        f"/console/orders/{order.public_id}/{action}",
        data={"csrf_token": token, **data},
        headers=headers,
    )


def work(runner) -> None:
    """Run what is queued with a real RQ worker, as production does."""
    # The work-horse is forked from this process: it must not inherit a connection our session
    # holds (two processes on one PostgreSQL socket), as a production worker never queries first.
    db.session.close()
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output


# -- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/console/orders/",
        "/console/orders/abc",
        "/console/placement/runs",
        "/console/settings/placement",
    ],
)
def test_login_required(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_actions_need_a_login_and_a_csrf_token(client, merchant):
    order = with_status(make_due_order(merchant, TODAY), S.CREDIT_CARD_RETRY)
    assert act(client, order, "reject").status_code == 302  # to the login page
    login(client, make_staff(merchant, role="staff"))
    response = client.post(f"/console/orders/{order.public_id}/reject", headers=HX)
    assert response.status_code == 400
    assert reload(order).status == S.CREDIT_CARD_RETRY


def test_another_merchants_order_is_not_found(client, owner, merchant, store):
    theirs = make_due_order(make_placing_merchant(store.url), TODAY)
    theirs = with_status(theirs, S.CREDIT_CARD_RETRY, order_merchant_id="THEIRS-1")
    assert client.get(f"/console/orders/{theirs.public_id}").status_code == 404
    assert act(client, theirs, "reject").status_code == 404
    assert reload(theirs).status == S.CREDIT_CARD_RETRY
    for term in (theirs.public_id, "THEIRS-1", theirs.customer.merchant_user_id):
        listed = text(client.get("/console/orders/", query_string={"q": term}, headers=HX))
        assert "No orders match" in listed and theirs.public_id not in listed
    assert theirs.customer.merchant_user_id not in text(client.get("/console/orders/"))


# -- the list --------------------------------------------------------------------------------


def test_empty_list_explains_what_will_appear(client, owner):
    page = text(client.get("/console/orders/"))
    assert "No orders yet." in page and "as soon as a shopper subscribes" in page


def test_list_is_a_page_or_its_fragment(client, owner, merchant):
    order = make_due_order(merchant, TODAY)
    page = client.get("/console/orders/")
    assert "<html" in page.get_data(as_text=True) and order.public_id[:12] in text(page)
    fragment = client.get("/console/orders/?status=upcoming", headers=HX)
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="orders-table">') and "<html" not in body
    assert "HX-Request" in fragment.headers["Vary"]


def test_filter_by_status_group(client, owner, merchant):
    orders = {
        status: with_status(make_due_order(merchant, TODAY), status)
        for status in (
            S.UNSENT,
            S.SUCCESS,
            S.CREDIT_CARD_RETRY,
            S.OUTCOME_UNKNOWN,
            S.SEND_NOW,
            S.PENDING_VERIFICATION,
            S.CANCELLED,
        )
    }
    fresh = with_status(make_due_order(merchant, TODAY), S.REJECTED)
    old = with_status(
        make_due_order(merchant, TODAY), S.REJECTED, updated_at=utcnow() - timedelta(days=30)
    )

    def shown(group):
        html = text(client.get(f"/console/orders/?status={group}", headers=HX))
        return {o.public_id for o in (*orders.values(), fresh, old) if o.public_id[:12] in html}

    ids = {status: o.public_id for status, o in orders.items()}
    assert shown("upcoming") == {ids[S.UNSENT]}
    assert shown("placed") == {ids[S.SUCCESS]}
    assert shown("attention") == {ids[S.CREDIT_CARD_RETRY], ids[S.OUTCOME_UNKNOWN], fresh.public_id}
    assert shown("in_progress") == {ids[S.SEND_NOW], ids[S.PENDING_VERIFICATION]}
    assert shown("rejected") == {fresh.public_id, old.public_id}
    assert shown("cancelled") == {ids[S.CANCELLED]}
    assert len(shown("")) == 9 and len(shown("bogus")) == 9  # an unknown group shows all


def test_filter_by_place_date_range(client, owner, merchant):
    early, middle, late = (make_due_order(merchant, TODAY + timedelta(days=d)) for d in (0, 5, 9))
    html = text(client.get("/console/orders/?from=2030-03-16&to=2030-03-23", headers=HX))
    assert middle.public_id[:12] in html
    assert early.public_id[:12] not in html and late.public_id[:12] not in html
    assert client.get("/console/orders/?from=16/03/2030").status_code == 400


def test_search_by_ids_customer_and_product(client, owner, merchant):
    order = with_status(
        make_due_order(merchant, TODAY, user_id="DC555"), S.SUCCESS, order_merchant_id="STORE-42"
    )
    other = make_due_order(merchant, TODAY, user_id="DC777")
    product = order.items[0].product.product_id
    for term in (
        order.public_id,
        order.public_id.upper(),
        "STORE-42",
        "dc555",
        order.customer.email.upper(),
        product,
    ):
        html = text(client.get("/console/orders/", query_string={"q": term}, headers=HX))
        assert order.public_id[:12] in html, term
        assert other.public_id[:12] not in html, term
    assert "No orders match" in text(client.get("/console/orders/?q=nothing-like-it"))


@pytest.mark.parametrize("sort", ["newest", "place_desc", "place_asc"])
def test_pages_never_skip_or_repeat_an_order(client, owner, merchant, sort):
    # Several orders per place date: the place-date sorts page over (date, id).
    made = [make_due_order(merchant, TODAY + timedelta(days=n % 4)) for n in range(30)]
    seen, url, pages = [], f"/console/orders/?sort={sort}", 0
    while url:
        html = client.get(url, headers=HX).get_data(as_text=True)
        seen += [o.public_id for o in made if f'data-order="{o.public_id}"' in html]
        pages += 1
        url = unescape(html.split('hx-get="')[-1].split('"')[0]) if "Next →" in html else None
    assert pages == 2 and sorted(seen) == sorted(o.public_id for o in made)
    expected = {
        "newest": sorted(made, key=lambda o: -o.id),
        "place_desc": sorted(made, key=lambda o: (o.place_date, o.id), reverse=True),
        "place_asc": sorted(made, key=lambda o: (o.place_date, o.id)),
    }[sort]
    first = client.get(f"/console/orders/?sort={sort}", headers=HX).get_data(as_text=True)
    positions = [first.index(f'data-order="{o.public_id}"') for o in expected[:25]]
    assert positions == sorted(positions)


def test_previous_page_and_foreign_cursors(client, owner, merchant):
    for n in range(27):
        make_due_order(merchant, TODAY + timedelta(days=n))
    first = client.get("/console/orders/", headers=HX).get_data(as_text=True)
    cursor = unescape(first.split("cursor=")[1].split('"')[0].split("&")[0])
    second = client.get("/console/orders/", query_string={"cursor": cursor}, headers=HX)
    assert "← Previous" in second.get_data(as_text=True)
    # A cursor sealed for another sort (another list) is refused.
    assert (
        client.get(
            "/console/orders/", query_string={"cursor": cursor, "sort": "place_asc"}
        ).status_code
        == 400
    )


# -- one order -------------------------------------------------------------------------------


def test_a_placed_order_in_full(client, owner, merchant, store):
    store.replies(storekit.success("A-1224"))
    order = make_due_order(merchant, TODAY, now=NOW)
    placement.run_now(merchant.id, as_of=TODAY, now=NOW)
    page = text(client.get(f"/console/orders/{order.public_id}"))
    assert "Placed" in page and "Your store accepted it as order" in page and "A-1224" in page
    assert "Dog Food" in page and "$12.99" in page and "−$2.60" in page  # 10% off 2 × 12.99
    assert "$23.38" in page  # the line and the order total
    assert "75 Broad Street" in page and "Visa · expires 12/2099" in page
    assert f'/console/subscribers/{order.customer.merchant_user_id}"' in page
    assert 'data-outcome="success"' in page and "<td>200</td>" in page
    assert "<orderPublicId>" in page and "••••" in page and "7654321" not in page
    assert "hx-trigger" not in page.split('id="order-live"')[1].split(">")[0]  # settled
    assert "<button" not in page.split('id="order-live"')[1].split("Items")[0]  # no actions


def test_a_declined_order_shows_the_stores_message_and_retry_now_places_it(
    client, owner, merchant, store, runner
):
    store.replies(storekit.error("140", "Your card was declined."))
    order = make_due_order(merchant, TODAY, now=NOW)
    placement.run_now(merchant.id, as_of=TODAY, now=NOW)
    page = text(client.get(f"/console/orders/{order.public_id}"))
    assert "Card declined, retrying" in page and "Your card was declined." in page
    assert "ERROR 140" in page and 'data-outcome="declined"' in page
    assert "Retry now" in page and "Reject" in page and "Confirm placed" not in page

    store.replies(storekit.success("A-2"))
    response = act(client, order, "retry")
    html = text(response)
    assert response.status_code == 200 and "<html" not in html
    assert "Queued to send again now." in html
    assert 'hx-trigger="load delay:1s"' in html  # it updates itself while in progress
    assert reload(order).status == S.SEND_NOW and queue.get_queue().count == 1
    work(runner)
    assert reload(order).status == S.SUCCESS and reload(order).order_merchant_id == "A-2"
    settled = text(client.get(f"/console/orders/{order.public_id}", headers=HX))
    assert settled.lstrip().startswith('<div id="order-live"') and "A-2" in settled
    assert 'hx-trigger="load delay:1s"' not in settled
    assert settled.count('class="attempt"') == 2 and "sent by hand" in settled


def test_an_action_the_status_does_not_allow_is_refused_in_place(client, owner, merchant):
    order = make_due_order(merchant, TODAY)
    response = act(client, order, "retry")
    html = text(response)
    assert response.status_code == 409 and 'id="order-live"' in html and "<html" not in html
    assert "Not done: the order is “Upcoming” now" in html
    assert reload(order).status == S.UNSENT and queue.get_queue().count == 0
    assert Event.query.filter(Event.type.like("order.%")).count() == 0
    assert act(client, order, "confirm").status_code == 409
    assert act(client, order, "rescue").status_code == 409
    assert (
        client.post(
            f"/console/orders/{order.public_id}/explode",
            data={"csrf_token": csrf_token(client, "/console/orders/")},
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "status, action, after, queued",
    [
        (S.CREDIT_CARD_RETRY, "reject", S.REJECTED, False),
        (S.REJECTED, "rescue", S.SEND_NOW, True),
        (S.OUTCOME_UNKNOWN, "send_again", S.SEND_NOW, True),
        (S.UNSENT, "send_now", S.SEND_NOW, True),
        (S.RESPONSE_PROCESSING_ERROR, "retry", S.SEND_NOW, True),
    ],
)
def test_each_action(client, owner, merchant, status, action, after, queued):
    order = with_status(make_due_order(merchant, TODAY), status, rejected_message="Declined")
    page = text(client.get(f"/console/orders/{order.public_id}"))
    assert f"/console/orders/{order.public_id}/{action}" in page  # its button is shown
    response = act(client, order, action)
    assert response.status_code == 200
    assert reload(order).status == after
    assert queue.get_queue().count == (1 if queued else 0)
    assert Event.query.filter_by(type=f"order.{action}").count() == 1
    assert act(client, order, action).status_code == 409  # the status moved on


def test_confirm_placed_keeps_the_stores_order_id(client, owner, merchant):
    order = with_status(make_due_order(merchant, TODAY), S.OUTCOME_UNKNOWN)
    page = text(client.get(f"/console/orders/{order.public_id}"))
    assert "Confirm placed" in page and "Send again" in page and "Retry now" not in page
    too_long = act(client, order, "confirm", store_order_id="x" * 201)
    assert too_long.status_code == 400 and "at most 200 characters" in text(too_long)
    assert reload(order).status == S.OUTCOME_UNKNOWN
    response = act(client, order, "confirm", store_order_id="  STORE-9  ")
    assert response.status_code == 200 and "Marked as placed." in text(response)
    confirmed = reload(order)
    assert confirmed.status == S.SUCCESS and confirmed.order_merchant_id == "STORE-9"
    assert confirmed.placed_at is not None


def test_actions_without_htmx_render_the_page(client, owner, merchant):
    order = with_status(make_due_order(merchant, TODAY), S.GENERIC_ERROR)
    response = act(client, order, "reject", headers=None)
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)
    assert reload(order).status == S.REJECTED


def test_staff_can_act_on_orders_but_not_change_settings(client, merchant):
    login(client, make_staff(merchant, role="staff"))
    order = with_status(make_due_order(merchant, TODAY), S.GENERIC_ERROR)
    assert act(client, order, "reject").status_code == 200
    page = text(client.get("/console/settings/placement"))
    assert "Only the account owner can change these settings." in page and "disabled" in page
    token = csrf_token(client, "/console/orders/")
    response = client.post(
        "/console/settings/placement", data={"csrf_token": token, "placement_hour": "never"}
    )
    assert response.status_code == 403
    assert db.session.get(Merchant, merchant.id).placement_hour == 6
    assert client.post("/console/placement/runs", data={"csrf_token": token}).status_code == 403
    assert "Run placement now" not in text(client.get("/console/placement/runs"))


def test_subscriber_page_lists_the_customers_orders(client, owner, merchant):
    order = with_status(make_due_order(merchant, TODAY), S.SUCCESS, order_merchant_id="S-7")
    page = text(client.get(f"/console/subscribers/{order.customer.merchant_user_id}"))
    row = page.split(f'data-order="{order.public_id}"')[1].split("</tr>")[0]
    assert f"/console/orders/{order.public_id}" in row and "Placed" in row and "S-7" in row


# -- overview --------------------------------------------------------------------------------


def test_overview_counts_todays_orders_failures_and_revenue(client, owner, merchant, store):
    today = placement.local_today(merchant, utcnow())
    placed = make_due_order(merchant, today)
    placement.run_now(merchant.id)  # today, for real: placed_at is now
    assert reload(placed).status == S.SUCCESS
    with_status(make_due_order(merchant, today), S.CREDIT_CARD_RETRY)
    with_status(
        make_due_order(merchant, today),
        S.SUCCESS,
        placed_at=utcnow() - timedelta(days=3),
        total_minor=1000,
    )
    page = text(client.get("/console/"))
    assert 'data-count="placed-today"><a href="/console/orders/?status=placed">1</a>' in page
    assert 'data-count="attention"><a href="/console/orders/?status=attention">1</a>' in page
    assert 'data-count="revenue-today">$23.38<' in page
    assert 'data-count="revenue-week">$33.38<' in page


# -- placement runs --------------------------------------------------------------------------


def test_runs_show_counts_by_outcome_from_the_ledger(client, owner, merchant, store):
    store.script = [
        lambda s: s.replies(storekit.success()),
        lambda s: s.replies(storekit.error("160", "Do not retry")),
    ]
    make_due_order(merchant, TODAY, now=NOW)
    make_due_order(merchant, TODAY, now=NOW)
    report = placement.run_now(merchant.id, as_of=TODAY, now=NOW)
    page = text(client.get("/console/placement/runs"))
    row = page.split(f'data-run="{report.run.public_id}"')[1].split("</tr>")[0]
    assert "command line" in row and "2030-03-15" in row and "finished" in row
    assert "Placed 1" in row and "Declined 1" in row
    fragment = client.get("/console/placement/runs", headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="placement-runs"')
    assert "hx-trigger" not in fragment.split(">")[0]  # nothing running: no polling


def test_an_interrupted_run_says_so_and_how_far_it_got(client, owner, merchant, store):
    run = PlacementRun(merchant_id=merchant.id, trigger="cron", slot="x", as_of=TODAY, due=3)
    db.session.add(run)
    db.session.commit()
    placement.batch_stopped(run.id, [1, 2])  # one of its jobs died
    response = client.get("/console/placement/runs", headers=HX)
    fragment = response.get_data(as_text=True)
    row = text(response).split(f'data-run="{run.public_id}"')[1].split("</tr>")[0]
    assert "interrupted" in row and "2 of 3" in row
    assert "hx-trigger" not in fragment.split(">")[0]  # not running: no polling


def test_run_placement_now_queues_the_due_orders(client, owner, merchant, store, runner):
    token = csrf_token(client, "/console/placement/runs")
    empty = client.post("/console/placement/runs", data={"csrf_token": token}, headers=HX)
    assert "Nothing is due now" in text(empty)
    run = db.session.scalar(select(PlacementRun))
    assert run.trigger == "console" and run.status == "finished"  # nothing to wait for

    order = make_due_order(merchant, placement.local_today(merchant, utcnow()))
    response = client.post("/console/placement/runs", data={"csrf_token": token}, headers=HX)
    html = text(response)
    assert "Started a run: 1 order due." in html and 'hx-trigger="load delay:1s"' in html
    assert reload(order).status == S.UNSENT  # the web request sent nothing itself
    work(runner)
    assert reload(order).status == S.SUCCESS
    done = text(client.get("/console/placement/runs", headers=HX))
    assert "Placed 1" in done and 'hx-trigger="load delay:1s"' not in done


# -- placement settings ----------------------------------------------------------------------


def settings_form(**changes) -> dict[str, str]:
    return {
        "placement_hour": "7",
        "order_endpoint_url": "https://shop.example/og/orders",
        "placement_mode": "api",
        "order_timeout_seconds": "20",
        "endpoint_dedupes": "on",
        "reminder_days": "6",
        "cc_retry_days": "2",
        "cc_retries": "3",
        "generic_retries": "1",
        "connection_retry_days": "10",
        "card_type_names": "1=VISA 2=MASTERCARD",
        **changes,
    }


def save_settings(client, form):
    token = csrf_token(client, "/console/settings/placement")
    return client.post("/console/settings/placement", data={"csrf_token": token, **form})


def test_owner_saves_every_placement_setting(client, owner, merchant):
    page = text(client.get("/console/settings/placement"))
    assert "Turn on only if your endpoint ignores a repeated" in page
    assert save_settings(client, settings_form()).status_code == 302
    saved = db.session.get(Merchant, merchant.id)
    assert (saved.placement_hour, saved.order_endpoint_url, saved.order_timeout_seconds) == (
        7,
        "https://shop.example/og/orders",
        20,
    )
    assert saved.endpoint_dedupes and saved.card_type_names == {"1": "VISA", "2": "MASTERCARD"}
    assert (
        saved.reminder_days,
        saved.cc_retry_days,
        saved.cc_retries,
        saved.generic_retries,
        saved.connection_retry_days,
    ) == (6, 2, 3, 1, 10)
    shown = text(client.get("/console/settings/placement"))
    assert 'value="1=VISA 2=MASTERCARD"' in shown and '<option value="7" selected' in shown
    form = settings_form(placement_hour="never", card_type_names="")
    del form["endpoint_dedupes"]  # an unticked box is not posted: it means off
    assert save_settings(client, form).status_code == 302
    saved = db.session.get(Merchant, merchant.id)
    assert saved.placement_hour is None and not saved.endpoint_dedupes
    assert saved.card_type_names is None
    assert "Never: placement switched off" in text(client.get("/console/settings/placement"))
    assert Event.query.filter_by(type="settings.update").count() == 2


@pytest.mark.parametrize(
    "field, value",
    [
        ("placement_hour", "24"),
        ("placement_hour", "seven"),
        ("placement_hour", ""),
        ("order_endpoint_url", "http://shop.example/orders"),
        ("order_endpoint_url", "javascript:alert(1)"),
        ("order_endpoint_url", "https://user:pw@shop.example/x"),
        ("placement_mode", "fax"),
        ("order_timeout_seconds", "0"),
        ("reminder_days", "4"),
        ("cc_retries", "11"),
        ("card_type_names", "9=ODD"),
        ("endpoint_dedupes", "maybe"),
    ],
)
def test_invalid_placement_settings_are_refused_and_shown(client, owner, merchant, field, value):
    response = save_settings(client, settings_form(**{field: value}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Please correct the highlighted fields." in html and "has-error" in html
    saved = db.session.get(Merchant, merchant.id)
    assert saved.placement_hour == 6 and saved.order_timeout_seconds == 2
