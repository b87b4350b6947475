"""Product feed XML (contracts §1, test T3): what is kept, what is refused, and why."""

from __future__ import annotations

import gc
import io
import os
from pathlib import Path

import pytest
from lxml import etree

from app.integrations.xml import parser
from app.integrations.xml.feed import (
    FeedFileError,
    FeedProduct,
    ProductError,
    check_file_name,
    parse_feed,
)

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
MERCHANT = "0e5de2bedc5e11e3a2e4bc764e106cf4"
T3_FILE = FEEDS / f"{MERCHANT}.Products.xml"

BASE = {
    "name": "<![CDATA[Kibble]]>",
    "product_id": "P1",
    "sku": "S1",
    "price": "19.99",
    "details_url": "https://shop.example/p/P1",
    "image_url": "https://shop.example/i/P1.jpg",
    "in_stock": "1",
}


def product_xml(drop: tuple[str, ...] = (), extra: str = "", **fields: str | None) -> str:
    """Build one <product>: a None value gives a self-closing tag, drop leaves tags out."""
    values = {**BASE, **fields}
    body = "".join(
        f"<{tag}/>" if value is None else f"<{tag}>{value}</{tag}>"
        for tag, value in values.items()
        if tag not in drop
    )
    return f"<product>{body}{extra}</product>"


def parse_text(xml: str, **kwargs) -> list[FeedProduct | ProductError]:
    """Parse a feed given as text, through a binary stream as the service would."""
    return list(parse_feed(io.BytesIO(xml.encode("utf-8")), **kwargs))


def one(drop: tuple[str, ...] = (), extra: str = "", **fields: str | None):
    """Parse a feed holding a single product and return what it yields."""
    (item,) = parse_text(f"<products>\n{product_xml(drop, extra, **fields)}\n</products>")
    return item


def write_feed(path: Path, count: int) -> Path:
    """Write a realistic feed of ``count`` products (groups, extra_data, frequency) to ``path``."""
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<products>\n')
        for i in range(count):
            out.write(
                f"<product><name><![CDATA[Dog Food & Treats™ {i}]]></name>"
                f"<product_id>P{i:07d}</product_id><sku>SKU-{i:07d}</sku>"
                f'<groups><group type="sku_swap"><![CDATA[Group {i // 10}]]></group>'
                f'<group type="incentive">Incentive {i % 7}</group></groups>'
                f"<price>{i % 500 + 1}.99</price>"
                f"<details_url>https://shop.example/p/P{i:07d}</details_url>"
                f"<image_url>https://cdn.shop.example/i/P{i:07d}.jpg</image_url>"
                f"<autoship_eligible>1</autoship_eligible><in_stock>{i % 2}</in_stock>"
                f"<discontinued>0</discontinued>"
                f'<extra_data><field key="variant_name">Size {i % 5}</field>'
                f'<field key="color">Red</field></extra_data>'
                f"<every>4</every><every_period>2</every_period></product>\n"
            )
        out.write("</products>\n")
    return path


# T3 ---------------------------------------------------------------------------------------


def test_t3_file_parses_to_what_t3_expects():
    items = list(parse_feed(T3_FILE))
    assert items == [
        FeedProduct(
            line=2,
            product_id="AB4483902",
            sku="45987234980",
            name="Dog Food & Treats™",
            price_minor=1999,
            details_url="https://shop.example/p/AB4483902",
            image_url="https://shop.example/i/AB4483902.jpg",
            autoship_eligible=True,
            in_stock=True,
            discontinued=None,
            groups=(("sku_swap", "Kibble"),),
            extra_data={"variant_name": "Size X"},
            replacement=None,
            replacement_silent=False,
            every=4,
            every_period=2,
            product_type=None,
        ),
        FeedProduct(
            line=8,
            product_id="OLD1",
            sku="OLD1",
            name="Old Kibble",
            price_minor=900,
            details_url="https://shop.example/p/OLD1",
            image_url="https://shop.example/i/OLD1.jpg",
            autoship_eligible=False,
            in_stock=False,
            discontinued=True,
            groups=(),
            extra_data={},
            replacement="AB4483902",
            replacement_silent=False,
            every=None,
            every_period=None,
            product_type=None,
        ),
    ]
    assert all(hash(item) for item in items)  # extra_data stays out of the hash


