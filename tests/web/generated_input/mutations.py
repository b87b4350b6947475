"""Purchase POSTs made by mutation: a valid payload of merchant A with one to three of its
members replaced, removed or added with hostile JSON, sent in one of the body encodings the
endpoint accepts and with one of the credentials it accepts (or refuses)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from hypothesis import strategies as st

from app.integrations import signing
from tests import hostile
from tests.web.generated_input.harness import World
from tests.web.generated_input.routes import headers
from tests.web.generated_input.world import Shop, purchase_payload

EXTRA_KEYS = (
    "session_id",
    "processed",
    "tracking",
    "og_cart_tracking",
    "billing_address",
    "extra_data",
    "tracking_override",
    "subscription_info",
    "purchase_info",
    "components",
    "multi_item_bundle_components",
    "subscription_type",
    "prepaid_orders_per_billing",
    "renewal_behavior",
    "first_order_place_date",
    "product",
    "offer",
    "every",
    "every_period",
    "quantity",
    "cc_number",
    "payment_method",
    "cc_holder",
    "cc_last_4",
    "country_code",
    "user_id",
    "merchant_id",
    "user",
    "products",
    "payment",
    "token_id",
    "email",
)
ENCODINGS = ("whole", "whole", "per_value", "per_value", "raw", "bare", "plus", "extra")
# One value per class of trouble, put in every member of the payload by the sweep.
JSON_CASES = (
    '"\\ud800"',
    '"a\\u0000b"',
    '["x"]',
    '{"a": 1}',
    "100000000000000000000",
    "true",
    hostile.nested(1000),
    hostile.nested(700, "{"),
)


def bases(shop: Shop) -> list[dict]:
    """Valid payloads that reach different parts of the service."""
    p = shop.prefix.upper()
    full = purchase_payload(shop, user_id="NEW-1", order_id="gen-1")
    cart = purchase_payload(
        shop,
        user_id="NEW-2",
        order_id="gen-2",
        og_cart_tracking=True,
        session_id=shop.session,
        products=[
            {"product": f"{p}-2", "purchase_info": {"quantity": 3}},
            {"product": f"{p}-ONCE"},
        ],
    )
    cart.pop("tracking")
    prepaid = purchase_payload(shop, user_id=shop.customers[0], order_id="gen-3")
    prepaid["payment"]["token_id"] = f"tok-{shop.customers[0]}"  # the seeded card again
    prepaid["products"][0]["subscription_info"].update(
        subscription_type="prepaid", prepaid_orders_per_billing=3, renewal_behavior="autorenew"
    )
    held = purchase_payload(shop, user_id="NEW-4", order_id="gen-4", processed=False)
    minimal = {
        "merchant_id": shop.public_id,
        "merchant_order_id": "gen-5",
        "og_cart_tracking": False,
        "user": {"user_id": "NEW-5"},
        "products": [{"product": f"{p}-ONCE"}],
    }
    return [full, cart, prepaid, held, minimal]


def _bases(world: World) -> list[dict]:
    if "bases" not in world.cache:
        world.cache["bases"] = bases(world.a)
    return world.cache["bases"]


def _paths(node, prefix=()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


def _containers(node, prefix=()) -> list[tuple]:
    found = [prefix] if isinstance(node, dict) else []
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in children:
        found += _containers(value, (*prefix, key))
    return found


def _parent(doc, path: tuple):
    node = doc
    for step in path[:-1]:
        node = node[step]
    return node


def json_for(world: World) -> st.SearchStrategy[str]:
    """Hostile JSON, plus real ids of both merchants (B's product, B's merchant id...)."""
    if "json" not in world.cache:
        ids = st.sampled_from([*world.a.ids(), *world.b.ids()]).map(hostile.dumps)
        near = st.sampled_from(
            (
                '"4"',
                "4.0",
                "1000",
                "0",
                "-1",
                '"4_2"',
                '"2099-01-01"',
                '"0001-01-01"',
                '"9999-12-31"',
                '"1"',
                "[]",
                "{}",
                '""',
            )
        )
        world.cache["json"] = st.one_of(hostile.JSON_VALUE, hostile.JSON_VALUE, ids, near)
    return world.cache["json"]


@st.composite
def payloads(draw, world: World) -> dict:
    doc = copy.deepcopy(draw(st.sampled_from(_bases(world))))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(("replace", "replace", "replace", "add", "delete")))
        if op == "add":
            where = draw(st.sampled_from(_containers(doc)))
            key = draw(st.sampled_from(EXTRA_KEYS) | hostile.TEXT)
            _parent(doc, (*where, None))[key] = hostile.Raw(draw(json_for(world)))
            continue
        where = draw(st.sampled_from(_paths(doc)))
        parent = _parent(doc, where)
        if op == "delete" and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = hostile.Raw(draw(json_for(world)))
    return doc


def encode(doc: dict, how: str) -> bytes:
    text = hostile.render(doc, encode_strings=how == "per_value")
    body = {
        "whole": lambda: "create_request=" + quote(text, safe=""),
        "per_value": lambda: "create_request=" + text,
        "raw": lambda: "create_request=" + text,
        "bare": lambda: text,
        "plus": lambda: "create_request=" + quote_plus(text),
        "extra": lambda: "create_request=" + quote(text, safe="") + "&note=1",
    }[how]()
    return hostile.utf8(body)


@st.composite
def purchase_requests(draw, world: World) -> hostile.Request:
    doc = draw(payloads(world))
    mode = draw(
        st.sampled_from(
            (
                "api_key_a",
                "api_key_a",
                "api_key_a",
                "signed_a",
                "signed_a",
                "anonymous",
                "api_key_b",
            )
        )
    )
    if mode == "api_key_b":
        sent = [("x-api-key", world.b.api_key)]
    else:
        sent = draw(headers(mode, world, spoil=draw(st.integers(0, 4)) == 0))
    content_type = draw(
        st.sampled_from(
            (
                "application/json",
                "application/json",
                "application/x-www-form-urlencoded",
                "text/plain",
            )
        )
        | st.none()
    )
    path = draw(st.sampled_from((b"/subscription/create", b"/subscription/create/")))
    return hostile.Request(
        "POST", path, [], sent, encode(doc, draw(st.sampled_from(ENCODINGS))), content_type, mode
    )


@dataclass(frozen=True)
class Mutation:
    """One member of the valid payload replaced by one hostile JSON value."""

    path: tuple
    value: str
    encoding: str
    mode: str

    def __repr__(self) -> str:
        return (
            f"Mutation({'.'.join(map(str, self.path))} = {hostile.compact(self.value, 80)}"
            f", {self.encoding}, {self.mode})"
        )

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))


def sweep_cases(world: World) -> list[Mutation]:
    """Every member of the full payload with every class of value; the encodings and both
    kinds of credentials take turns."""
    paths = [
        p for p in _paths(_bases(world)[0]) if p[:2] != ("user", "billing_address") or len(p) == 2
    ]  # read as shipping is
    return [
        Mutation(
            path,
            value,
            ("whole", "per_value")[(i + j) % 2],
            ("api_key_a", "api_key_a", "signed_a")[(i + j) % 3],
        )
        for i, path in enumerate(paths)
        for j, value in enumerate(JSON_CASES)
    ]


def swept_request(world: World, case: Mutation) -> hostile.Request:
    doc = copy.deepcopy(_bases(world)[0])
    _parent(doc, case.path)[case.path[-1]] = hostile.Raw(case.value)
    if case.mode == "api_key_a":
        sent = [("x-api-key", world.a.api_key)]
    else:
        sent = [
            (
                "Authorization",
                signing.build_auth_header(
                    world.a.public_id, world.a.hash_key, world.a.customers[0]
                ),
            )
        ]
    return hostile.Request(
        "POST",
        b"/subscription/create",
        [],
        sent,
        encode(doc, case.encoding),
        "application/json",
        case.mode,
    )
