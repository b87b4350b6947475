"""The order placement XML of contracts §6.3, read safely, and the replies of §6.4, written.

Pure: no Flask, no database. The parser loads no DTD, expands no entity and reaches no
network; a document that declares a DOCTYPE or holds an entity reference is refused whole.
Money comes in as decimal strings ("23.38") and leaves as integer cents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from xml.sax.saxutils import escape

from lxml import etree

MAX_ITEMS = 100
MAX_QUANTITY = 999
MAX_TEXT = 255
PARSER_OPTIONS = MappingProxyType(
    {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "attribute_defaults": False,
        "huge_tree": False,
        "collect_ids": False,
        "remove_comments": True,
        "remove_pis": True,
    }
)
MONEY_RE = re.compile(r"\d{1,9}(\.\d{1,2})?")
PUBLIC_ID_RE = re.compile(r"[0-9A-Za-z_-]{1,64}")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
# store address field -> <customerShipping…> element
SHIPPING_TAGS = MappingProxyType(
    {
        "first_name": "customerShippingFirstName",
        "last_name": "customerShippingLastName",
        "company_name": "customerShippingCompany",
        "address": "customerShippingAddress1",
        "address2": "customerShippingAddress2",
        "city": "customerShippingCity",
        "state_province_code": "customerShippingState",
        "zip_postal_code": "customerShippingZip",
        "country_code": "customerShippingCountry",
        "phone": "customerShippingPhone",
    }
)
DOCTYPE_REASON = "The order XML declares a DOCTYPE, which is refused."
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


class OrderXMLError(ValueError):
    """The body cannot be taken as an order; the message says why (it goes in the reply)."""


@dataclass(frozen=True)
class Item:
    sku: str
    product_id: str
    name: str
    quantity: int
    total_cents: int  # <finalPrice>: the line total after discounts
    one_time: bool  # <type>one-time</type>: an add-on to this order only


@dataclass(frozen=True)
class RecurringOrder:
    public_id: str  # <orderPublicId>: one store order each
    og_order_id: str
    og_date: str
    currency: str
    subtotal_cents: int
    subtotal_discount_cents: int
    shipping_cents: int
    sales_tax_cents: int
    total_cents: int
    token: str
    cc_type: str
    cc_expire: str  # AES ciphertext, as sent
    customer_partner_id: str
    customer_email: str
    shipping: dict[str, str]  # store address field -> value ("" when not sent)
    items: tuple[Item, ...]


def parse(data: bytes) -> RecurringOrder:
    """Read one order document.

    :raises OrderXMLError: if it is not well-formed, unsafe, lacks a required element, or its
        totals do not add up.
    """
    root = _root(data)
    head, customer, items = (
        _child(root, tag, required=True) for tag in ("head", "customer", "items")
    )
    order = RecurringOrder(
        public_id=_public_id(head),
        og_order_id=_text(head, "orderOgId"),
        og_date=_text(head, "orderOgDate"),
        currency=_text(head, "orderCurrency") or "USD",
        subtotal_cents=_money(head, "orderSubtotalValue", required=True),
        subtotal_discount_cents=_money(head, "orderSubtotalDiscount"),
        shipping_cents=_money(head, "orderShipping"),
        sales_tax_cents=_money(head, "orderSalesTax"),
        total_cents=_money(head, "orderTotalValue", required=True),
        token=_text(head, "orderTokenId", required=True),
        cc_type=_text(head, "orderCcType"),
        cc_expire=_text(head, "orderCcExpire"),
        customer_partner_id=_text(customer, "customerPartnerId", required=True),
        customer_email=_text(customer, "customerEmail"),
        shipping={field: _text(customer, tag) for field, tag in SHIPPING_TAGS.items()},
        items=_items(items),
    )
    if not CURRENCY_RE.fullmatch(order.currency):
        raise OrderXMLError("<orderCurrency> must be a three-letter code such as USD.")
    _check_totals(order)
    return order


def _root(data: bytes) -> etree._Element:
    if not data.strip():
        raise OrderXMLError("The order XML is empty.")
    try:
        root = etree.fromstring(data, etree.XMLParser(**PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        if b"<!DOCTYPE" in data:  # e.g. an external DTD: lxml refuses to fetch it
            raise OrderXMLError(DOCTYPE_REASON) from None
        raise OrderXMLError(f"The order XML is not well-formed: {exc.msg}") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise OrderXMLError(DOCTYPE_REASON)
    if next(root.iter(etree.Entity), None) is not None:
        raise OrderXMLError("The order XML uses an entity reference, which is refused.")
    if root.tag != "order":
        raise OrderXMLError("The root element must be <order>.")
    return root


def _child(parent: etree._Element, tag: str, *, required: bool = False) -> etree._Element | None:
    found = [child for child in parent if child.tag == tag]
    if len(found) > 1:
        raise OrderXMLError(f"<{tag}> is given twice.")
    if required and not found:
        raise OrderXMLError(f"<{tag}> is missing.")
    return found[0] if found else None


def _text(parent: etree._Element, tag: str, *, required: bool = False) -> str:
    element = _child(parent, tag)
    if element is not None and len(element):
        raise OrderXMLError(f"<{tag}> must hold only text.")
    value = (element.text or "").strip() if element is not None else ""
    if required and not value:
        raise OrderXMLError(f"<{tag}> is missing or empty.")
    if len(value) > MAX_TEXT:
        raise OrderXMLError(f"<{tag}> is longer than {MAX_TEXT} characters.")
    return value


def _money(parent: etree._Element, tag: str, *, required: bool = False) -> int:
    value = _text(parent, tag, required=required) or "0"
    if not MONEY_RE.fullmatch(value):
        raise OrderXMLError(f"<{tag}> must be an amount such as 23.38, not {value!r}.")
    units, _, cents = value.partition(".")
    return int(units) * 100 + int(cents.ljust(2, "0"))


def _public_id(head: etree._Element) -> str:
    value = _text(head, "orderPublicId", required=True)
    if not PUBLIC_ID_RE.fullmatch(value):
        raise OrderXMLError("<orderPublicId> must be 1 to 64 letters, digits, - or _.")
    return value


def _items(items: etree._Element) -> tuple[Item, ...]:
    elements = [child for child in items if child.tag == "item"]
    if not elements:
        raise OrderXMLError("<items> holds no <item>.")
    if len(elements) > MAX_ITEMS:
        raise OrderXMLError(f"An order holds at most {MAX_ITEMS} items.")
    return tuple(_item(element) for element in elements)


def _item(element: etree._Element) -> Item:
    sku, product_id = _text(element, "sku"), _text(element, "product_id")
    if not (sku or product_id):
        raise OrderXMLError("An <item> has neither <sku> nor <product_id>.")
    quantity = _text(element, "qty", required=True)
    if not (quantity.isascii() and quantity.isdigit() and 1 <= int(quantity) <= MAX_QUANTITY):
        raise OrderXMLError(f"<qty> must be a whole number from 1 to {MAX_QUANTITY}.")
    return Item(
        sku=sku,
        product_id=product_id,
        name=_text(element, "name"),
        quantity=int(quantity),
        total_cents=_money(element, "finalPrice", required=True),
        one_time=_text(element, "type") == "one-time",
    )


def _check_totals(order: RecurringOrder) -> None:
    """Refuse totals that do not add up (contracts §6.3 notes), rather than charge a guess."""
    lines = sum(item.total_cents for item in order.items)
    if order.subtotal_cents != lines:
        raise OrderXMLError(
            f"<orderSubtotalValue> {_amount(order.subtotal_cents)} is not the "
            f"sum of the items' <finalPrice> ({_amount(lines)})."
        )
    total = (
        order.subtotal_cents
        - order.subtotal_discount_cents
        + order.shipping_cents
        + order.sales_tax_cents
    )
    if order.total_cents != total:
        raise OrderXMLError(
            f"<orderTotalValue> {_amount(order.total_cents)} is not subtotal - "
            f"orderSubtotalDiscount + orderShipping + orderSalesTax ({_amount(total)})."
        )


def _amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def success(order_id: str, *, response_code: str | None = None) -> str:
    """The SUCCESS reply; ``response_code="010"`` asks the platform to wait for /order/verify."""
    code = f"<responseCode>{escape(response_code)}</responseCode>" if response_code else ""
    return (
        f"{DECLARATION}<order><code>SUCCESS</code>{code}"
        f"<orderId>{escape(order_id)}</orderId></order>"
    )


def error(code: str, message: str) -> str:
    """The ERROR reply with an errorCode of contracts §6.5."""
    return (
        f"{DECLARATION}<order><code>ERROR</code><errorCode>{escape(code)}</errorCode>"
        f"<errorMsg>{escape(message)}</errorMsg></order>"
    )