def test_path_str_and_stream_sources_give_the_same_products():
    expected = list(parse_feed(T3_FILE))
    assert list(parse_feed(str(T3_FILE))) == expected
    with T3_FILE.open("rb") as stream:
        assert list(parse_feed(stream)) == expected


def test_text_mode_stream_is_a_programming_error():
    with T3_FILE.open(encoding="utf-8") as stream, pytest.raises(TypeError):
        list(parse_feed(stream))


def test_file_name_must_be_the_merchant_products_file():
    check_file_name(f"{MERCHANT}.Products.xml", MERCHANT)
    wrong = (
        f"{MERCHANT}.products.xml",
        "other.Products.xml",
        f"incoming/{MERCHANT}.Products.xml",
        f"{MERCHANT}.Products.xml.tmp",
        "",
    )
    for name in wrong:
        with pytest.raises(FeedFileError, match="must be named"):
            check_file_name(name, MERCHANT)


# What a product may look like -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "attribute", "value"),
    [
        ({"price": "19.99"}, "price_minor", 1999),
        ({"price": "0.01"}, "price_minor", 1),
        ({"price": "99999999.99"}, "price_minor", 9_999_999_999),
        ({"price": "007.50"}, "price_minor", 750),
        ({"price": "  19.99\n"}, "price_minor", 1999),
        ({"name": "  Café &amp; Crème™  "}, "name", "Café & Crème™"),
        ({"name": "<![CDATA[ A & B <b>bold</b> ]]>"}, "name", "A & B <b>bold</b>"),
        ({"name": "x" * 1024}, "name", "x" * 1024),
        ({"product_id": "p" * 64}, "product_id", "p" * 64),
        ({"image_url": ""}, "image_url", None),
        ({"image_url": None}, "image_url", None),
        (
            {"image_url": "HTTPS://Shop.Example/i/1.jpg?v=2#x"},
            "image_url",
            "HTTPS://Shop.Example/i/1.jpg?v=2#x",
        ),
        (
            {"details_url": "http://shop.example:8080/p/1"},
            "details_url",
            "http://shop.example:8080/p/1",
        ),
        (
            {"details_url": "https://xn--caf-dma.example/p/%20x"},
            "details_url",
            "https://xn--caf-dma.example/p/%20x",
        ),
        ({"in_stock": "0"}, "in_stock", False),
        ({"autoship_eligible": "1"}, "autoship_eligible", True),
        ({"autoship_eligible": "0"}, "autoship_eligible", False),
        ({}, "autoship_eligible", None),
        ({"discontinued": "0"}, "discontinued", False),
        ({}, "discontinued", None),
        ({"every": "1", "every_period": "4"}, "every_period", 4),
        ({"every": "2147483647", "every_period": "1"}, "every", 2147483647),
        ({"product_type": "standard"}, "product_type", "standard"),
        ({"product_type": " Static  Price Bundle "}, "product_type", "static price bundle"),
        ({"product_type": "dynamic price bundle"}, "product_type", "dynamic price bundle"),
    ],
)
def test_valid_values_are_read(fields, attribute, value):
    item = one(**fields)
    assert isinstance(item, FeedProduct), item
    assert getattr(item, attribute) == value


def test_optional_elements_may_be_left_out():
    item = one(drop=("details_url", "image_url"))
    assert (item.details_url, item.image_url, item.groups, item.extra_data) == (None, None, (), {})
    assert (item.every, item.every_period, item.replacement, item.product_type) == (
        None,
        None,
        None,
        None,
    )


def test_discontinued_needs_no_autoship_element():
    item = one(in_stock="0", discontinued="1")
    assert (item.discontinued, item.autoship_eligible, item.in_stock) == (True, None, False)


def test_unknown_elements_are_ignored_anywhere():
    item = one(
        extra="<category>Dogs</category><x:foo xmlns:x='urn:x'>1</x:foo>"
        '<groups><group type="sku_swap">A</group><note>n</note></groups>',
        name="<![CDATA[Kibble]]><!-- a comment --><?pi ignored?>",
    )
    assert item.name == "Kibble"
    assert item.groups == (("sku_swap", "A"),)


