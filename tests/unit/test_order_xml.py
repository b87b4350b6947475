"""Order placement XML that Perennial writes (contracts §6.3, §6.6, tests T6 and T8)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import io
import json
import re
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from app.integrations import signing
from app.integrations.xml import order as order_xml
from app.integrations.xml import order_batch, parser, writer

KEY = "Mt!ZQ45q&GHsgiRD8{NB-_h87#rjvbn0"  # T1
MERCHANT = "0e5de2bedc5e11e3a2e4bc764e106cf4"
USER = "DC69410241"
T2_EXPIRY = "kwWZ/53+x32tmofPBfCppQzDFDlnWL9lCXQ/q5nFNdk="  # AES of 12/2099 under KEY

HEAD_TAGS = (
    "orderOgId orderPublicId orderOgDate orderSourcePartnerId orderSourcePartnerName "
    "orderItemsCount orderSubtotalValue orderSubtotalDiscount orderSalesTax orderDiscount "
    "orderShipping orderTotalValue orderCurrency orderPaymentPublicId orderPaymentDataLocation "
    "orderPaymentMethod orderCcType orderCcOwner orderCcNumber orderCcExpire orderTokenId "
    "orderPaymentLabel"
).split()
ADDRESS = "FirstName LastName Address Address1 Address2 City State Zip Phone Fax Company Country"
CUSTOMER_TAGS = (
    "customerOgId customerPartnerId customerName customerFirstName customerLastName "
    "customerEmail customerLocale".split()
    + [f"customerShipping{name}" for name in ADDRESS.split()]
    + [f"customerBilling{name}" for name in ADDRESS.split()]
)
ITEM_TAGS = (
    "publicId offerPublicId offerProfilePublicId qty sku name product_id discount "
    "unitary_discount finalPrice price components subscription"
).split()
SUBSCRIPTION_TAGS = "publicId startDate originalOrderId every everyPeriod frequencyDays extraData"


def t4_item(**overrides) -> order_xml.Item:
    """The T4 subscription's line: product 123456789, qty 2, 12.99, 10% recurring -> 1.30."""
    values = dict(
        public_id="53045416aae111ecb1798e2cf0ff778f",
        offer_public_id="903ecf3e5efc12e49d61bc764e106cf6",
        offer_profile_public_id="a5e467c41f6111eabd2bbc764e101db1",
        one_time=False,
        qty=2,
        sku="123456789",
        name="Training Treat Pack",
        product_id="123456789",
        price_minor=1299,
        unitary_discount_minor=130,
        subscription=order_xml.ItemSubscription(
            public_id="74ec471c8c1211eb898efe0ed7e0111f",
            start_date=date(2022, 2, 23),
            original_order_id="abc123",
            every=4,
            every_period=2,
            frequency_days=28,
            extra_data={"pet_name": "Rover"},
        ),
    )
    return order_xml.Item(**{**values, **overrides})


def t6_document(items=None, incentives=(), **head) -> order_xml.OrderDocument:
    """The order placed for the T4 subscription (T6)."""
    values = dict(
        og_id=17071718,
        public_id="0a52e64caa1911ecbea15e94dbd6dbd0",
        og_date=date(2022, 3, 23),
        merchant_og_id=196,
        merchant_name="Pet Store",
        currency="USD",
        payment_public_id="3c9efe848c0511ebaf4c2ec47f35ff80",
        payment_method="CC",
        cc_type=order_xml.card_type_name(1),
        cc_owner_aes=None,
        cc_number_aes=None,
        cc_expire_aes=signing.encrypt_field(KEY, "12/2099"),
        token_id="7654321",
    )
    address = order_xml.Address(
        first_name="Nicholas",
        last_name="Bundy",
        line1="75 Broad Street",
        line2="23rd Floor",
        city="New York",
        state="NY",
        zip_code="10004",
        phone="555-555-5555",
        fax="",
        company="Ordergroove",
        country="US",
    )
    return order_xml.OrderDocument(
        head=order_xml.Head(**{**values, **head}),
        customer=order_xml.Customer(
            og_id=4778263,
            partner_id=USER,
            first_name="Nicholas",
            last_name="Bundy",
            email="nicholas@example.com",
        ),
        shipping=address,
        billing=None,
        items=tuple(items or [t4_item()]),
        incentives=tuple(incentives),
    )


