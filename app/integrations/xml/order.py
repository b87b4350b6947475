"""Write the recurring-order XML Perennial sends to a store (contracts §6.3, §6.6, test T6).

The placement service fills an ``OrderDocument`` from its rows, as plain values, and calls
``build_order`` (one order: the API method) or ``build_batch`` (many: the SFTP method). Money is
integer minor units of the order's currency. Use the module by name, ``from
app.integrations.xml import order as order_xml``: ``order_xml.Item`` is not the model.

Every element of §6.3 is written, in the documented order. Where the contract is silent:

* Totals follow the consistent semantics §6.3 infers (its published head is per unit): item
  ``discount`` = unitary_discount × qty; ``finalPrice`` = price × qty − discount (the line total);
  ``orderSubtotalValue`` = Σ finalPrice; ``orderDiscount`` = Σ item discounts + the order-level
  discount (``orderSubtotalDiscount``); ``orderTotalValue`` = subtotal − orderSubtotalDiscount +
  shipping + tax; ``orderItemsCount`` counts <item> lines, not units. ``order_totals`` returns
  the same numbers, so the service stores what it sent. A discount larger than what it
  discounts is a ValueError: a negative total is a bug upstream, never something to send.
* CDATA wraps text that comes from merchants or shoppers (names, addresses, e-mail, sku,
  product_id, token, AES fields, card type, payment label, extra data, incentive target_id and
  code, original order id) and, as in the documented example, orderOgDate and customerLocale.
  What Perennial generates (ids, counts, money, currency, payment method, dates of the
  subscription, incentive target) is plain text. An XML parser reads both the same way.
* Text goes through ``writer``: characters XML 1.0 cannot carry (control characters, lone
  surrogates) are dropped, ``]]>`` is split over two CDATA sections, a value holding a CR is
  escaped text rather than CDATA, and a parser reads back exactly the rest.
* An empty value (None or "") is a self-closing tag, and so is an empty container:
  ``<components/>``, ``<subscription/>`` (one-time items), ``<extraData/>``, ``<incentives/>``.
  ``<type>one-time</type>`` appears only on one-time items.
* customerName is first and last name joined by a space; customer{Shipping,Billing}Address is
  line 1 and line 2 joined by a space. The documented example has 12 fields per address (the
  contract's summary says 13); those 12 are written.
* Extra data keys become element names (``<pet_name>``), as documented. A key that is not an
  XML name without a colon, or that starts with "xml", cannot take that shape and is left out;
  the service can check keys with ``extra_data_key_ok`` (and log what it drops).
* <incentives> is a direct child of <order>, after <items>, where SFCC reads it: one
  <incentive> per order-level incentive with <target>, <target_id>, <code>. The child's name is
  not documented (SFCC reads any child): **UNCONFIRMED**.
* The card type is a name: ``card_type_name`` maps the stored numeric cc_type with
  ``CARD_TYPES`` (Braintree's names, which Magento needs; SFCC accepts any case) or with a
  merchant's own mapping.
* ``build_batch`` wraps the same <order> elements in <orders>. Ordergroove documents only the
  response file's root; the request file's root is **UNCONFIRMED** (contracts §6.6).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from types import MappingProxyType
from typing import BinaryIO

from lxml import etree

from app.domain.money import decimal_string
from app.integrations.xml import writer
from app.integrations.xml.writer import clean, container, leaf

# Braintree's names, which Magento needs. SFCC reads VISA, MASTER, MASTERCARD, AMEX, AMERICAN
# EXPRESS, DISCOVER, DINERS and JCB in any case: an SFCC store needs 5 -> "Diners" instead.
CARD_TYPES: Mapping[int, str] = MappingProxyType(
    {
        1: "Visa",
        2: "MasterCard",
        3: "American Express",
        4: "Discover",
        5: "Diners Club",
        6: "JCB",
    }
)
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Address:
    """A shipping or billing address as stored; None and "" are both written empty."""

    first_name: str | None = None
    last_name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    phone: str | None = None
    fax: str | None = None
    company: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Head:
    """The <head>: the order, the merchant, the money outside the lines and the payment."""

    og_id: int  # orderOgId: Perennial's numeric order id
    public_id: str
    og_date: date  # the merchant-local calendar date the order is placed
    merchant_og_id: int  # orderSourcePartnerId
    merchant_name: str
    currency: str
    payment_public_id: str | None
    payment_method: str  # "CC"
    cc_type: str | None  # a name, from card_type_name
    cc_owner_aes: str | None  # the AES fields exactly as stored (base64)
    cc_number_aes: str | None  # legacy
    cc_expire_aes: str | None
    token_id: str | None  # exactly as the store sent it in the Purchase POST
    payment_label: str | None = None
    subtotal_discount_minor: int = 0  # orderSubtotalDiscount: the order-level discount
    shipping_minor: int = 0
    tax_minor: int = 0
    payment_data_location: str = "OG"

    def __post_init__(self) -> None:
        _whole("og_id", self.og_id)
        _whole("merchant_og_id", self.merchant_og_id)
        for name in ("subtotal_discount_minor", "shipping_minor", "tax_minor"):
            _whole(name, getattr(self, name))
        _check_date("og_date", self.og_date)
        if not _CURRENCY.fullmatch(self.currency):
            raise ValueError(f"currency must be an ISO 4217 code, not {self.currency!r}")


@dataclass(frozen=True)
class Customer:
    """The <customer>'s own fields; the addresses are on the OrderDocument."""

    og_id: int
    partner_id: str  # the merchant's user id: also the sig_field of the Authorization header
    first_name: str | None
    last_name: str | None
    email: str | None
    locale: str = "en-us"

    def __post_init__(self) -> None:
        _whole("og_id", self.og_id)


