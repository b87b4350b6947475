"""Read an Ordergroove-format product feed into FeedProducts (contracts §1.2-1.3, test T3).

``parse_feed`` yields, in file order, a FeedProduct or a ProductError for each top-level
<product>, and raises FeedFileError when the whole file is refused (see ``parser``): not
well-formed (an unescaped ``&`` included), empty, over ``max_bytes``, any DOCTYPE, an entity
reference, XInclude, or a root other than a namespace-free <products> starting within the first
MiB. Where the contract is silent we decided:

* <image_url></image_url> and <image_url/> mean "no image" (both official cartridges emit them).
  Any other optional element that is present needs a value, and so do <groups>, <extra_data> and
  <relationships>. Text may be plain or CDATA; surrounding whitespace is stripped; lengths count
  characters. Unknown elements are ignored everywhere; a repeated known element is refused.
* details_url and image_url are optional; given, they are absolute URLs (http(s) for details,
  https for images) with a host name, no spaces and no user name or password.
* price: digits, a dot, exactly two decimals; leading zeros tolerated; 0.00 refused.
* discontinued=1 without autoship_eligible is accepted (absent counts as not eligible). A
  replacement on a product that is not discontinued is kept; it only acts on discontinuation.
* every is at most 2147483647 (a 32-bit column). product_type and group types match ignoring
  case and come back in lower case.
* An unknown group type refuses the product (a typo must not silently drop it from its swap
  group); an identical (type, name) group is kept once.
* extra_data keys are required, at most 64 characters, unique within a product.
* At most one replacement relationship, never the product itself.
* A product_id seen earlier in the file (valid or not) refuses the later product.
* One ProductError per product: the first problem found. <products/> alone is an empty feed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import urlsplit

from lxml import etree

from app.integrations.xml import parser

MAX_ID, MAX_TEXT, MAX_URL, MAX_EVERY = 64, 1024, 400, 2_147_483_647
GROUP_TYPES = frozenset({"sku_swap", "incentive"})
PRODUCT_TYPES = frozenset({"standard", "static price bundle", "dynamic price bundle"})
PERIODS = {"1": 1, "2": 2, "3": 3, "4": 4}
REPLACEMENTS = {"discontinued_replacement": False, "discontinued_silent_replacement": True}
CONTAINERS = frozenset({"groups", "extra_data", "relationships"})
LEAVES = frozenset(
    "name product_id sku price details_url image_url autoship_eligible in_stock discontinued"
    " every every_period product_type".split()
)
REL = "relationships/relationship"
_PRICE = re.compile(r"([0-9]+)\.([0-9]{2})")
_EVERY = re.compile(r"[0-9]{1,10}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACE = re.compile(r"\s")
_PLAIN_URL = re.compile(r"([A-Za-z]+)://[A-Za-z0-9.-]+(?:[/?#][^\s\x00-\x1f\x7f]*)?")
_Invalid = parser.RecordError
_Texts = dict[str, str]


class FeedFileError(parser.DocumentError):
    """The whole feed file is refused (``.reason``, ``.line``); discard what it yielded."""


@dataclass(frozen=True, slots=True)
class FeedProduct:
    """One valid <product>; extra_data is left out of the hash so products stay hashable."""

    line: int
    product_id: str
    sku: str
    name: str
    price_minor: int
    details_url: str | None
    image_url: str | None
    autoship_eligible: bool | None
    in_stock: bool
    discontinued: bool | None
    groups: tuple[tuple[str, str], ...]
    extra_data: dict[str, str] = field(hash=False)
    replacement: str | None
    replacement_silent: bool
    every: int | None
    every_period: int | None
    product_type: str | None


@dataclass(frozen=True)
class ProductError:
    """Why the <product> starting at ``line`` was refused; the rest of the file goes on."""

    line: int
    product_id: str | None
    field: str
    reason: str


def check_file_name(name: str, merchant_public_id: str) -> None:
    """Refuse a feed whose file name is not exactly ``<merchant_public_id>.Products.xml``."""
    expected = f"{merchant_public_id}.Products.xml"
    if name != expected:
        raise FeedFileError(f"The feed file must be named {expected}, not {_show(name)}.")


def parse_feed(
    source: str | os.PathLike[str] | BinaryIO, *, max_bytes: int | None = None
) -> Iterator[FeedProduct | ProductError]:
    """Yield each product of a feed or why it was refused; raise FeedFileError to refuse all.

    :param source: a path, or a stream opened in binary mode (never XML text).
    :raises FeedFileError: possibly after products were yielded; discard them all.
    """
    seen = parser.FirstSeen()
    records = parser.iter_records(source, root="products", record="product", max_bytes=max_bytes)
    try:
        for element in records:
            yield _product(element, seen)
    except parser.DocumentError as error:
        raise FeedFileError(error.reason, error.line) from None


def _product(element: etree._Element, seen: parser.FirstSeen) -> FeedProduct | ProductError:
    """Validate one <product> element into a FeedProduct or a ProductError."""
    line = element.sourceline
    try:
        texts, nested = parser.fields(element, LEAVES, CONTAINERS)
        product_id = _required(texts, "product_id", MAX_ID, ident=True)
        if not seen.add(product_id, line):
            reason = f"Product {product_id} already appears at line {seen.line(product_id)}; "
            raise _Invalid("product_id", reason + "each product may appear only once.")
        return _build(texts, nested, line, product_id)
    except _Invalid as problem:
        return ProductError(line, _raw_id(element), problem.field, problem.reason)


def _build(
    texts: _Texts, nested: dict[str, etree._Element], line: int, product_id: str
) -> FeedProduct:
    """Check every field of a product after its product_id."""
    sku = _required(texts, "sku", MAX_ID, ident=True)
    name = _required(texts, "name", MAX_TEXT)
    price_minor = _price(_required(texts, "price", None))
    details_url = _url(_optional(texts, "details_url"), "details_url", ("http", "https"))
    image_url = _url(texts.get("image_url") or None, "image_url", ("https",))
    in_stock = _flag(texts, "in_stock", required=True) is True
    eligible = _flag(texts, "autoship_eligible")
    discontinued = _flag(texts, "discontinued")
    if discontinued and (eligible or in_stock):
        state = " and ".join(s for s, on in (("eligible", eligible), ("in stock", in_stock)) if on)
        reason = "A discontinued product must also have <autoship_eligible>0</autoship_eligible>"
        raise _Invalid("discontinued", f"{reason} and <in_stock>0</in_stock>; this one is {state}.")
    every, every_period = _frequency(texts)
    replacement, silent = _relationships(nested.get("relationships"), product_id)
    return FeedProduct(
        line=line,
        product_id=product_id,
        sku=sku,
        name=name,
        price_minor=price_minor,
        details_url=details_url,
        image_url=image_url,
        autoship_eligible=eligible,
        in_stock=in_stock,
        discontinued=discontinued,
        groups=_groups(nested.get("groups")),
        extra_data=_extra_data(nested.get("extra_data")),
        replacement=replacement,
        replacement_silent=silent,
        every=every,
        every_period=every_period,
        product_type=_product_type(_optional(texts, "product_type")),
    )


def _required(
    texts: _Texts, tag: str, limit: int | None, *, ident: bool = False, path: str = ""
) -> str:
    """Return a required element's text, refusing it when missing, empty or too long."""
    value = texts.get(tag)
    if not value:
        state = "missing" if value is None else "empty"
        raise _Invalid(path or tag, f"<{tag}> is required but {state}.")
    if (limit is not None and len(value) > limit) or (ident and _CONTROL.search(value)):
        _limited(value, path or tag, limit, ident=ident)
    return value


