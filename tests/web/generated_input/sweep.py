"""The systematic half of the generated input: every part of every route gets every class of
hostile value for its kind once, with the rest of the request plausible.

Random generation finds combinations; it is poor at promising that ``page_size`` met a digit
``int()`` refuses. So each route's parts (path variables, query and form names, a name
nobody reads, the body's encoding, the headers) are crossed with a short list of values,
one per class of trouble: NUL, bytes that are not UTF-8, a lone surrogate, 10,000
characters, numbers ``int()`` refuses or the database cannot hold, dates at the ends of the
calendar with an offset that pushes them over, cursors that decode to the wrong types or
nest deep, near misses of the kind, another merchant's ids.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from app.integrations import signing
from tests import hostile
from tests.web.generated_input.harness import SESSION_COOKIE, World
from tests.web.generated_input.routes import PREFERRED, path_parts, slots
from tests.web.generated_input.specs import FIXED, NAMED, NEAR, NUMERIC, PATH_KINDS, SPECS, Spec
from tests.web.generated_input.world import Shop, purchase_payload

GENERIC = (b"a\x00b", b"\xed\xa0\x80", b"A" * 10_000)  # NUL, a lone surrogate, long
NUMBERS = (
    "\u00b2",
    "9" * 5000,
    "99999999999999999999",
    "-99999999999999999999",
    "1E+1000000",
    "NaN",
)
DATES = (
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00+01:00",
    "9999-12-31T23:59-01:00",
    "0001-01-01",
    "9999-12-31",
    "2024-02-30",
)


def _b64(doc: str) -> str:
    return hostile.base64_json(doc, True, False)


CURSORS = (
    _b64('{"d": "after", "id": 100000000000000000000}'),
    _b64('{"d": "before", "id": true}'),
    _b64('{"d": "after", "id": -1e400}'),
    _b64("[" * 20_000),
    _b64('{"d": ["after"], "id": 1}'),
    "99999999999999999999",
    "!!!",
    hostile.base64_json("\udcff", True, True),
)
BODIES = (  # (content type, body): the form sent some other way
    ("application/json", b'{"csrf_token": "x"}'),
    ("multipart/form-data", b"--x\r\n\r\n--x--"),
    (
        'multipart/form-data; boundary="b"',
        b'--b\r\nContent-Disposition: form-data; name="\n"\r\n\r\nv\r\n--b--\r\n',
    ),
    ("application/x-www-form-urlencoded; charset=utf-16", b"\xff\xfea\x00=\x00b\x00"),
    ("text/plain", b"x" * (2 * 1024 * 1024 + 1)),
)


@dataclass(frozen=True)
class Case:
    """One hostile value for one part of a request (Hypothesis prints it on failure)."""

    where: str  # path | query | form | body | headers
    name: str | None
    value: bytes
    mode: str | None = None  # credentials, when the case is about them
    content_type: str | None = None

    def __repr__(self) -> str:
        shown = hostile.compact(self.value.decode("latin-1"), 120)
        return f"Case({self.where} {self.name!r} = {shown!r})"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))


def plain(kind: str, world: World, shop: Shop | None = None) -> str:
    """The one plausible value of ``kind`` (of merchant A, or ``shop``) the sweep uses
    around its hostile value."""
    a = shop or world.a
    if kind in NAMED:
        value = getattr(a, NAMED[kind])
        return value[0] if isinstance(value, list) else value
    return {
        "products": a.products[0],
        "session": a.session,
        "api_key_id": str(a.api_key_id),
        "date": "2024-06-01",
        "cursor": _b64('{"d": "after", "id": 0}'),
        "ts": str(int(time.time())),
        "any": a.public_id,
        "create_request": json.dumps(purchase_payload(a, user_id="NEW-1", order_id="gen-1")),
    }.get(kind) or FIXED.get(kind, ("x",))[0]


def values(kind: str, world: World) -> list[bytes]:
    """Every class of trouble for ``kind``, once."""
    found = list(GENERIC)
    special = {
        "date": DATES,
        "cursor": CURSORS,
        "session": (f"{world.a.public_id}.{'9' * 20}.{'9' * 12}", world.b.session),
        "create_request": ("[" * 1000, '{"merchant_id": "\\ud800"}', "null"),
    }
    found += [hostile.utf8(v) for v in special.get(kind, ())]
    if kind in NUMERIC:
        found += [hostile.utf8(v) for v in NUMBERS]
    found += [hostile.utf8(v) for v in NEAR.get(kind, ())[:3]]
    if kind in NAMED or kind in ("any", "products", "api_key_id"):
        found.append(hostile.utf8(plain(kind, world, world.b)))  # another merchant's
    return list(dict.fromkeys(found))


def header_cases(world: World) -> list[Case]:
    """Credentials and headers: hostile signed headers, keys, and the conditional headers."""

    def signed(**members) -> bytes:
        doc = {
            "public_id": world.a.public_id,
            "sig_field": world.a.customers[0],
            "ts": int(time.time()),
            **members,
        }
        try:
            sig = signing.sign(
                world.a.hash_key,
                doc["sig_field"],
                int(doc["ts"]),
                trust_level=doc.get("trust_level"),
            )
        except (UnicodeEncodeError, ValueError, TypeError):
            sig = "c2lnbmF0dXJl"
        return hostile.utf8(hostile.render({"sig": sig, **doc}))

    auth = [
        b"[" * 30_000,
        signed(sig_field="\ud800"),
        signed(trust_level="\ud800"),
        signed(sig_field="a\x00b"),
        signed(public_id=hostile.Raw(hostile.nested(1000))),
    ]
    cases = [Case("headers", "Authorization", v, "anonymous") for v in auth]
    cases.append(Case("headers", "x-api-key", b"pk_" + b"A" * 5000, "anonymous"))
    cases += [
        Case("headers", name, v)
        for name, v in (
            ("Origin", b"null"),
            ("Range", b"bytes=99999999999999999999-"),
            ("Cookie", f"{SESSION_COOKIE}=garbage".encode()),
        )
    ]
    return cases


def cases(rule, method: str, world: World) -> list[Case]:
    """Every (part, hostile value) pair of the route."""
    spec = SPECS.get(rule.endpoint, Spec())
    found = []
    for where, name in slots(rule, spec, body=method == "POST"):
        if where == "headers":
            found += header_cases(world)
        elif where == "body":
            found += [Case("body", None, body, content_type=ctype) for ctype, body in BODIES]
        elif name is None:
            found += [Case(where, None, value) for value in (b"\xff", b"a\x00b", b"x" * 5000)]
        else:
            kind = (
                PATH_KINDS.get(f"{rule.endpoint}:{name}", PATH_KINDS.get(name, "any"))
                if where == "path"
                else getattr(spec, where)[name]
            )
            found += [Case(where, name, value) for value in values(kind, world)]
    return found


def request(rule, method: str, world: World, case: Case) -> hostile.Request:
    """The route's plausible request with ``case`` put in."""
    mode = case.mode or PREFERRED.get(rule.endpoint.partition(".")[0], "anonymous")
    path = b""
    for static, _, name in path_parts(rule):
        if name is None:
            path += static.encode()
        elif case.where == "path" and case.name == name:
            path += case.value
        else:
            kind = PATH_KINDS.get(f"{rule.endpoint}:{name}", PATH_KINDS.get(name, "any"))
            path += hostile.utf8(plain(kind, world))
    query = _fields("query", rule.endpoint, world, case)
    request = hostile.Request(method, path, query, _headers(mode, world, case), mode=mode)
    if method == "POST":
        form = _fields("form", rule.endpoint, world, case)
        if mode == "console_a":
            form.append((b"csrf_token", world.csrf.encode()))
        if case.where == "body":
            request.body, request.content_type = case.value, case.content_type
        else:
            request.body = hostile.form_encoded(form)
            request.content_type = "application/x-www-form-urlencoded"
    return request


def _fields(where: str, endpoint: str, world: World, case: Case):
    out = []
    for name, kind in getattr(SPECS.get(endpoint, Spec()), where).items():
        value = (
            case.value
            if (case.where, case.name) == (where, name)
            else hostile.utf8(plain(kind, world))
        )
        out.append((name.encode(), value))
    if case.where == where and case.name is None:
        out.append((case.value, b"1") if case.value != b"x" * 5000 else (b"x", case.value))
    if endpoint == "api.subscription_verify":  # signed, so the link gets past its check
        got = dict(out)
        try:
            sig = signing.sign(world.a.hash_key, got[b"order_id"].decode(), int(got[b"ts"]))
            out = [(k, sig.encode() if k == b"sig" and case.name != "sig" else v) for k, v in out]
        except (UnicodeDecodeError, ValueError):
            pass
    return out


def _headers(mode: str, world: World, case: Case) -> list[tuple[str, str]]:
    out = [("x-api-key", world.a.api_key)] if mode == "api_key_a" else []
    if case.where == "headers":
        out.append((case.name, hostile.header_bytes(case.value)))
    return out
