"""Hypothesis strategies that turn a route into hostile requests against the seeded world.

A request is plausible everywhere (real ids, valid values, the right credentials) but for one
or two hostile parts, so it gets past validation and deep into the service before the
hostile part bites; one request in ten is hostile all over. The parts are the route's
path variables, the query and form names it reads (``route_specs``), a name nobody reads,
and the headers.
"""

from __future__ import annotations

import json
import re
import time

from hypothesis import strategies as st

from app.integrations import signing
from tests import hostile
from tests.web.generated_input.harness import SESSION_COOKIE, World
from tests.web.generated_input.specs import (
    ALL_NAMES,
    FIXED,
    NAMED,
    NEAR,
    NUMERIC,
    PATH_KINDS,
    SPECS,
    Spec,
)
from tests.web.generated_input.world import Shop, purchase_payload

MODES = ("anonymous", "api_key_a", "signed_a", "console_a", "subscriber_a")
PREFERRED = {
    "console": "console_a",
    "api": "api_key_a",
    "storefront": "anonymous",
    "storefront.msi_dashboard": "subscriber_a",
    "storefront.msi_action": "subscriber_a",
}


def _both(world: World, name: str) -> list[str]:
    """Merchant A's values (twice: mostly the caller's own) and B's."""
    a, b = getattr(world.a, name), getattr(world.b, name)
    return [*a, *a, *b] if isinstance(a, list) else [a, a, b]


def _join(items: list[str]) -> str:
    return " ".join(items)


def _session_of(parts: tuple[Shop, str, str]) -> str:
    return f"{parts[0].public_id}.{parts[1]}.{parts[2]}"


def _valid_cursor(pk: int) -> str:
    return hostile.base64_json(json.dumps({"d": "after", "id": pk}), True, False)


def _concat(parts: tuple[str, str]) -> str:
    return parts[0] + parts[1]


def _plausible(kind: str, world: World) -> st.SearchStrategy[str]:
    a, b = world.a, world.b
    if kind in NAMED:
        return st.sampled_from(_both(world, NAMED[kind]))
    if kind == "products":
        return st.lists(st.sampled_from(_both(world, "products")), max_size=3).map(_join)
    if kind == "session":
        return st.sampled_from((a.session, a.session, b.session))
    if kind == "api_key_id":
        return st.sampled_from((str(a.api_key_id), str(a.api_key_id), str(b.api_key_id)))
    if kind == "date":
        return st.sampled_from(("2024-06-01", "2026-01-01T09:30", "2030-12-31T23:59:59Z", ""))
    if kind == "cursor":
        return st.integers(0, 60).map(_valid_cursor)
    if kind == "ts":
        return st.just(str(int(time.time())))
    if kind == "create_request":
        return st.sampled_from(
            [
                json.dumps(purchase_payload(shop, user_id="NEW-1", order_id="gen-1"))
                for shop in (a, a, b)
            ]
        )
    if kind in FIXED:
        return st.sampled_from(FIXED[kind])
    return st.sampled_from([*a.ids(), *b.ids()])  # "any": every id of both merchants


def _hostile(kind: str, world: World) -> st.SearchStrategy[str]:
    """What hurts this kind most (near misses, huge numbers, odd dates...), generic hostile
    text, or a plausible value with a hostile tail."""
    special = {
        "date": hostile.DATE,
        "cursor": hostile.CURSOR,
        "session": st.tuples(
            st.sampled_from((world.a, world.b)), hostile.NUMBER, hostile.NUMBER
        ).map(_session_of),
    }.get(kind)
    if kind in NUMERIC:
        special = hostile.NUMBER
    near = st.sampled_from(NEAR[kind]) if kind in NEAR else None
    tail = st.tuples(_plausible(kind, world), hostile.TEXT).map(_concat)
    focused = [s for s in (special, near) if s is not None] or [hostile.TEXT]
    return st.one_of(*focused, *focused, hostile.HOSTILE_TEXT, tail)


def good(kind: str, world: World) -> st.SearchStrategy[bytes]:
    """A plausible value of ``kind``, as bytes (built once per world)."""
    key = ("good", kind)
    if key not in world.cache:
        world.cache[key] = _plausible(kind, world).map(hostile.utf8)
    return world.cache[key]