def _optional(texts: _Texts, tag: str) -> str | None:
    """Return an optional element's text, None when absent; refuse it when present but empty."""
    value = texts.get(tag)
    if value == "":
        reason = f"<{tag}> is present but empty; leave out optional elements that have no value."
        raise _Invalid(tag, reason)
    return value


def _limited(value: str, path: str, limit: int | None, *, ident: bool = False) -> str:
    """Refuse a value over ``limit`` characters, or an identifier spanning lines."""
    tag = path.rsplit("/", 1)[-1]
    if limit is not None and len(value) > limit:
        raise _Invalid(path, f"<{tag}> is {len(value)} characters long; the limit is {limit}.")
    if ident and _CONTROL.search(value):
        raise _Invalid(path, f"<{tag}> must be on one line, without tabs or line breaks.")
    return value


def _price(text: str) -> int:
    """Convert a price such as "19.99" to minor units (1999) without going through float."""
    match = _PRICE.fullmatch(text)
    if match is None:
        problem = "must be a number with exactly two decimals, such as 19.99"
        if text[0] in "\"'":
            problem = "must not be in quotes"
        elif text[0] == "-":
            problem = "cannot be negative"
        raise _Invalid("price", f"The price {problem} (found {_show(text)}).")
    whole = match[1].lstrip("0")
    if len(whole) > 8:
        raise _Invalid("price", f"The price {_show(text)} is above the maximum, 99999999.99.")
    minor = int(whole or "0") * 100 + int(match[2])
    if minor == 0:
        raise _Invalid("price", "The price is 0.00; give the real price the customer pays.")
    return minor