def test_groups_are_kept_in_order_and_once():
    groups = (
        '<groups><group type="sku_swap">Kibble</group><group type=" INCENTIVE ">Spring</group>'
        '<group type="sku_swap"><![CDATA[Kibble]]></group></groups>'
    )
    assert one(extra=groups).groups == (("sku_swap", "Kibble"), ("incentive", "Spring"))


def test_extra_data_fields_are_read():
    extra = (
        '<extra_data><field key="variant_name">Size X</field><field key=" color ">Red</field>'
        "</extra_data>"
    )
    assert one(extra=extra).extra_data == {"variant_name": "Size X", "color": "Red"}


@pytest.mark.parametrize(
    ("name", "silent"),
    [("discontinued_replacement", False), ("discontinued_silent_replacement", True)],
)
def test_replacement_relationships(name, silent):
    relationships = (
        f"<relationships><relationship><name>{name}</name>"
        "<related><product_id> NEW1 </product_id></related></relationship></relationships>"
    )
    item = one(extra=relationships, autoship_eligible="0", in_stock="0", discontinued="1")
    assert (item.replacement, item.replacement_silent) == ("NEW1", silent)


# Per-product refusals ----------------------------------------------------------------------

LONG_URL = "https://shop.example/" + "a" * 380


@pytest.mark.parametrize(
    ("drop", "fields", "field", "reason"),
    [
        (("product_id",), {}, "product_id", "<product_id> is required but missing"),
        ((), {"product_id": ""}, "product_id", "<product_id> is required but empty"),
        ((), {"product_id": None}, "product_id", "<product_id> is required but empty"),
        ((), {"product_id": "p" * 65}, "product_id", "65 characters long; the limit is 64"),
        ((), {"product_id": "A&#10;B"}, "product_id", "must be on one line"),
        (("sku",), {}, "sku", "<sku> is required but missing"),
        ((), {"sku": "  "}, "sku", "<sku> is required but empty"),
        ((), {"sku": "s" * 65}, "sku", "the limit is 64"),
        (("name",), {}, "name", "<name> is required but missing"),
        ((), {"name": "<![CDATA[]]>"}, "name", "<name> is required but empty"),
        ((), {"name": "n" * 1025}, "name", "the limit is 1024"),
        ((), {"name": "<b>Bold</b>"}, "name", "must contain only text"),
        (("price",), {}, "price", "<price> is required but missing"),
        ((), {"price": None}, "price", "<price> is required but empty"),
        ((), {"price": "19.9"}, "price", "exactly two decimals"),
        ((), {"price": '"19.99"'}, "price", "must not be in quotes"),
        ((), {"price": "'19.99'"}, "price", "must not be in quotes"),
        ((), {"price": "19.999"}, "price", "exactly two decimals"),
        ((), {"price": "19.990000"}, "price", "exactly two decimals"),
        ((), {"price": "19"}, "price", "exactly two decimals"),
        ((), {"price": "-1.00"}, "price", "cannot be negative"),
        ((), {"price": "1e3"}, "price", "exactly two decimals"),
        ((), {"price": "19,99"}, "price", "exactly two decimals"),
        ((), {"price": "$19.99"}, "price", "exactly two decimals"),
        ((), {"price": "١٩.٩٩"}, "price", "exactly two decimals"),
        ((), {"price": "0.00"}, "price", "real price"),
        ((), {"price": "000.00"}, "price", "real price"),
        ((), {"price": "100000000.00"}, "price", "above the maximum"),
        ((), {"details_url": ""}, "details_url", "present but empty"),
        ((), {"details_url": None}, "details_url", "present but empty"),
        ((), {"details_url": "/p/1"}, "details_url", "starting with http:// or https://"),
        ((), {"details_url": "ftp://shop.example/p/1"}, "details_url", "http:// or https://"),
        ((), {"details_url": "javascript:alert(1)"}, "details_url", "http:// or https://"),
        ((), {"details_url": "https://"}, "details_url", "domain name"),
        ((), {"details_url": "https://shop.example/my product"}, "details_url", "spaces"),
        ((), {"details_url": "https://user:pw@shop.example/p"}, "details_url", "user name"),
        ((), {"details_url": "https://shop.example:99999/p"}, "details_url", "not a valid"),
        ((), {"details_url": LONG_URL}, "details_url", "the limit is 400"),
        ((), {"image_url": "http://shop.example/i/1.jpg"}, "image_url", "starting with https://"),
        ((), {"image_url": LONG_URL}, "image_url", "the limit is 400"),
        (("in_stock",), {}, "in_stock", "<in_stock> is required but missing"),
        ((), {"in_stock": None}, "in_stock", "<in_stock> is required but empty"),
        ((), {"in_stock": ""}, "in_stock", "<in_stock> is required but empty"),
        ((), {"in_stock": "2"}, "in_stock", "must be 1 or 0"),
        ((), {"in_stock": '"1"'}, "in_stock", "must be 1 or 0"),
        ((), {"in_stock": "true"}, "in_stock", "must be 1 or 0"),
        ((), {"autoship_eligible": None}, "autoship_eligible", "present but empty"),
        ((), {"autoship_eligible": ""}, "autoship_eligible", "present but empty"),
        ((), {"autoship_eligible": "yes"}, "autoship_eligible", "must be 1 or 0"),
        ((), {"discontinued": None}, "discontinued", "present but empty"),
        ((), {"discontinued": "2"}, "discontinued", "must be 1 or 0"),
        (
            (),
            {"discontinued": "1", "autoship_eligible": "1", "in_stock": "0"},
            "discontinued",
            "this one is eligible",
        ),
        (
            (),
            {"discontinued": "1", "autoship_eligible": "0", "in_stock": "1"},
            "discontinued",
            "this one is in stock",
        ),
        ((), {"discontinued": "1"}, "discontinued", "<in_stock>0</in_stock>"),
        ((), {"every": "4"}, "every_period", "go together"),
        ((), {"every_period": "2"}, "every", "go together"),
        ((), {"every": "", "every_period": "2"}, "every", "present but empty"),
        ((), {"every": "4", "every_period": None}, "every_period", "present but empty"),
        ((), {"every": "0", "every_period": "2"}, "every", "whole number from 1"),
        ((), {"every": "-1", "every_period": "2"}, "every", "whole number from 1"),
        ((), {"every": "2.5", "every_period": "2"}, "every", "whole number from 1"),
        ((), {"every": "12345678901", "every_period": "2"}, "every", "whole number from 1"),
        ((), {"every": "2147483648", "every_period": "2"}, "every", "whole number from 1"),
        ((), {"every": "4", "every_period": "5"}, "every_period", "4 (years)"),
        ((), {"every": "4", "every_period": "0"}, "every_period", "4 (years)"),
        ((), {"every": "4", "every_period": "weeks"}, "every_period", "4 (years)"),
        ((), {"product_type": "bundle"}, "product_type", '"static price bundle"'),
        ((), {"product_type": ""}, "product_type", "present but empty"),
    ],
)
def test_product_rule_violations_refuse_the_product(drop, fields, field, reason):
    item = one(drop=drop, **fields)
    assert isinstance(item, ProductError), item
    assert (item.line, item.field) == (2, field)
    assert reason in item.reason
    assert item.reason.endswith(".")


