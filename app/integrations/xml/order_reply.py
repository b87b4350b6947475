"""Read what a store answers to an order (contracts §6.4-§6.6, tests T7 and T8).

``parse_reply`` reads the reply to one POSTed order and never raises: anything it cannot
understand is a Reply of kind "unreadable" with a ``problem`` sentence. The kinds:

* ``success``: ``<code>SUCCESS</code>``, with the store's ``<orderId>`` when given.
* ``pending_verification``: SUCCESS with ``<responseCode>010</responseCode>`` (the store will
  confirm through ``/order/verify``).
* ``error``: ``<code>ERROR</code>`` with a numeric ``<errorCode>`` (kept as written: "020")
  and ``<errorMsg>``. Which codes mean what is the placement service's business, not this
  module's: an unlisted code such as SFCC's 403 is still an ``error``.
* ``unreadable``: empty, not XML, over ``MAX_REPLY_BYTES``, a DOCTYPE or an entity reference
  (refused by the hardened ``parser``), a root other than a namespace-free ``<order>``, no or an
  unknown ``<code>``, a repeated or nested field.

A reply is read by its content, never by its headers, because real stores answer HTTP 200 as
``text/html`` with CRLF line ends (SFCC), ``text/xml`` with a declaration that names no
encoding (Magento), with a UTF-8 byte order mark or whitespace around the document, and with an
empty ``<errorMsg />`` on success (SFCC). The HTTP status is not looked at either: what a 5xx
means is the placement service's decision (T7 leaves it **UNCONFIRMED**). ``content_type``
only names the reply in a problem sentence, and gives a fallback: when a document that declares
no encoding is not well-formed as UTF-8, the header's ``charset`` (if any, and not UTF-8) is
tried, so a Latin-1 error message from an old store does not lose the whole reply. A declared
encoding always wins.

Decisions where the contract is silent: ``<code>`` matches in any case; a SUCCESS without
``<orderId>`` is still a success (the store placed the order) with ``order_id`` None; SUCCESS
with responseCode 000 is a success, with any responseCode other than 000 or 010 it is
unreadable (contradictory: not guessed at); ERROR without a numeric errorCode is unreadable;
an orderId longer than ``MAX_ORDER_ID`` characters is unreadable (it cannot be stored whole);
field text (plain or CDATA) is stripped; errorMsg has its whitespace collapsed and is cut to
``MAX_MESSAGE`` characters with "…". Unknown elements are ignored.

``parse_batch_response`` reads a batch response file ``<orders><order><ogOrderId>…``: each
record becomes a BatchReply in file order, read by the same rules. A bad record does not lose
the others: it is a BatchReply whose ``reply`` is unreadable (the order it names gets that
answer), or, when it names no usable ``ogOrderId`` or repeats one already answered in the file,
one whose ``og_order_id`` is None (it touches no order; the first answer for an id stands).
Only a file that cannot be read as a whole (not XML or cut short, a DOCTYPE, an entity, a root
other than ``<orders>``, over ``max_bytes``) raises BatchFileError: then no order is touched
and they wait for a corrected file.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Literal

from lxml import etree

from app.integrations.xml import parser

MAX_REPLY_BYTES = 1024 * 1024
MAX_BATCH_BYTES = 64 * 1024 * 1024
MAX_ORDER_ID = 200
MAX_MESSAGE = 1000
MAX_PROBLEM = 300
FIELDS = ("code", "orderId", "errorCode", "errorMsg", "responseCode")
BOM = b"\xef\xbb\xbf"
_ERROR_CODE = re.compile(r"[0-9]{1,6}")
_OG_ORDER_ID = re.compile(r"[0-9]{1,18}")
_DECLARED_ENCODING = re.compile(rb"<\?xml[^>]*\bencoding\s*=")

ReplyKind = Literal["success", "pending_verification", "error", "unreadable"]


@dataclass(frozen=True)
class Reply:
    """What the store answered about one order; fields are None when absent or empty."""

    kind: ReplyKind
    order_id: str | None = None  # the store's <orderId>
    error_code: str | None = None  # <errorCode> as written, leading zeros kept
    error_msg: str | None = None  # <errorMsg>, at most MAX_MESSAGE characters
    response_code: str | None = None  # <responseCode>, e.g. "010"
    problem: str | None = None  # why the reply is unreadable: a sentence for people


@dataclass(frozen=True)
class BatchReply:
    """One <order> record of a batch response file."""

    line: int | None  # where the record starts in the file
    og_order_id: int | None  # the order it answers; None: it answers no order
    reply: Reply


class BatchFileError(parser.DocumentError):
    """The whole batch response file is refused (``.reason``, ``.line``); no order is touched."""


def parse_reply(body: bytes, *, content_type: str | None = None) -> Reply:
    """Read a store's reply to one order; never raises."""
    if len(body) > MAX_REPLY_BYTES:
        return _unreadable(f"The reply is larger than the limit of {MAX_REPLY_BYTES:,} bytes.")
    data = _trim(body)
    if not data:
        return _unreadable("The reply is empty.")
    try:
        root = _parse(data, content_type)
    except parser.DocumentError as error:
        return _unreadable(f"The reply is refused: {error.reason}")
    except etree.LxmlError as error:
        shown = f" ({content_type})" if content_type else ""
        return _unreadable(f"The reply{shown} is not well-formed XML: {error}")
    if root.tag != "order":
        return _unreadable(f"The reply's root element is <{_tag(root)}>, not <order>.")
    return _read(root)