def bad(kind: str, world: World) -> st.SearchStrategy[bytes]:
    """A hostile value of ``kind``, as bytes: text, or bytes that are not UTF-8 at all."""
    key = ("bad", kind)
    if key not in world.cache:
        world.cache[key] = st.one_of(
            _hostile(kind, world).map(hostile.utf8),
            _hostile(kind, world).map(hostile.utf8),
            _hostile(kind, world).map(hostile.utf8),
            st.binary(min_size=1, max_size=12),
        )
    return world.cache[key]


@st.composite
def pairs(
    draw, where: str, names: dict[str, str], world: World, targets: set
) -> list[tuple[bytes, bytes]]:
    """The names a route reads, with plausible values but for the targeted ones; each
    possibly repeated (as ``k``/``p`` are); and a name nobody reads when targeted."""
    repeat = draw(st.sampled_from((1, 1, 1, 2, 3)))
    out = []
    for name, kind in names.items():
        spoilt = (where, name) in targets
        if spoilt or draw(st.integers(0, 9)) < 9:
            for _ in range(repeat):
                out.append((name.encode(), draw(bad(kind, world) if spoilt else good(kind, world))))
    if (where, None) in targets:
        name = draw(st.sampled_from(ALL_NAMES).map(str.encode) | st.binary(max_size=8))
        out.insert(draw(st.integers(0, len(out))), (name, draw(bad("any", world))))
    return out


def path_parts(rule) -> list[tuple[str, str | None, str | None]]:
    """``/a/<int:x>/b`` -> [("/a/", None, None), ("", "int", "x"), ("/b", None, None)]."""
    parts = []
    for i, piece in enumerate(re.split(r"<([^>]+)>", rule.rule)):
        if i % 2 == 0:
            parts.append((piece, None, None))
        else:
            converter, _, name = piece.rpartition(":")
            parts.append(("", converter.split("(")[0] or "default", name))
    return parts


@st.composite
def paths(draw, rule, world: World, targets: set) -> bytes:
    """The rule's path with plausible values but for the targeted variables."""
    out = b""
    for static, converter, name in path_parts(rule):
        if name is None:
            out += static.encode()
            continue
        kind = PATH_KINDS.get(f"{rule.endpoint}:{name}", PATH_KINDS.get(name, "any"))
        spoilt = ("path", name) in targets
        value = draw(bad(kind, world) if spoilt else good(kind, world))
        if converter != "path" and not spoilt:
            value = value.replace(b"/", b"%2F")  # keep the route matching
        out += value
    return out


def signed_header(shop: Shop, spoil: bool) -> st.SearchStrategy[str]:
    """The signed JSON Authorization header: valid, or with hostile members."""

    @st.composite
    def build(draw) -> str:
        sig_field = draw(
            st.sampled_from(shop.customers) | (hostile.TEXT if spoil else st.just("ANY-USER"))
        )
        trust = draw(
            st.none() | st.sampled_from(("full", "soft")) | (hostile.TEXT if spoil else st.none())
        )
        ts = draw(
            st.just(int(time.time()))
            | (st.integers(-(10**20), 10**20) if spoil else st.just(int(time.time()) - 60))
        )
        try:
            sig = signing.sign(shop.hash_key, sig_field, ts, trust_level=trust)
        except (UnicodeEncodeError, ValueError):
            sig = "c2lnbmF0dXJl"
        doc = {"public_id": shop.public_id, "sig_field": sig_field, "ts": ts, "sig": sig}
        if trust is not None:
            doc["trust_level"] = trust
        if not spoil:
            return hostile.render(doc)
        if draw(st.booleans()):  # one member replaced by anything at all
            doc[draw(st.sampled_from(sorted(doc)))] = hostile.Raw(draw(hostile.JSON_VALUE))
        text = hostile.render(doc)
        return draw(st.sampled_from((text, text, text, "[" * 30_000, text[:-1])))

    return build()


EXTRA_HEADERS = (
    "Origin",
    "HX-Request",
    "HX-History-Restore-Request",
    "HX-Current-URL",
    "HX-Target",
    "Accept",
    "If-None-Match",
    "If-Modified-Since",
    "Range",
    "Accept-Language",
    "User-Agent",
    "Referer",
    "X-CSRFToken",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-OG-API-VERSION",
)