@pytest.mark.parametrize(
    ("extra", "field", "reason"),
    [
        ("<groups/>", "groups", "has no <group> inside"),
        ("<groups></groups>", "groups", "has no <group> inside"),
        ("<groups><group>Kibble</group></groups>", "groups/group", "it has none"),
        ('<groups><group type="">Kibble</group></groups>', "groups/group", "it has none"),
        ('<groups><group type="swap">Kibble</group></groups>', "groups/group", 'found "swap"'),
        ('<groups><group type="eligibility">x</group></groups>', "groups/group", "sku_swap"),
        ('<groups><group type="sku_swap"/></groups>', "groups/group", "has no name"),
        ('<groups><group type="sku_swap"> </group></groups>', "groups/group", "has no name"),
        (
            f'<groups><group type="incentive">{"g" * 65}</group></groups>',
            "groups/group",
            "the limit is 64",
        ),
        ("<extra_data/>", "extra_data", "has no <field> inside"),
        ("<extra_data><field>Size X</field></extra_data>", "extra_data/field", "needs a key"),
        (
            '<extra_data><field key=" ">Size X</field></extra_data>',
            "extra_data/field",
            "needs a key",
        ),
        (
            '<extra_data><field key="a">1</field><field key="a">2</field></extra_data>',
            "extra_data/field",
            "appears twice",
        ),
        ('<extra_data><field key="a"></field></extra_data>', "extra_data/field", "is empty"),
        ('<extra_data><field key="a"/></extra_data>', "extra_data/field", "is empty"),
        (
            f'<extra_data><field key="a">{"v" * 1025}</field></extra_data>',
            "extra_data/field",
            "the limit is 1024",
        ),
        (
            f'<extra_data><field key="{"k" * 65}">v</field></extra_data>',
            "extra_data/field",
            "longer than 64",
        ),
        ("<relationships/>", "relationships", "has no <relationship> inside"),
        (
            "<relationships><relationship><name>replacement</name><related><product_id>N"
            "</product_id></related></relationship></relationships>",
            "relationships/relationship/name",
            "discontinued_silent_replacement",
        ),
        (
            "<relationships><relationship><related><product_id>N</product_id></related>"
            "</relationship></relationships>",
            "relationships/relationship/name",
            "missing",
        ),
        (
            "<relationships><relationship><name>discontinued_replacement</name></relationship>"
            "</relationships>",
            "relationships/relationship/related",
            "needs <related>",
        ),
        (
            "<relationships><relationship><name>discontinued_replacement</name><related/>"
            "</relationship></relationships>",
            "relationships/relationship/related/product_id",
            "missing",
        ),
        (
            "<relationships><relationship><name>discontinued_replacement</name><related>"
            "<product_id/></related></relationship></relationships>",
            "relationships/relationship/related/product_id",
            "empty",
        ),
        (
            "<relationships><relationship><name>discontinued_replacement</name><related>"
            f"<product_id>{'r' * 65}</product_id></related></relationship></relationships>",
            "relationships/relationship/related/product_id",
            "the limit is 64",
        ),
        (
            "<relationships><relationship><name>discontinued_replacement</name><related>"
            "<product_id>P1</product_id></related></relationship></relationships>",
            "relationships/relationship/related/product_id",
            "its own replacement",
        ),
        (
            "<relationships>" + "<relationship><name>discontinued_replacement</name><related>"
            "<product_id>N</product_id></related></relationship>" * 2 + "</relationships>",
            "relationships/relationship",
            "Only one",
        ),
        ("<price>20.00</price>", "price", "<price> is given twice"),
        ("<groups><group type='sku_swap'>A</group></groups>" * 2, "groups", "given twice"),
        ("<name>Other</name>", "name", "given twice"),
    ],
)
def test_nested_rule_violations_refuse_the_product(extra, field, reason):
    item = one(extra=extra)
    assert isinstance(item, ProductError), item
    assert (item.line, item.product_id, item.field) == (2, "P1", field)
    assert reason in item.reason


