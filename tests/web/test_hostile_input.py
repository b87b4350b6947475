"""The hostile-input sweep's findings (issue 10), each answered with a 4xx in its contract's
shape and nothing written: query parameters, path ids, dates, cursors, and purchase POST bodies
(deep nesting, lone surrogates, NUL, wrong types, other merchants' offers)."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.integrations import signing
from app.models import Event, Incentive, Offer, Subscription
from tests.factories import csrf_token, login, make_api_key, make_product, make_staff
from tests.purchasekit import T1_KEY, example, make_shop, per_value, post, whole


def table_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


@pytest.fixture
def merchant(app):
    return make_shop()


@pytest.fixture
def key(merchant):
    return make_api_key(merchant)


@pytest.fixture
def nothing_written(app):
    """Assert, after the test's requests, that no table gained or lost a row."""
    state = {}

    def start():
        db.session.expire_all()
        state["before"] = table_counts()

    def check():
        db.session.expire_all()
        assert table_counts() == state["before"]

    return start, check


def cursor_of(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


DEEP_CURSOR = base64.urlsafe_b64encode(b"[" * 20_000).decode()
HUGE = "9" * 5000


@pytest.mark.parametrize(
    "path, field",
    [
        ("/products/?page_size=%C2%B2", "page_size"),
        (f"/products/?page_size={HUGE}", "page_size"),
        ("/products/?page_size=0", "page_size"),
        ("/subscriptions/?page_size=%C2%B2", "page_size"),
        (f"/subscriptions/?page_size={HUGE}", "page_size"),
        ("/subscriptions/?cursor=99999999999999999999", "cursor"),
        ("/products/?cursor=99999999999999999999", "cursor"),
        (f"/products/?cursor={cursor_of({'d': 'after', 'id': 100000000000000000000})}", "cursor"),
        (f"/products/?cursor={cursor_of({'d': 'before', 'id': True})}", "cursor"),
        (f"/products/?cursor={DEEP_CURSOR}", "cursor"),
        ("/products/?updated_start=0001-01-01T00:00:00%2B01:00", "updated_start"),
        ("/products/?updated_end=9999-12-31T23:59:59-01:00", "updated_end"),
        ("/products/?updated_start=yesterday", "updated_start"),
        ("/products/?eligible=maybe", "eligible"),
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(
    client, key, path, field, nothing_written
):
    start, check = nothing_written
    start()
    response = client.get(path, headers={"x-api-key": key})
    assert response.status_code == 400
    assert set(response.get_json()) == {field}
    check()


@pytest.mark.parametrize(
    "path",
    [
        "/products/?search=a%00b",
        "/products/a%00b/",
        "/customers/a%00b/",
        "/subscriptions/?customer=%00",
    ],
)
def test_nul_in_path_or_query_is_400_before_any_query(client, key, path):
    response = client.get(path, headers={"x-api-key": key})
    assert response.status_code == 400
    assert "NUL" in json.dumps(response.get_json())


def test_cursors_are_opaque_and_belong_to_one_merchant(client, merchant, key):
    for n in range(3):
        make_product(merchant, f"EXTRA{n}")
    cursors = {"x-api-key": key, "X-OG-API-VERSION": "2"}
    first = client.get("/products/?page_size=2", headers=cursors).get_json()
    cursor = first["next"].split("cursor=")[1].split("&")[0]
    padded = cursor + "=" * (-len(cursor) % 4)
    assert b'"id"' not in base64.urlsafe_b64decode(padded)  # no row id can be read from it
    second = client.get(f"/products/?page_size=2&cursor={cursor}", headers={"x-api-key": key})
    assert second.status_code == 200 and len(second.get_json()["results"]) == 2
    other = make_shop(example_offer=False)
    refused = client.get(
        f"/products/?page_size=2&cursor={cursor}", headers={"x-api-key": make_api_key(other)}
    )
    assert refused.status_code == 400 and "cursor" in refused.get_json()
    as_subscriptions = client.get(f"/subscriptions/?cursor={cursor}", headers={"x-api-key": key})
    assert as_subscriptions.status_code == 400  # a products cursor is not a subscriptions one


def test_subscription_pages_follow_their_links(client, merchant, key):
    for n in range(5):
        payload = example(merchant, merchant_order_id=f"page-{n}")
        assert post(client, whole(payload), key=key).status_code == 200
    seen, url = [], "/subscriptions/?page_size=2"
    while url:
        page = client.get(url, headers={"x-api-key": key}).get_json()
        seen += [s["public_id"] for s in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 5


@pytest.fixture
def owner(client, merchant):
    user = make_staff(merchant, role="owner")
    login(client, user)
    return user


def test_console_subscribers_before_out_of_range_is_400(client, owner):
    response = client.get("/console/subscribers/?before=99999999999999999999")
    assert response.status_code == 400
    assert "before" in response.get_data(as_text=True)


def test_console_path_id_out_of_range_is_404(client, owner):
    token = csrf_token(client, "/console/settings")
    response = client.post(
        "/console/settings/api-keys/1000000000000000000000000000000/revoke",
        data={"csrf_token": token},
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "field, value", [("starts_at", "0001-01-01T00:00+01:00"), ("ends_at", "9999-12-31T23:59-01:00")]
)
def test_console_incentive_dates_out_of_range_are_form_errors(client, owner, field, value):
    token = csrf_token(client, "/console/incentives/new")
    before = db.session.scalar(select(func.count()).select_from(Incentive))
    response = client.post(
        "/console/incentives/",
        data={
            "csrf_token": token,
            "name": "Far",
            "kind": "percent_off",
            "percent": "5",
            "scope": "item",
            "applies_to": "both",
            "target": "all",
            field: value,
            "active": "on",
        },
    )
    assert response.status_code == 400
    assert "out of range" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Incentive)) == before


def test_console_form_with_nul_is_400_page(client, owner):
    token = csrf_token(client, "/console/incentives/new")
    response = client.post(
        "/console/incentives/",
        data={"csrf_token": token, "name": "A\x00B", "kind": "percent_off", "percent": "5"},
    )
    assert response.status_code == 400
    assert "<html" in response.get_data(as_text=True)


# -- the purchase POST ----------------------------------------------------------------------


def nested(depth: int):
    value = "x"
    for _ in range(depth):
        value = [value]
    return value


def deep_object(depth: int):
    value = {"leaf": "x"}
    for _ in range(depth):
        value = {"k": value}
    return value


def with_line(merchant, **line_changes):
    payload = example(merchant)
    payload["products"][0].update(line_changes)
    return payload


def set_path(payload, path, value):
    target = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return payload


SURROGATE_PATHS = [
    ("merchant_order_id",),
    ("products", 0, "product"),
    ("user", "user_id"),
    ("user", "first_name"),
    ("user", "email"),
    ("user", "shipping_address", "city"),
    ("payment", "token_id"),
]


def raw_json(payload) -> str:
    """The body with ``"\\ud800"`` written as a JSON escape, as a hostile client would."""
    return "create_request=" + json.dumps(payload).replace("SURROGATE", "\\ud800")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda m: "create_request=" + "[" * 1000 + "]" * 1000, id="1000-deep-array"),
        pytest.param(
            lambda m: whole(set_path(example(m), ("user", "extra_data"), deep_object(700))),
            id="700-deep-in-user",
        ),
        pytest.param(
            lambda m: whole(set_path(example(m), ("user", "first_name"), nested(200))),
            id="200-deep-list-in-name",
        ),
        *[
            pytest.param(
                lambda m, p=path: raw_json(set_path(example(m), p, "SURROGATE")),
                id=f"surrogate-{'.'.join(map(str, path))}",
            )
            for path in SURROGATE_PATHS
        ],
        pytest.param(
            lambda m: raw_json(set_path(example(m), ("user", "SURROGATE"), "x")),
            id="surrogate-in-a-key",
        ),
        *[
            pytest.param(
                lambda m, v=value: whole(
                    set_path(
                        example(m), ("products", 0, "subscription_info", "tracking_override"), v
                    )
                ),
                id=f"tracking_override-{type(value).__name__}",
            )
            for value in ([1, 2], "4_2", 7, True)
        ],
        *[
            pytest.param(
                lambda m, v=value: whole(with_line(m, tracking_override=v)),
                id=f"line-tracking_override-{type(value).__name__}",
            )
            for value in ([], "x", 0, False)
        ],
        pytest.param(
            lambda m: whole(
                set_path(
                    example(m),
                    ("products", 0, "subscription_info", "tracking_override", "product"),
                    ["222"],
                )
            ),
            id="tracking_override.product-list",
        ),
        pytest.param(
            lambda m: whole(
                example(
                    m,
                    og_cart_tracking=False,
                    tracking=[{"product": "222", "tracking_override": ["x"]}],
                )
            ),
            id="tracking-entry-override-list",
        ),
        pytest.param(
            lambda m: whole(set_path(example(m), ("merchant_order_id",), "A\x00B")),
            id="nul-json-escape",
        ),
        pytest.param(
            lambda m: per_value(set_path(example(m), ("user", "city"), "New\x00York")),
            id="nul-per-value-encoded",
        ),
        pytest.param(
            lambda m: whole(
                set_path(example(m), ("products", 0, "subscription_info", "quantity"), HUGE)
            ),
            id="huge-quantity",
        ),
        pytest.param(
            lambda m: whole(
                set_path(
                    example(m),
                    ("products", 0, "subscription_info", "first_order_place_date"),
                    "9999-12-31",
                )
            ),
            id="first-date-year-9999",
        ),
    ],
)
def test_hostile_purchase_bodies_are_400_and_write_nothing(
    client, merchant, key, body, nothing_written
):
    start, check = nothing_written
    start()
    raw = body(merchant)
    for _attempt in range(2):  # a retry of the same order gets the same answer, never a 500
        response = post(client, raw, key=key)
        assert response.status_code == 400, response.get_data(as_text=True)
        assert set(response.get_json()) <= {
            "error_message",
            "errors",
            "result",
            "subs_req_id",
            "customer",
            "payment",
            "shipping_address",
            "subscriptions",
        }
        assert "error_message" in response.get_json()
    check()
    fixed = post(client, whole(example(merchant)), key=key)
    assert fixed.status_code == 200  # the same merchant_order_id, once corrected, goes through
    assert post(client, whole(example(merchant)), key=key).status_code == 409


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("[" * 30_000, id="30000-brackets"),
        pytest.param(None, id="surrogate-sig_field"),
        pytest.param("trust", id="surrogate-trust_level"),
        pytest.param(
            '{"public_id": "a\\u0000b", "sig_field": "x", "ts": 1, "sig": "y"}', id="nul-public_id"
        ),
    ],
)
def test_hostile_authorization_headers_are_403(client, merchant, header, nothing_written):
    start, check = nothing_written
    start()
    if header in (None, "trust"):
        real = json.loads(signing.build_auth_header(merchant.public_id, T1_KEY, "DC69410241"))
        real["sig_field" if header is None else "trust_level"] = "SURROGATE"
        header = json.dumps(real).replace("SURROGATE", "\\ud800")
    response = post(client, whole(example(merchant)), headers={"Authorization": header})
    assert response.status_code == 403
    assert response.get_json() == {"detail": "Authentication Failed"}
    check()