@dataclass(frozen=True)
class Component:
    """One part of a legacy bundle."""

    product_id: str
    sku: str
    qty: int

    def __post_init__(self) -> None:
        _whole("qty", self.qty, low=1)


@dataclass(frozen=True)
class ItemSubscription:
    """The <subscription> block of an item (headless integrations)."""

    public_id: str
    start_date: date
    original_order_id: str | None
    every: int
    every_period: int
    frequency_days: int
    extra_data: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        _whole("every", self.every, low=1)
        _whole("every_period", self.every_period, low=1)
        _whole("frequency_days", self.frequency_days, low=1)
        _check_date("start_date", self.start_date)


@dataclass(frozen=True)
class Item:
    """One <item>: a subscription's product, or a one-time (Instant Upsell) addition."""

    public_id: str
    offer_public_id: str | None
    offer_profile_public_id: str | None
    one_time: bool
    qty: int
    sku: str
    name: str
    product_id: str
    price_minor: int  # unit price
    unitary_discount_minor: int  # discount on one unit
    components: tuple[Component, ...] = ()
    subscription: ItemSubscription | None = None

    def __post_init__(self) -> None:
        _whole("qty", self.qty, low=1)
        _whole("price_minor", self.price_minor)
        _whole("unitary_discount_minor", self.unitary_discount_minor)
        if self.unitary_discount_minor > self.price_minor:
            raise ValueError(f"item {self.public_id}: the unit discount exceeds the unit price")

    @property
    def discount_minor(self) -> int:
        """<discount>: the line's discount, unitary_discount × qty."""
        return self.unitary_discount_minor * self.qty

    @property
    def final_price_minor(self) -> int:
        """<finalPrice>: the line total, price × qty − discount."""
        return self.price_minor * self.qty - self.discount_minor


@dataclass(frozen=True)
class Incentive:
    """An order-level incentive, as SFCC reads it: target ("order"...), its id and a code."""

    target: str
    target_id: str
    code: str


@dataclass(frozen=True)
class OrderDocument:
    """One order as plain values; ``billing`` None writes every billing field empty."""

    head: Head
    customer: Customer
    shipping: Address
    billing: Address | None
    items: tuple[Item, ...]
    incentives: tuple[Incentive, ...] = ()

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("an order needs at least one item")


@dataclass(frozen=True)
class Totals:
    """The head's computed values, as written."""

    items_count: int  # orderItemsCount: lines
    subtotal_minor: int  # orderSubtotalValue
    discount_minor: int  # orderDiscount
    total_minor: int  # orderTotalValue


