"""Hypothesis strategies for hostile input: values, JSON fragments, URLs, headers and bodies.

Everything a request carries is built here as the bytes a real HTTP server would hand to the
app (``Request``), so the test client never has to encode (and can never choke on) a value:
a lone surrogate in a URL arrives as ``%ED%A0%80``, in JSON as the escape ``\\ud800``.
Nothing here knows Perennial's routes; ``tests/web/test_generated_input.py`` does.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

SURROGATES = ("\ud800", "\udfff", "a\udc80b", "\udbff\ud800x")
NUMBERS = (
    "0",
    "-1",
    "1",
    "007",
    "+7",
    " 7",
    "7 ",
    "1_000",
    "0x1F",
    "1.5",
    "1e3",
    "1e309",
    "-1e309",
    "NaN",
    "inf",
    "-0",
    "99999999999999999999",
    "100000000000000000000000000000",
    "-99999999999999999999",
    "9223372036854775808",
    "2147483648",
    "9" * 5000,
    "\u00b2",
    "\u00b9\u00b2\u00b3",
    "\u0661\u0662",
    "\u0663",
    "\U0001d7d7",
    "\u2460",
    "\u216b",
    "\u09ea",
    "\uff11\uff12",
)
DATES = (
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00+01:00",
    "9999-12-31T23:59-01:00",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999-23:59",
    "0000-00-00",
    "2024-02-30",
    "2024-13-01T00:00",
    "2024-01-01T24:00:00",
    "2024-01-01T00:00:00+24:00",
    "-0001-01-01",
    "+10000-01-01",
    "2024-W01",
    "\uff12\uff10\uff12\uff14-01-01",
    "1970-01-01T00:00:00Z",
    "2024-06-01",
)
TEXTS = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\t\r\n",
    "..",
    "../../etc/passwd",
    "%",
    "%00",
    "%ED%A0%80",
    "%FF",
    "%2F",
    "/",
    "//evil.example",
    "javascript:alert(1)",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "'\"",
    "\u202e",
    "\ufeff",
    "\u00e9",
    "\U0001f600",
    "null",
    "true",
    "[]",
    "{}",
    "A" * 10_000,
    "\u00e9" * 3000,
    "[" * 20_000,
    '{"a":' * 1000,
    "4111 1111 1111 1111",
)
OFFSETS = ("", "Z", "+00:00", "+01:00", "-01:00", "+14:00", "-12:00", "+23:59", "-23:59")


def utf8(text: str) -> bytes:
    """Encode as a client would, lone surrogates included (they become ``ED A0 80``)."""
    return text.encode("utf-8", "surrogatepass")


@st.composite
def dates(draw) -> str:
    """ISO 8601 dates and datetimes, biased to the ends of the calendar and odd offsets."""
    year = draw(st.sampled_from((1, 2, 1970, 2024, 9998, 9999)) | st.integers(1, 9999))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    text = f"{year:04d}-{month:02d}-{day:02d}"
    if draw(st.booleans()):
        text += f"T{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}"
        text += draw(st.sampled_from(("", ":00", ":59.999999")))
        text += draw(st.sampled_from(OFFSETS))
    return text


def _repeat(pair: tuple[str, int]) -> str:
    return pair[0] * pair[1]


# Built once: strategies are cheap to draw from but not to build.
NUMBER = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers(-(10**30), 10**30).map(str),
    st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=4),
)
TEXT = st.one_of(
    st.sampled_from(TEXTS + SURROGATES),
    st.text(max_size=20),
    st.text(st.characters(codec=None), max_size=8),
    st.text(st.characters(categories=["Cs", "Cc", "Zs", "Cf"]), min_size=1, max_size=4),
    st.tuples(st.sampled_from("[{(\\%\x00a\u00e9"), st.sampled_from((100, 1000, 5000, 30_000))).map(
        _repeat
    ),
)
DATE = st.one_of(dates(), st.sampled_from(DATES))
HOSTILE_TEXT = st.one_of(TEXT, NUMBER, DATE)


def dumps(value) -> str:
    """JSON text; lone surrogates become ``\\udXXX`` escapes, as any JSON encoder writes them."""
    return json.dumps(value, ensure_ascii=True)


def nested(depth: int, kind: str = "[") -> str:
    """JSON text nested ``depth`` deep: arrays, or objects (``kind="{"``)."""
    if kind == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


JSON_NUMBERS = (
    "0",
    "-1",
    "1.5",
    "-0.0",
    "1e308",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "-Infinity",
    "100000000000000000000",
    "-100000000000000000000",
    "9" * 5000,
)


def _json_list(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _json_object(members: dict[str, str]) -> str:
    return "{" + ", ".join(f"{dumps(k)}: {v}" for k, v in members.items()) + "}"


def _nested(pair: tuple[int, str]) -> str:
    return nested(*pair)


JSON_SCALAR = st.one_of(
    HOSTILE_TEXT.map(dumps),
    st.sampled_from(JSON_NUMBERS + ("true", "false", "null")),
    st.integers(-(10**25), 10**25).map(str),
)
JSON_VALUE = st.one_of(
    JSON_SCALAR,
    st.recursive(
        JSON_SCALAR,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(_json_list),
            st.dictionaries(
                st.sampled_from(("a", "product", "every", "id", "d")), inner, max_size=3
            ).map(_json_object),
        ),
        max_leaves=4,
    ),
    st.tuples(st.sampled_from((100, 990, 1000, 3000, 20_000)), st.sampled_from("[{")).map(_nested),
)


@dataclass(frozen=True)
class Raw:
    """A JSON fragment to splice into a document in place of a value."""

    text: str


def render(value, *, encode_strings: bool = False) -> str:
    """Serialise ``value`` to JSON text, splicing in ``Raw`` fragments verbatim; with
    ``encode_strings`` every string value is percent-encoded first (the SFCC encoding)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(
                f"{dumps(str(k))}: {render(v, encode_strings=encode_strings)}"
                for k, v in value.items()
            )
            + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(render(v, encode_strings=encode_strings) for v in value) + "]"
    if encode_strings and isinstance(value, str):
        return dumps(quote_from_bytes(utf8(value), safe=""))
    return dumps(value)