def test_refused_product_does_not_stop_the_rest_of_the_file():
    xml = "<products>\n{}\n{}\n{}\n</products>".format(
        product_xml(product_id="A"),
        product_xml(product_id="B", price="19.9"),
        product_xml(product_id="C"),
    )
    items = parse_text(xml)
    assert [type(item).__name__ for item in items] == ["FeedProduct", "ProductError", "FeedProduct"]
    assert [item.line for item in items] == [2, 3, 4]
    assert items[1].product_id == "B"


def test_repeated_product_id_refuses_the_later_product_naming_the_first_line():
    xml = "<products>\n{}\n{}\n{}\n</products>".format(
        product_xml(product_id="A"),
        product_xml(product_id="B"),
        product_xml(product_id=" A ", name="Again"),
    )
    first, _, again = parse_text(xml)
    assert isinstance(first, FeedProduct)
    assert isinstance(again, ProductError)
    assert (again.line, again.product_id, again.field) == (4, "A", "product_id")
    assert "already appears at line 2" in again.reason


def test_repeated_product_id_counts_even_when_the_first_was_refused():
    xml = "<products>\n{}\n{}\n</products>".format(product_xml(price="0.00"), product_xml())
    first, second = parse_text(xml)
    assert first.field == "price"
    assert "already appears at line 2" in second.reason