@st.composite
def headers(draw, mode: str, world: World, spoil: bool) -> list[tuple[str, str]]:
    """The mode's credentials and a few plausible headers; hostile ones when ``spoil``."""
    out = []
    if mode == "api_key_a":
        out.append(("x-api-key", world.a.api_key))
    elif mode == "signed_a":
        out.append(("Authorization", draw(signed_header(world.a, spoil))))
    elif mode == "subscriber_a":  # the dashboard's: og_auth in X-OG-Auth, from A's store
        user = draw(st.sampled_from(world.a.customers))
        value = signing.make_og_auth(world.a.hash_key, user)
        if spoil:
            value = draw(st.sampled_from((value, value.replace("|", "%7C")))) + draw(
                st.sampled_from(("", "x", "%", "|1"))
            )
        out += [("X-OG-Auth", value), ("Origin", world.a.origin)]
    elif mode == "anonymous" and spoil and draw(st.booleans()):
        name = draw(st.sampled_from(("x-api-key", "Authorization", "Cookie")))
        junk = draw(hostile.TEXT | signed_header(world.b, True) | st.just(world.a.api_key[:-1]))
        out.append((name, junk if name != "Cookie" else f"{SESSION_COOKIE}={junk}"))
    known = {
        "Origin": (world.a.origin, world.a.origin, world.b.origin, "https://evil.example"),
        "HX-Request": ("true",),
        "Accept": ("application/json", "text/html", "*/*"),
        "X-CSRFToken": (world.csrf,),
        "If-None-Match": ("*", '"x"', 'W/"x"'),
        "Range": ("bytes=0-", "bytes=0-10"),
    }
    for name in draw(st.lists(st.sampled_from(EXTRA_HEADERS), max_size=3, unique=True)):
        value = draw(st.sampled_from(known.get(name, ("1",))))
        if spoil and draw(st.booleans()):
            value = draw(
                hostile.HOSTILE_TEXT
                | st.sampled_from(("null", "bytes=99999999999999999999-", "application/json;q=NaN"))
            )
        out.append((name, value))
    return [(name, hostile.header_value(value)) for name, value in out]


def slots(rule, spec: Spec, body: bool) -> list[tuple[str, str | None]]:
    """Every part of a request that can be made hostile on its own."""
    found = [("path", name) for _, _, name in path_parts(rule) if name]
    found += [("query", name) for name in spec.query] + [("query", None), ("headers", None)]
    if body:
        found += [("form", name) for name in spec.form] + [("form", None), ("body", None)]
    return found


@st.composite
def requests(draw, rule, method: str, world: World) -> hostile.Request:
    """A request for ``rule``: plausible but for one or two hostile parts, or (one in ten)
    hostile all over."""
    spec = SPECS.get(rule.endpoint, Spec())
    preferred = PREFERRED.get(rule.endpoint) or PREFERRED.get(
        rule.endpoint.partition(".")[0], "anonymous"
    )
    mode = draw(st.sampled_from((*MODES, *[preferred] * 7)))
    body = method == "POST" or draw(st.integers(0, 9)) == 0
    parts = slots(rule, spec, body)
    if draw(st.integers(0, 9)) == 0:
        targets = set(parts)
    else:
        size = draw(st.sampled_from((1, 1, 1, 1, 2)))
        targets = set(
            draw(st.lists(st.sampled_from(parts), min_size=1, max_size=size, unique=True))
        )
    request = hostile.Request(
        method,
        draw(paths(rule, world, targets)),
        draw(pairs("query", spec.query, world, targets)),
        draw(headers(mode, world, ("headers", None) in targets)),
        mode=mode,
    )
    if body:
        form = draw(pairs("form", spec.form, world, targets))
        if mode == "console_a" and draw(st.integers(0, 19)):
            form.append((b"csrf_token", world.csrf.encode()))
        if rule.endpoint == "api.subscription_verify":
            form = signed_verify(draw, form, world)
        request.body, request.content_type = draw(
            hostile.bodies(form, spoil=("body", None) in targets)
        )
    elif rule.endpoint == "api.subscription_verify":
        request.query = signed_verify(draw, request.query, world)
    return request


def signed_verify(draw, fields: list[tuple[bytes, bytes]], world: World):
    """Mostly sign the drawn order id and timestamp with the named merchant's key, so the
    verification link gets past its signature check."""
    got = dict(fields)
    if not draw(st.integers(0, 3)) or not {b"order_id", b"ts"} <= got.keys():
        return fields
    shop = world.b if got.get(b"merchant_id") == world.b.public_id.encode() else world.a
    try:
        sig = signing.sign(shop.hash_key, got[b"order_id"].decode(), int(got[b"ts"]))
    except (UnicodeDecodeError, ValueError):
        return fields
    return [(k, v) for k, v in fields if k != b"sig"] + [(b"sig", sig.encode())]