def test_another_merchants_offer_id_gets_the_default_offer_and_is_recorded(client, merchant, key):
    other = make_shop(example_offer=False)
    foreign = db.session.scalar(select(Offer.public_id).where(Offer.merchant_id == other.id))
    payload = example(merchant)
    payload["products"][0]["subscription_info"]["tracking_override"]["offer"] = foreign
    assert post(client, whole(payload), key=key).status_code == 200
    sub = db.session.scalar(select(Subscription))
    default = db.session.scalar(
        select(Offer).where(Offer.merchant_id == merchant.id, Offer.location == "default")
    )
    assert sub.offer_id == default.public_id != foreign
    event = db.session.scalar(select(Event).where(Event.type == "subscription.create"))
    assert event.after["unknown_offer"] == foreign and event.after["offer"] == default.public_id


def test_an_offer_id_that_exists_nowhere_gets_the_default_offer(client, merchant, key):
    payload = example(merchant)
    payload["products"][0]["subscription_info"]["tracking_override"]["offer"] = "f" * 32
    assert post(client, whole(payload), key=key).status_code == 200
    sub = db.session.scalar(select(Subscription))
    assert sub.offer_id != "f" * 32
    event = db.session.scalar(select(Event).where(Event.type == "subscription.create"))
    assert event.after["unknown_offer"] == "f" * 32