def card_type_name(code: int | None, names: Mapping[int, str] = CARD_TYPES) -> str | None:
    """The name to send for a stored numeric cc_type; None when absent or unknown."""
    return names.get(code) if code is not None else None


def extra_data_key_ok(key: str) -> bool:
    """Whether ``key`` can be written as an <extraData> child element (else it is left out)."""
    if not key or key[:3].lower() == "xml" or clean(key) != key:
        return False
    try:
        etree.Element(key)  # lxml checks the XML Name production and refuses colons
    except ValueError:
        return False
    return True


def order_totals(doc: OrderDocument) -> Totals:
    """Compute the head totals of ``doc`` (see the module docstring for the semantics)."""
    head = doc.head
    subtotal = sum(item.final_price_minor for item in doc.items)
    if head.subtotal_discount_minor > subtotal:
        raise ValueError(f"order {head.public_id}: the order-level discount exceeds the subtotal")
    discount = sum(item.discount_minor for item in doc.items) + head.subtotal_discount_minor
    total = subtotal - head.subtotal_discount_minor + head.shipping_minor + head.tax_minor
    return Totals(len(doc.items), subtotal, discount, total)


def build_order(doc: OrderDocument) -> bytes:
    """Serialise one order for the API method: the XML declaration, then <order>."""
    return writer.serialise(_order_element(doc))


def build_batch(docs: Iterable[OrderDocument]) -> bytes:
    """Serialise orders for the SFTP method: <orders> (root **UNCONFIRMED**) of <order>s."""
    buffer = io.BytesIO()
    write_batch(buffer, docs)
    return buffer.getvalue()


def write_batch(out: BinaryIO, docs: Iterable[OrderDocument]) -> None:
    """Write what ``build_batch`` returns to a binary stream, one order at a time.

    :raises ValueError: an impossible order, before anything is written.
    """
    docs = list(docs)
    for doc in docs:
        order_totals(doc)
    with writer.stream(out, "orders") as add:
        for doc in docs:
            add(_order_element(doc))


def _order_element(doc: OrderDocument) -> etree._Element:
    totals = order_totals(doc)  # refuses an impossible order before anything is written
    order = etree.Element("order")
    _add_head(order, doc.head, totals)
    _add_customer(order, doc)
    container(order, "items", doc.items, partial(_add_item, currency=doc.head.currency))
    container(order, "incentives", doc.incentives, _add_incentive)
    return order


def _add_head(order: etree._Element, head: Head, totals: Totals) -> None:
    def money(minor: int) -> str:
        return decimal_string(minor, head.currency)

    element = etree.SubElement(order, "head")
    for tag, value, cdata in (
        ("orderOgId", head.og_id, False),
        ("orderPublicId", head.public_id, False),
        ("orderOgDate", head.og_date.isoformat(), True),
        ("orderSourcePartnerId", head.merchant_og_id, False),
        ("orderSourcePartnerName", head.merchant_name, True),
        ("orderItemsCount", totals.items_count, False),
        ("orderSubtotalValue", money(totals.subtotal_minor), False),
        ("orderSubtotalDiscount", money(head.subtotal_discount_minor), False),
        ("orderSalesTax", money(head.tax_minor), False),
        ("orderDiscount", money(totals.discount_minor), False),
        ("orderShipping", money(head.shipping_minor), False),
        ("orderTotalValue", money(totals.total_minor), False),
        ("orderCurrency", head.currency, False),
        ("orderPaymentPublicId", head.payment_public_id, False),
        ("orderPaymentDataLocation", head.payment_data_location, False),
        ("orderPaymentMethod", head.payment_method, False),
        ("orderCcType", head.cc_type, True),
        ("orderCcOwner", head.cc_owner_aes, True),
        ("orderCcNumber", head.cc_number_aes, True),
        ("orderCcExpire", head.cc_expire_aes, True),
        ("orderTokenId", head.token_id, True),
        ("orderPaymentLabel", head.payment_label, True),
    ):
        leaf(element, tag, value, cdata=cdata)