def test_error_reports_the_product_id_as_written_or_none():
    assert one(product_id="x" * 70).product_id == "x" * 64 + "…"
    assert one(drop=("product_id",)).product_id is None


def test_nested_products_are_not_records():
    xml = (
        f"<products>\n<product>{product_xml()[9:-10]}<bundle>{product_xml(product_id='IN')}"
        "</bundle></product>\n</products>"
    )
    assert [item.product_id for item in parse_text(xml)] == ["P1"]


# Whole-file refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("internal_entity.xml", "DOCTYPE"),
        ("billion_laughs.xml", "DOCTYPE"),
        ("external_entity.xml", "DOCTYPE"),
        ("external_dtd.xml", "DOCTYPE"),
        ("parameter_entity.xml", "DOCTYPE"),
        ("xinclude.xml", "XInclude"),
        ("wrong_root.xml", "root element must be <products>"),
    ],
)
def test_hostile_or_foreign_files_are_refused_before_any_product(fixture, reason):
    items = []
    with pytest.raises(FeedFileError) as refused:
        for item in parse_feed(FEEDS / fixture):
            items.append(item)
    assert reason in refused.value.reason
    assert items == []
    assert "root:" not in str(refused.value)  # nothing from /etc/passwd leaks into the message


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        ("<!DOCTYPE products><products/>", "DOCTYPE"),
        ('<!DOCTYPE products PUBLIC "-//X//EN" "x.dtd"><products/>', "DOCTYPE"),
        ("<products xmlns='urn:shop'><product/></products>", "without a namespace"),
        ("<x:products xmlns:x='urn:shop'/>", "without a namespace"),
        ("<catalog><item/></catalog>", "not <catalog>"),
        ("<products><product>&ghost;</product></products>", "Entity 'ghost' not defined"),
        ("<products xmlns:xi='http://www.w3.org/2001/XInclude'/>", "XInclude"),
        ("<products/><products/>", "not well-formed"),
        ("<products><product></products>", "not well-formed"),
        ("garbage", "not well-formed"),
    ],
)
def test_malformed_or_unsafe_documents_are_refused(xml, reason):
    with pytest.raises(FeedFileError) as refused:
        parse_text(xml)
    assert reason in refused.value.reason


def test_unescaped_ampersand_refuses_the_file_with_line_and_advice():
    items = []
    with pytest.raises(FeedFileError) as refused:
        for item in parse_feed(FEEDS / "unescaped_ampersand.xml"):
            items.append(item)
    assert refused.value.line == 3
    assert "not well-formed" in refused.value.reason
    assert "&amp;" in refused.value.reason
    assert str(refused.value).endswith("(line 3)")
    assert [item.product_id for item in items] == ["OK1"]  # the caller rolls these back


def test_truncated_file_is_refused_after_the_products_it_held():
    stream = parse_feed(FEEDS / "truncated.xml")
    assert next(stream).product_id == "T1"
    with pytest.raises(FeedFileError, match="not well-formed"):
        next(stream)


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n  "])
def test_empty_or_blank_file_is_refused(tmp_path, content):
    path = tmp_path / f"{MERCHANT}.Products.xml"
    path.write_bytes(content)
    with pytest.raises(FeedFileError) as refused:
        list(parse_feed(path))
    assert refused.value.reason == "The file is empty."
    with pytest.raises(FeedFileError, match="empty"):
        list(parse_feed(io.BytesIO(content)))


def test_file_over_max_bytes_is_refused_before_reading():
    size = T3_FILE.stat().st_size
    assert len(list(parse_feed(T3_FILE, max_bytes=size))) == 2
    with pytest.raises(FeedFileError, match="larger than the limit of 1,000 bytes"):
        next(parse_feed(T3_FILE, max_bytes=1000))


def test_stream_over_max_bytes_is_refused_while_reading(tmp_path):
    path = write_feed(tmp_path / "big.xml", 200)
    limit = path.stat().st_size - 1
    with path.open("rb") as stream, pytest.raises(FeedFileError, match="larger than the limit"):
        list(parse_feed(stream, max_bytes=limit))


class CountingStream(io.BytesIO):
    """A binary stream that remembers how much was read from it."""

    consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