def parse_batch_response(data: bytes, *, max_bytes: int = MAX_BATCH_BYTES) -> list[BatchReply]:
    """Read a batch response file into one BatchReply per <order> record, in file order.

    :raises BatchFileError: the file as a whole cannot be read; apply none of it.
    """
    replies: list[BatchReply] = []
    answered: dict[int, int | None] = {}
    records = parser.iter_records(
        io.BytesIO(_trim(data)), root="orders", record="order", max_bytes=max_bytes
    )
    try:
        for element in records:
            replies.append(_batch_reply(element, answered))
    except parser.DocumentError as error:
        raise BatchFileError(error.reason, error.line) from None
    return replies


def _batch_reply(element: etree._Element, answered: dict[int, int | None]) -> BatchReply:
    """Read one record; a record naming no usable or an already answered id answers none."""
    line = element.sourceline
    try:
        ids, _ = parser.fields(element, ("ogOrderId",))
    except parser.RecordError as error:
        return BatchReply(line, None, _unreadable(error.reason))
    raw = ids.get("ogOrderId", "")
    if not _OG_ORDER_ID.fullmatch(raw):
        problem = "The record has no <ogOrderId>" if not raw else "The <ogOrderId> is not a number"
        return BatchReply(line, None, _unreadable(f"{problem}; it answers no order."))
    og_order_id = int(raw)
    if og_order_id in answered:
        first = answered[og_order_id]
        problem = f"Order {og_order_id} is already answered at line {first}; this one is ignored."
        return BatchReply(line, None, _unreadable(problem))
    answered[og_order_id] = line
    return BatchReply(line, og_order_id, _read(element))


def _read(element: etree._Element) -> Reply:
    """Turn an <order> reply element into a Reply."""
    try:
        texts, _ = parser.fields(element, FIELDS)
    except parser.RecordError as error:
        return _unreadable(error.reason)
    order_id = texts.get("orderId") or None
    error_code = texts.get("errorCode") or None
    response_code = texts.get("responseCode") or None
    message = " ".join(texts.get("errorMsg", "").split())
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    read = {"error_code": error_code, "error_msg": message or None, "response_code": response_code}
    if order_id and len(order_id) > MAX_ORDER_ID:
        problem = f"The <orderId> is longer than {MAX_ORDER_ID} characters."
        return Reply("unreadable", problem=problem, **read)
    read["order_id"] = order_id
    code = texts.get("code", "")
    if code.upper() == "SUCCESS":
        if response_code in (None, "000"):
            return Reply("success", **read)
        if response_code == "010":
            return Reply("pending_verification", **read)
        problem = f"A SUCCESS reply with responseCode {_show(response_code)} is not understood."
        return Reply("unreadable", problem=problem, **read)
    if code.upper() == "ERROR":
        if error_code and _ERROR_CODE.fullmatch(error_code):
            return Reply("error", **read)
        found = f"{_show(error_code)}, not a number" if error_code else "none"
        return Reply(
            "unreadable", problem=f"An ERROR reply needs an <errorCode> ({found}).", **read
        )
    problem = f"The <code> is {_show(code)}, not SUCCESS or ERROR." if code else "No <code>."
    return Reply("unreadable", problem=problem, **read)


def _parse(data: bytes, content_type: str | None) -> etree._Element:
    """Parse with the hardened parser, trying the Content-Type charset if the bytes need it."""
    try:
        return parser.fromstring(data)
    except etree.XMLSyntaxError as error:
        charset = _charset(content_type)
        if charset is None or _DECLARED_ENCODING.match(data[:200]):
            raise
        try:
            recoded = data.decode(charset).encode("utf-8")
        except (LookupError, ValueError):  # unknown charset, bytes not valid in it, surrogates
            raise error from None
    return parser.fromstring(recoded)


def _charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type, unless absent or UTF-8."""
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.partition("=")
        value = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and value not in ("", "utf-8", "utf8"):
            return value
    return None


def _trim(data: bytes) -> bytes:
    """Drop a UTF-8 byte order mark and the whitespace around the document."""
    return data.removeprefix(BOM).strip()


def _tag(element: etree._Element) -> str:
    """Name an element for a message, namespace and all, shortened if long."""
    return _show(str(element.tag), quoted=False)


def _show(value: str | None, *, quoted: bool = True) -> str:
    """Quote a store's value for a message, shortened if long."""
    text = value or ""
    text = text if len(text) <= 40 else text[:40] + "…"
    return f'"{text}"' if quoted else text


def _unreadable(problem: str) -> Reply:
    """An unreadable Reply, its problem bounded."""
    if len(problem) > MAX_PROBLEM:
        problem = problem[: MAX_PROBLEM - 1] + "…"
    return Reply("unreadable", problem=problem)