def _add_customer(order: etree._Element, doc: OrderDocument) -> None:
    customer = doc.customer
    element = etree.SubElement(order, "customer")
    leaf(element, "customerOgId", customer.og_id)
    for tag, value in (
        ("customerPartnerId", customer.partner_id),
        ("customerName", _joined(customer.first_name, customer.last_name)),
        ("customerFirstName", customer.first_name),
        ("customerLastName", customer.last_name),
        ("customerEmail", customer.email),
        ("customerLocale", customer.locale),
    ):
        leaf(element, tag, value, cdata=True)
    _add_address(element, "customerShipping", doc.shipping)
    _add_address(element, "customerBilling", doc.billing or Address())


def _add_address(customer: etree._Element, prefix: str, address: Address) -> None:
    for name, value in (
        ("FirstName", address.first_name),
        ("LastName", address.last_name),
        ("Address", _joined(address.line1, address.line2)),
        ("Address1", address.line1),
        ("Address2", address.line2),
        ("City", address.city),
        ("State", address.state),
        ("Zip", address.zip_code),
        ("Phone", address.phone),
        ("Fax", address.fax),
        ("Company", address.company),
        ("Country", address.country),
    ):
        leaf(customer, prefix + name, value, cdata=True)


def _add_item(items: etree._Element, item: Item, *, currency: str) -> None:
    element = etree.SubElement(items, "item")
    leaf(element, "publicId", item.public_id)
    leaf(element, "offerPublicId", item.offer_public_id)
    leaf(element, "offerProfilePublicId", item.offer_profile_public_id)
    if item.one_time:
        leaf(element, "type", "one-time")
    leaf(element, "qty", item.qty)
    leaf(element, "sku", item.sku, cdata=True)
    leaf(element, "name", item.name, cdata=True)
    leaf(element, "product_id", item.product_id, cdata=True)
    leaf(element, "discount", decimal_string(item.discount_minor, currency))
    leaf(element, "unitary_discount", decimal_string(item.unitary_discount_minor, currency))
    leaf(element, "finalPrice", decimal_string(item.final_price_minor, currency))
    leaf(element, "price", decimal_string(item.price_minor, currency))
    container(element, "components", item.components, _add_component)
    # The subscription's fields go straight inside <subscription>, empty for a one-time item.
    container(
        element,
        "subscription",
        [item.subscription] if item.subscription else [],
        _add_subscription_fields,
    )


def _add_component(components: etree._Element, component: Component) -> None:
    element = etree.SubElement(components, "component")
    leaf(element, "product_id", component.product_id, cdata=True)
    leaf(element, "sku", component.sku, cdata=True)
    leaf(element, "qty", component.qty)


def _add_subscription_fields(element: etree._Element, sub: ItemSubscription) -> None:
    leaf(element, "publicId", sub.public_id)
    leaf(element, "startDate", sub.start_date.isoformat())
    leaf(element, "originalOrderId", sub.original_order_id, cdata=True)
    leaf(element, "every", sub.every)
    leaf(element, "everyPeriod", sub.every_period)
    leaf(element, "frequencyDays", sub.frequency_days)
    pairs = [(key, value) for key, value in sub.extra_data.items() if extra_data_key_ok(key)]
    container(element, "extraData", pairs, _add_extra)


def _add_extra(extra_data: etree._Element, pair: tuple[str, str]) -> None:
    leaf(extra_data, pair[0], pair[1], cdata=True)


def _add_incentive(incentives: etree._Element, incentive: Incentive) -> None:
    element = etree.SubElement(incentives, "incentive")
    leaf(element, "target", incentive.target)
    leaf(element, "target_id", incentive.target_id, cdata=True)
    leaf(element, "code", incentive.code, cdata=True)


def _joined(first: str | None, second: str | None) -> str:
    """Join two optional parts with a space, skipping empty ones."""
    return " ".join(part for part in (first, second) if part)


def _whole(name: str, value: object, *, low: int = 0) -> None:
    """Refuse a value that is not an int (bool excluded) of at least ``low``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be a whole number of at least {low}, not {value!r}")


def _check_date(name: str, value: object) -> None:
    """Refuse anything but a calendar date (a datetime would be written with its time)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{name} must be a date, not {value!r}")