def parsed(doc: order_xml.OrderDocument) -> etree._Element:
    return parser.fromstring(order_xml.build_order(doc))


def test_t6_values():
    root = parsed(t6_document())
    head, customer, item = root.find("head"), root.find("customer"), root.find("items/item")
    assert {tag: item.findtext(tag) for tag in ITEM_TAGS[3:11]} == {
        "qty": "2",
        "sku": "123456789",
        "name": "Training Treat Pack",
        "product_id": "123456789",
        "discount": "2.60",
        "unitary_discount": "1.30",
        "finalPrice": "23.38",
        "price": "12.99",
    }
    assert head.findtext("orderSubtotalValue") == "23.38"
    assert head.findtext("orderDiscount") == "2.60"
    assert head.findtext("orderTotalValue") == "23.38"
    assert head.findtext("orderItemsCount") == "1"
    assert customer.findtext("customerPartnerId") == USER
    assert head.findtext("orderTokenId") == "7654321"
    assert head.findtext("orderCcType") == "Visa"
    assert head.findtext("orderCcExpire") == T2_EXPIRY
    assert signing.decrypt_field(KEY, head.findtext("orderCcExpire")) == "12/2099"
    assert customer.findtext("customerShippingAddress") == "75 Broad Street 23rd Floor"
    assert customer.findtext("customerName") == "Nicholas Bundy"


def test_every_element_in_the_documented_order():
    body = order_xml.build_order(t6_document())
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<order><head>')
    root = parser.fromstring(body)
    assert [child.tag for child in root] == ["head", "customer", "items", "incentives"]
    assert [child.tag for child in root.find("head")] == HEAD_TAGS
    assert [child.tag for child in root.find("customer")] == CUSTOMER_TAGS
    assert [child.tag for child in root.find("items/item")] == ITEM_TAGS
    assert [c.tag for c in root.find("items/item/subscription")] == SUBSCRIPTION_TAGS.split()


def test_text_is_cdata_numbers_plain_and_empty_values_self_closing():
    body = order_xml.build_order(t6_document()).decode()
    for cdata in (
        "<orderCcType><![CDATA[Visa]]></orderCcType>",
        f"<customerPartnerId><![CDATA[{USER}]]></customerPartnerId>",
        "<orderTokenId><![CDATA[7654321]]></orderTokenId>",
        f"<orderCcExpire><![CDATA[{T2_EXPIRY}]]></orderCcExpire>",
        "<orderOgDate><![CDATA[2022-03-23]]></orderOgDate>",
        "<name><![CDATA[Training Treat Pack]]></name>",
        "<pet_name><![CDATA[Rover]]></pet_name>",
    ):
        assert cdata in body
    for plain in (
        "<qty>2</qty>",
        "<price>12.99</price>",
        "<orderOgId>17071718</orderOgId>",
        "<orderCurrency>USD</orderCurrency>",
        "<every>4</every>",
    ):
        assert plain in body
    for empty in (
        "<orderCcOwner/>",
        "<orderCcNumber/>",
        "<orderPaymentLabel/>",
        "<customerShippingFax/>",
        "<customerBillingCity/>",
        "<components/>",
        "<incentives/>",
    ):
        assert empty in body
    assert "<type>" not in body


def test_t6_signed_header_verifies_with_the_t1_procedure():
    body = order_xml.build_order(t6_document())
    header = signing.build_auth_header(MERCHANT, KEY, USER, 1592570791)
    fields = json.loads(header)
    assert type(fields["ts"]) is int  # a JSON number: SFCC refuses a string
    assert re.fullmatch(r"[A-Za-z0-9+/]{43}=", fields["sig"])  # plain base64, not URL-encoded
    assert fields["public_id"] == MERCHANT
    # What SFCC's receiver does: sig_field is the body's customerPartnerId, HMAC recomputed.
    partner = parser.fromstring(body).findtext("customer/customerPartnerId")
    assert fields["sig_field"] == partner
    message = f"{partner}|{fields['ts']}".encode()
    digest = hmac.new(KEY.encode(), message, hashlib.sha256).digest()
    assert base64.b64encode(digest).decode() == fields["sig"]
    signing.verify_auth_header(header, public_id=MERCHANT, hash_key=KEY, now=1592570791 + 60)