def _url(value: str | None, tag: str, schemes: tuple[str, ...]) -> str | None:
    """Return a checked absolute URL (or None when absent)."""
    if value is None:
        return None
    plain = _PLAIN_URL.fullmatch(value)  # the common case, without urlsplit's cost
    if plain and plain[1].lower() in schemes and len(value) <= MAX_URL:
        return value
    problem = _url_problem(_limited(value, tag, MAX_URL), schemes)
    if problem:
        raise _Invalid(tag, f"<{tag}> {problem} (found {_show(value)}).")
    return value


def _url_problem(value: str, schemes: tuple[str, ...]) -> str | None:
    """Say what keeps ``value`` from being a usable absolute URL, if anything."""
    if _SPACE.search(value) or _CONTROL.search(value):
        return "must not contain spaces (write them as %20)"
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return "is not a valid web address"
    if parts.scheme.lower() not in schemes:
        starts = " or ".join(f"{scheme}://" for scheme in schemes)
        return f"must be a full web address starting with {starts}"
    if not parts.hostname:
        return "must include the website's domain name"
    if parts.username is not None or parts.password is not None:
        return "must not contain a user name or password"
    return None


def _flag(texts: _Texts, tag: str, *, required: bool = False) -> bool | None:
    """Convert an unquoted 1/0 flag; None when an optional flag is absent."""
    value = texts.get(tag)
    if value in ("1", "0"):
        return value == "1"
    value = _required(texts, tag, None) if required else _optional(texts, tag)
    if value is None:
        return None
    raise _Invalid(tag, f"<{tag}> must be 1 or 0 (found {_show(value)}).")


def _frequency(texts: _Texts) -> tuple[int | None, int | None]:
    """Return the default frequency (every, every_period): both or neither."""
    if "every" not in texts and "every_period" not in texts:
        return None, None
    every, period = _optional(texts, "every"), _optional(texts, "every_period")
    if every is None or period is None:
        missing = "every_period" if period is None else "every"
        raise _Invalid(missing, "<every> and <every_period> go together; give both or neither.")
    if not _EVERY.fullmatch(every) or not 1 <= int(every) <= MAX_EVERY:
        reason = f"<every> must be a whole number from 1 to {MAX_EVERY} (found {_show(every)})."
        raise _Invalid("every", reason)
    if period not in PERIODS:
        choices = "1 (days), 2 (weeks), 3 (months) or 4 (years)"
        raise _Invalid("every_period", f"<every_period> must be {choices} (found {_show(period)}).")
    return int(every), PERIODS[period]