def base64_json(text: str, urlsafe: bool, padded: bool) -> str:
    raw = utf8(text)
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()
    return encoded if padded else encoded.rstrip("=")


SMALL_ID = st.integers(0, 50).map(str)


@st.composite
def _cursor(draw) -> str:
    direction = draw(st.sampled_from(('"after"', '"before"')) | JSON_VALUE)
    pk = draw(SMALL_ID | JSON_VALUE)
    doc = draw(
        st.sampled_from(
            (
                f'{{"d": {direction}, "id": {pk}}}',
                f'{{"id": {pk}}}',
                pk,
                f'[{{"d": {direction}, "id": {pk}}}]',
            )
        )
    )
    encoded = base64_json(doc, draw(st.booleans()), draw(st.booleans()))
    return draw(st.sampled_from((encoded, encoded[:-1], encoded + "!", "=" + encoded)))


CURSOR = st.one_of(_cursor(), _cursor(), NUMBER, TEXT)


def header_bytes(raw: bytes) -> str:
    """A header as a WSGI server passes it: the bytes as latin-1; CR, LF and NUL never
    reach the app (servers refuse them), so they are dropped here."""
    return re.sub("[\r\n\x00]", "", raw.decode("latin-1"))


def header_value(text: str) -> str:
    return header_bytes(utf8(text))


def compact(text: str, limit: int = 400) -> str:
    """Shorten long runs (``'['*30000``) and long values so a failing request stays readable."""
    text = re.sub(r"(.)\1{39,}", lambda m: f"<{m.group(1)!r}*{len(m.group(0))}>", text, flags=re.S)
    return text if len(text) <= limit else f"{text[:limit]}…<{len(text)} chars>"