def test_one_time_items_components_extra_data_and_incentives():
    upsell = t4_item(
        public_id="b" * 32,
        one_time=True,
        qty=1,
        subscription=None,
        components=(order_xml.Component("B987654", "B987654", 2),),
    )
    bundle = t4_item(
        subscription=dataclasses.replace(
            t4_item().subscription,
            extra_data={
                "pet_name": "Rover",
                "pet name": "x",
                "1st": "y",
                "a:b": "z",
                "xmlish": "w",
                "breed": "Great Pyr",
            },
        )
    )
    incentive = order_xml.Incentive("order", "5f1c", "SAVE10")
    root = parsed(t6_document(items=[bundle, upsell], incentives=[incentive]))
    first, second = root.findall("items/item")
    assert [child.tag for child in second][:4] == [
        "publicId",
        "offerPublicId",
        "offerProfilePublicId",
        "type",
    ]
    assert second.findtext("type") == "one-time" and first.find("type") is None
    assert etree.tostring(second.find("subscription")) == b"<subscription/>"
    component = second.find("components/component")
    assert [(c.tag, c.text) for c in component] == [
        ("product_id", "B987654"),
        ("sku", "B987654"),
        ("qty", "2"),
    ]
    extra = first.find("subscription/extraData")
    assert [(c.tag, c.text) for c in extra] == [("pet_name", "Rover"), ("breed", "Great Pyr")]
    assert [(c.tag, c.text) for c in root.find("incentives/incentive")] == [
        ("target", "order"),
        ("target_id", "5f1c"),
        ("code", "SAVE10"),
    ]
    assert root.findtext("head/orderItemsCount") == "2"


@pytest.mark.parametrize(
    "key, ok",
    [
        ("pet_name", True),
        ("a-b.c", True),
        ("größe", True),
        ("pet name", False),
        ("1st", False),
        ("a:b", False),
        ("XMLthing", False),
        ("", False),
        ("a\x00", False),
        ("a\ud800", False),
    ],
)
def test_extra_data_keys_that_are_not_xml_names_are_left_out(key, ok):
    assert order_xml.extra_data_key_ok(key) is ok


def test_order_level_discount_shipping_and_tax_totals():
    doc = t6_document(subtotal_discount_minor=338, shipping_minor=599, tax_minor=150)
    head = parsed(doc).find("head")
    assert head.findtext("orderSubtotalValue") == "23.38"
    assert head.findtext("orderSubtotalDiscount") == "3.38"
    assert head.findtext("orderDiscount") == "5.98"  # 2.60 on the item + 3.38 on the order
    assert head.findtext("orderShipping") == "5.99"
    assert head.findtext("orderSalesTax") == "1.50"
    assert head.findtext("orderTotalValue") == "27.49"  # 23.38 - 3.38 + 5.99 + 1.50
    assert order_xml.order_totals(doc) == order_xml.Totals(1, 2338, 598, 2749)


def test_money_follows_the_currency_minor_units():
    doc = t6_document(currency="JPY", items=[t4_item(price_minor=1200, unitary_discount_minor=120)])
    root = parsed(doc)
    assert root.findtext("items/item/finalPrice") == "2160"
    assert root.findtext("head/orderSubtotalDiscount") == "0"


@pytest.mark.parametrize(
    "make",
    [
        lambda: t4_item(unitary_discount_minor=1300),
        lambda: t4_item(qty=0),
        lambda: t4_item(qty=True),
        lambda: t4_item(price_minor=12.99),
        lambda: t6_document(og_date=datetime(2022, 3, 23, 2, 0)),
        lambda: t6_document(currency="usd"),
        lambda: order_xml.build_order(t6_document(subtotal_discount_minor=2339)),
        lambda: dataclasses.replace(t6_document(), items=()),
    ],
)
def test_impossible_orders_are_refused_before_writing(make):
    with pytest.raises(ValueError):
        make()


def test_card_type_names_and_a_merchant_override():
    assert [order_xml.card_type_name(code) for code in (1, 2, 3, 4, 5, 6)] == [
        "Visa",
        "MasterCard",
        "American Express",
        "Discover",
        "Diners Club",
        "JCB",
    ]
    assert order_xml.card_type_name(None) is None and order_xml.card_type_name(9) is None
    sfcc = {**order_xml.CARD_TYPES, 5: "Diners"}
    assert order_xml.card_type_name(5, sfcc) == "Diners"
    head = parsed(t6_document(cc_type=None)).find("head")
    assert etree.tostring(head.find("orderCcType")) == b"<orderCcType/>"