def _product_type(value: str | None) -> str | None:
    """Return the normalised product_type, or None when absent."""
    normal = None if value is None else " ".join(value.split()).lower()
    if normal is not None and normal not in PRODUCT_TYPES:
        choices = '"standard", "static price bundle" or "dynamic price bundle"'
        raise _Invalid("product_type", f"<product_type> must be {choices} (found {_show(value)}).")
    return normal


def _items(container: etree._Element, tag: str) -> list[etree._Element]:
    """Return a container's ``tag`` children, refusing a container without any."""
    items = parser.select(container, tag)
    if not items:
        reason = f"<{container.tag}> has no <{tag}> inside; leave it out instead."
        raise _Invalid(str(container.tag), reason)
    return items


def _groups(container: etree._Element | None) -> tuple[tuple[str, str], ...]:
    """Return the product's (type, name) groups in file order, each once."""
    if container is None:
        return ()
    groups: dict[tuple[str, str], None] = {}
    for child in _items(container, "group"):
        groups[_group(child)] = None
    return tuple(groups)


def _group(element: etree._Element) -> tuple[str, str]:
    """Check one <group type="...">name</group>."""
    raw_type = (element.get("type") or "").strip()
    kind = raw_type.lower()
    if kind not in GROUP_TYPES:
        found = f"found {_show(raw_type)}" if raw_type else "it has none"
        reason = f'A <group> needs type="sku_swap" or type="incentive" ({found}).'
        raise _Invalid("groups/group", reason)
    name = parser.text(element, "groups/group")
    if not name:
        raise _Invalid("groups/group", f"A <group> of type {kind} has no name.")
    if len(name) > MAX_ID:
        _limited(name, "groups/group", MAX_ID)
    return kind, name


def _extra_data(container: etree._Element | None) -> dict[str, str]:
    """Return the extra_data fields as key -> value."""
    data: dict[str, str] = {}
    path = "extra_data/field"
    for child in [] if container is None else _items(container, "field"):
        key = (child.get("key") or "").strip()
        if not key:
            raise _Invalid(path, 'An extra_data <field> needs a key, as in <field key="...">.')
        if len(key) > MAX_ID or key in data:
            problem = "appears twice" if key in data else f"is longer than {MAX_ID} characters"
            raise _Invalid(path, f"The extra_data key {_show(key)} {problem}.")
        value = parser.text(child, path)
        if not value:
            raise _Invalid(path, f"The extra_data field {_show(key)} is empty; leave it out.")
        if len(value) > MAX_TEXT:
            _limited(value, path, MAX_TEXT)
        data[key] = value
    return data


def _relationships(container: etree._Element | None, product_id: str) -> tuple[str | None, bool]:
    """Return the replacement product_id and whether the swap is silent (no email)."""
    if container is None:
        return None, False
    items = _items(container, "relationship")
    if len(items) > 1:
        raise _Invalid(REL, "Only one replacement relationship is allowed per product.")
    texts, parts = parser.fields(items[0], ("name",), ("related",))
    name = _required(texts, "name", None, path=f"{REL}/name")
    if name not in REPLACEMENTS:
        choices = '"discontinued_replacement" or "discontinued_silent_replacement"'
        raise _Invalid(f"{REL}/name", f"A relationship name must be {choices}, not {_show(name)}.")
    if "related" not in parts:
        raise _Invalid(f"{REL}/related", "A relationship needs <related><product_id>.")
    path = f"{REL}/related/product_id"
    ids, _ = parser.fields(parts["related"], ("product_id",))
    target = _required(ids, "product_id", MAX_ID, ident=True, path=path)
    if target == product_id:
        raise _Invalid(path, "A product cannot be its own replacement.")
    return target, REPLACEMENTS[name]


def _raw_id(element: etree._Element) -> str | None:
    """Return the product_id as written, for error reports, or None if unreadable."""
    child = element.find("product_id")
    text = (child.text or "").strip() if child is not None and not len(child) else ""
    return (text[:MAX_ID] + "…" if len(text) > MAX_ID else text) or None


def _show(value: str) -> str:
    """Quote a merchant's value for a message, shortened if long."""
    return '"' + (value if len(value) <= 40 else value[:40] + "…") + '"'