@pytest.mark.parametrize(
    "path, value",
    [
        (("user", "first_name"), "N" * 201),
        (("user", "phone_number"), "5" * 51),
        (("user", "shipping_address", "country_code"), "ßß"),  # "SSSS" once upper-cased
        (("user", "shipping_address", "country_code"), "1"),
    ],
)
def test_values_longer_than_their_column_are_400_on_every_database(
    client, merchant, key, path, value, nothing_written
):
    start, check = nothing_written
    start()
    response = post(client, whole(set_path(example(merchant), path, value)), key=key)
    assert response.status_code == 400 and "error_message" in response.get_json()
    check()


def test_a_timestamp_of_unicode_digits_is_refused(client, merchant):
    header = json.loads(signing.build_auth_header(merchant.public_id, T1_KEY, "DC69410241"))
    header["ts"] = "\u00b2" * 3
    response = post(client, whole(example(merchant)), headers={"Authorization": json.dumps(header)})
    assert response.status_code == 403
    verify = client.get(
        f"/subscription/verify/?merchant_id={merchant.public_id}"
        "&order_id=abc123&ts=%C2%B2&sig=x&action=process"
    )
    assert verify.status_code == 400 and verify.get_data(as_text=True) == "Authentication failed"


def test_incentive_with_too_many_listed_products_is_a_form_error(client, owner):
    token = csrf_token(client, "/console/incentives/new")
    response = client.post(
        "/console/incentives/",
        data={
            "csrf_token": token,
            "name": "Many",
            "kind": "percent_off",
            "percent": "5",
            "target": "products",
            "target_products": " ".join(f"P{n}" for n in range(40_000)),
        },
    )
    assert response.status_code == 400
    assert "At most 1000 products" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/console/login", "/subscription/create"])
def test_a_multipart_field_without_a_readable_name_is_400(client, path):
    """Found by the generated-input suite: werkzeug reads the part's name as None, and the CSRF
    check (or a view) crashed on it."""
    body = b'--b\r\nContent-Disposition: form-data; name="\n"\r\n\r\nv\r\n--b--\r\n'
    response = client.post(path, data=body, content_type='multipart/form-data; boundary="b"')
    assert response.status_code == 400