@pytest.mark.parametrize(
    "value, written, read",
    [
        ("A]]>B", b"<![CDATA[A]]]]><![CDATA[>B]]>", "A]]>B"),
        ("x]", b"<![CDATA[x]]]>", "x]"),  # crashes lxml 6.1.3's incremental CDATA writer
        ("]]]>", b"<![CDATA[]]]]]><![CDATA[>]]>", "]]]>"),
        ("a\r\nb", b"a&#13;\nb", "a\r\nb"),  # a raw CR in CDATA would read back as LF
        ("D\x00\x08\x0b\ufffe\ud800E\tF", b"<![CDATA[DE\tF]]>", "DE\tF"),
        ("\x00\x01", b"<name/>", ""),
    ],
)
def test_cdata_terminators_carriage_returns_and_control_characters(value, written, read):
    body = order_xml.build_order(t6_document(items=[t4_item(name=value)]))
    assert written in body
    assert (parser.fromstring(body).findtext("items/item/name") or "") == read


def test_batch_wraps_the_same_orders_in_orders():
    first, second = t6_document(), t6_document(og_id=17071719, public_id="f" * 32)
    root = parser.fromstring(order_xml.build_batch([first, second]))
    assert root.tag == "orders"
    assert [etree.tostring(order) for order in root] == [
        etree.tostring(parser.fromstring(order_xml.build_order(doc))) for doc in (first, second)
    ]
    assert len(parser.fromstring(order_xml.build_batch([]))) == 0
    out = io.BytesIO()
    with pytest.raises(ValueError):
        order_xml.write_batch(out, [first, t6_document(subtotal_discount_minor=9999)])
    assert out.getvalue() == b""  # refused before anything was written


def test_t8_batch_file_names():
    when = datetime(2022, 3, 23, 2, 0, 0)
    name = order_batch.batch_file_name(MERCHANT, when)
    assert name == f"{MERCHANT}_batch_orders_03-23-2022_020000.xml"
    response = f"{MERCHANT}.BatchResponse03-23-2022_031500.xml"
    assert order_batch.response_file_time(response, MERCHANT) == datetime(2022, 3, 23, 3, 15)
    for other in (
        f"{'a' * 32}.BatchResponse03-23-2022_031500.xml",
        f"{MERCHANT}.BatchResponse13-45-2022_031500.xml",
        f"{MERCHANT}.BatchResponse03-23-2022_031500.XML",
        f"{MERCHANT}.Products.xml",
        name,
    ):
        assert order_batch.response_file_time(other, MERCHANT) is None
    with pytest.raises(ValueError):
        order_batch.batch_file_name("../etc", when)


# Any code point, lone surrogates included (a Python str can hold them, though no row should),
# with the pieces that matter to XML drawn often.
ANY_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["]]>", "]]", "]", ">", "\r", "\r\n", "&", "<", "\x00", "\x1f", "\ud800"]),
        st.characters(exclude_categories=()),
    ),
    max_size=20,
).map("".join)


@given(
    name=ANY_TEXT,
    sku=ANY_TEXT,
    merchant=ANY_TEXT,
    city=ANY_TEXT,
    token=ANY_TEXT,
    pet=ANY_TEXT,
    code=ANY_TEXT,
)
def test_any_text_gives_well_formed_xml_that_reads_back(
    name, sku, merchant, city, token, pet, code
):
    item = t4_item(
        name=name,
        sku=sku,
        subscription=dataclasses.replace(t4_item().subscription, extra_data={"pet_name": pet}),
    )
    doc = t6_document(
        items=[item],
        merchant_name=merchant,
        token_id=token,
        incentives=[order_xml.Incentive("order", "1", code)],
    )
    doc = dataclasses.replace(doc, shipping=order_xml.Address(city=city))
    root = parser.fromstring(order_xml.build_order(doc))  # well-formed, and safe to our parser
    read = {
        "items/item/name": name,
        "items/item/sku": sku,
        "head/orderSourcePartnerName": merchant,
        "customer/customerShippingCity": city,
        "head/orderTokenId": token,
        "items/item/subscription/extraData/pet_name": pet,
        "incentives/incentive/code": code,
    }
    for path, value in read.items():
        element = root.find(path)
        assert element is not None, path
        assert (element.text or "") == writer.clean(value), path
        assert len(element) == 0
