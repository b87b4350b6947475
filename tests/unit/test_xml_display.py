"""XML laid out for the console: line breaks and indentation only, CDATA and text untouched."""

import re

from app.integrations.xml import display
from app.integrations.xml import order as order_xml
from tests.unit.test_order_xml import t6_document


def test_indent_puts_one_element_a_line_and_keeps_leaves_whole():
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<order><head><a>1</a>'
        "<b><![CDATA[x<y>z]]></b><c/></head><items><item><n>2</n></item></items></order>"
    )
    assert display.indent(text) == "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            "<order>",
            "  <head>",
            "    <a>1</a>",
            "    <b><![CDATA[x<y>z]]></b>",
            "    <c/>",
            "  </head>",
            "  <items>",
            "    <item>",
            "      <n>2</n>",
            "    </item>",
            "  </items>",
            "</order>",
        ]
    )


def test_only_layout_is_added_to_a_real_order_document():
    sent = order_xml.build_order(t6_document()).decode("utf-8")
    laid_out = display.indent(sent)
    assert laid_out.count("\n") > 40
    assert re.sub(r">\s+<", "><", laid_out) == re.sub(r">\s+<", "><", sent)


def test_text_that_is_not_xml_comes_back_readable():
    assert display.indent("") == "" and display.indent(None) == ""
    assert display.indent("Not XML at all") == "Not XML at all"
    assert display.indent("<html><body>oops</body>") == "<html>\n  <body>oops</body>"