@dataclass(repr=False)
class Request:
    """One HTTP request as bytes on the wire (decoded path, raw query, latin-1 headers)."""

    method: str
    path: bytes
    query: list[tuple[bytes, bytes]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    content_type: str | None = None
    mode: str = "anonymous"  # whose credentials the request carries

    @property
    def query_string(self) -> str:
        return "&".join(
            f"{quote_from_bytes(k, safe='')}={quote_from_bytes(v, safe='')}" for k, v in self.query
        )

    @property
    def target(self) -> str:
        qs = self.query_string
        return quote_from_bytes(self.path, safe="/") + (f"?{qs}" if qs else "")

    def environ_overrides(self) -> dict[str, str]:
        raw = self.target
        return {
            "PATH_INFO": self.path.decode("latin-1"),
            "QUERY_STRING": self.query_string,
            "REQUEST_URI": raw,
            "RAW_URI": raw,
        }

    def text(self) -> str:
        """Everything the client sent, decoded, for telling echoes from leaks."""
        parts = [
            self.path.decode("utf-8", "replace"),
            self.target,
            self.body.decode("utf-8", "replace"),
        ]
        parts += [v for _, v in self.headers]
        parts += [v.decode("utf-8", "replace") for _, v in self.query]
        return "\n".join(parts)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))  # what Hypothesis prints for a failing example

    def __repr__(self) -> str:
        lines = [f"{self.method} {compact(self.target)}  [{self.mode}]"]
        lines += [f"{name}: {compact(value, 200)}" for name, value in self.headers]
        if self.content_type is not None:
            lines.append(f"Content-Type: {compact(self.content_type, 200)}")
        if self.body:
            lines.append(f"body: {compact(self.body.decode('latin-1'), 800)}")
        return "\n    ".join(lines)


def form_encoded(pairs: list[tuple[bytes, bytes]]) -> bytes:
    return "&".join(
        f"{quote_from_bytes(k, safe='')}={quote_from_bytes(v, safe='')}" for k, v in pairs
    ).encode("ascii")


def multipart(pairs: list[tuple[bytes, bytes]], boundary: str = "hostileBoundary") -> bytes:
    chunks = [
        b"--"
        + boundary.encode()
        + b'\r\nContent-Disposition: form-data; name="'
        + k.replace(b'"', b"")
        + b'"\r\n\r\n'
        + v
        + b"\r\n"
        for k, v in pairs
    ]
    return b"".join(chunks) + b"--" + boundary.encode() + b"--\r\n"


CONTENT_TYPES = (
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-16",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "application/json",
    "application/json; charset=latin-1",
    "text/plain",
    "application/xml",
    "*/*",
    "\u00e9/\u00e9",
)


JUNK = st.binary(max_size=64) | HOSTILE_TEXT.map(utf8) | st.just(b"x" * (2 * 1024 * 1024 + 1))


@st.composite
def bodies(draw, pairs: list[tuple[bytes, bytes]], spoil: bool = False) -> tuple[bytes, str | None]:
    """The form ``pairs`` encoded as a browser would; when ``spoil``, encoded some other way
    or replaced by a body that is not a form at all."""
    how = draw(
        st.sampled_from(("form", "multipart", "json", "junk", "empty"))
        if spoil
        else st.sampled_from(("form",) * 9 + ("multipart",))
    )
    if how == "form":
        return form_encoded(pairs), "application/x-www-form-urlencoded"
    if how == "multipart":
        return multipart(pairs), 'multipart/form-data; boundary="hostileBoundary"'
    if how == "json":
        doc = {
            k.decode("utf-8", "surrogateescape"): v.decode("utf-8", "surrogateescape")
            for k, v in pairs
        }
        return utf8(dumps(doc)), "application/json"
    if how == "junk":
        return draw(JUNK), header_value(draw(st.sampled_from(CONTENT_TYPES) | TEXT))
    return b"", draw(st.none() | st.sampled_from(CONTENT_TYPES))