@pytest.mark.parametrize("root", ["<catalog>", "<products xmlns='urn:shop'>"])
def test_foreign_root_without_products_is_refused_early(root):
    tag = root[1:].split(">")[0].split(" ")[0]
    body = f"{root}{'<item>x</item>' * 400_000}</{tag}>".encode()
    stream = CountingStream(body)
    with pytest.raises(FeedFileError, match="does not start with a <products> element"):
        list(parse_feed(stream))
    assert stream.consumed < 2 * parser.PROLOG_BYTES < len(body)


def test_utf16_file_with_bom_is_read():
    (item,) = parse_feed(FEEDS / "utf16_bom.xml")
    assert (item.product_id, item.name, item.price_minor) == ("U16", "Café Crème™", 310)


@pytest.mark.parametrize(
    ("fixture", "product_id"), [("cartridge_sfcc.xml", "SFCC-1"), ("cartridge_magento.xml", "1042")]
)
def test_official_cartridge_output_with_empty_image_url_is_accepted(fixture, product_id):
    (item,) = parse_feed(FEEDS / fixture)
    assert isinstance(item, FeedProduct), item
    assert (item.product_id, item.image_url) == (product_id, None)


# The hardened parser itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture",
    [
        "internal_entity.xml",
        "billion_laughs.xml",
        "external_entity.xml",
        "external_dtd.xml",
        "parameter_entity.xml",
        "xinclude.xml",
    ],
)
def test_whole_document_parser_refuses_hostile_documents(fixture):
    # libxml2 itself stops billion laughs (amplification limit) before our DOCTYPE check.
    with pytest.raises((parser.UnsafeXMLError, etree.XMLSyntaxError)):
        parser.fromstring((FEEDS / fixture).read_bytes())


def test_whole_document_parser_options_never_expand_or_fetch():
    root = etree.fromstring((FEEDS / "external_entity.xml").read_bytes(), parser.make_parser())
    name = root.find("product/name")
    assert name.text is None
    assert [child.tag for child in name] == [etree.Entity]  # left as a reference, not expanded


def test_xinclude_is_never_processed_by_the_parser():
    root = etree.fromstring((FEEDS / "xinclude.xml").read_bytes(), parser.make_parser())
    include = root.find(f"product/{{{parser.XINCLUDE_NS}}}include")
    assert include is not None and len(include) == 0  # still the raw element, nothing pulled in


def test_entity_nodes_refuse_the_document_wherever_they_appear():
    product = etree.Element("product")
    etree.SubElement(product, "name").append(etree.Entity("ghost"))
    with pytest.raises(parser.UnsafeXMLError):
        parser.fields(product, {"name"})
    product.append(etree.Entity("ghost"))
    with pytest.raises(parser.UnsafeXMLError):
        parser.select(product, "group")


def test_whole_document_parser_reads_a_plain_document():
    root = parser.fromstring(b"<order><code><![CDATA[SUCCESS]]></code><!-- c --></order>")
    assert parser.fields(root, {"code"}) == ({"code": "SUCCESS"}, {})


# Memory stays flat ----------------------------------------------------------------------------


def _rss_bytes() -> int:
    """Return this process's resident set size now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_growth(path: Path) -> tuple[int, int]:
    """Parse ``path`` keeping nothing; return (products, peak RSS growth in bytes)."""
    gc.collect()
    base = peak = _rss_bytes()
    count = 0
    for count, _ in enumerate(parse_feed(path), start=1):
        if count % 500 == 0:
            peak = max(peak, _rss_bytes())
    return count, max(peak, _rss_bytes()) - base


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_memory_stays_flat_as_the_file_grows(tmp_path):
    small = write_feed(tmp_path / "small.xml", 5_000)
    large = write_feed(tmp_path / "large.xml", 25_000)
    _peak_growth(small)  # warm the allocator so both runs start alike
    assert _peak_growth(small)[0] == 5_000
    small_count, small_growth = _peak_growth(small)
    large_count, large_growth = _peak_growth(large)
    assert (small_count, large_count) == (5_000, 25_000)
    # Keeping 20,000 extra products would cost ~60 MB of tree; only their ids are remembered.
    assert large_growth - small_growth < 8 * 1024 * 1024, (small_growth, large_growth)
