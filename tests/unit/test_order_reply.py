"""Reading a store's reply to an order (contracts §6.4-§6.6, tests T7 and T8)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.integrations.xml.order_reply import (
    MAX_MESSAGE,
    MAX_REPLY_BYTES,
    BatchFileError,
    BatchReply,
    Reply,
    parse_batch_response,
    parse_reply,
)

DECL = '<?xml version="1.0" encoding="UTF-8"?>'
# SFCC's SuccessXML.isml / ErrorXML.isml as served: text/html, CRLF line ends, indented.
SFCC_SUCCESS = (
    DECL + "\r\n<order>\r\n    <code>SUCCESS</code>\r\n    <orderId>00001224</orderId>"
    "\r\n    <errorMsg />\r\n</order>\r\n"
).encode()
SFCC_ERROR = (
    DECL + "\r\n<order>\r\n    <code>ERROR</code>\r\n    <errorCode>140</errorCode>\r\n"
    "    <errorMsg>Authorization declined.</errorMsg>\r\n</order>"
).encode()
MAGENTO_ERROR = (
    b'<?xml version="1.0"?>\n<order><code>ERROR</code><errorCode>999</errorCode>'
    b"<errorMsg>Product is out of stock</errorMsg></order>\n"
)
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE order [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<order><code>ERROR</code><errorCode>999</errorCode><errorMsg>&d;</errorMsg></order>"""
EXTERNAL = (
    b'<?xml version="1.0"?><!DOCTYPE order [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<order><code>SUCCESS</code><orderId>&x;</orderId></order>"
)


def body(*fields: str) -> bytes:
    return ("<order>" + "".join(fields) + "</order>").encode()


@pytest.mark.parametrize(
    "data, content_type, expected",
    [
        (
            body("<code>SUCCESS</code><orderId>1224</orderId>"),
            None,
            Reply("success", order_id="1224"),
        ),
        (SFCC_SUCCESS, "text/html;charset=UTF-8", Reply("success", order_id="00001224")),
        (
            SFCC_ERROR,
            "text/html",
            Reply("error", error_code="140", error_msg="Authorization declined."),
        ),
        (
            MAGENTO_ERROR,
            "text/xml",
            Reply("error", error_code="999", error_msg="Product is out of stock"),
        ),
        (
            b"\xef\xbb\xbf \r\n"
            + DECL.encode()
            + body("<code>SUCCESS</code><orderId>7</orderId>")
            + b"\r\n\r\n",
            "application/xml",
            Reply("success", order_id="7"),
        ),
        (
            body("<code>SUCCESS</code><responseCode>010</responseCode><orderId>1224</orderId>"),
            None,
            Reply("pending_verification", order_id="1224", response_code="010"),
        ),
        (
            body("<code>SUCCESS</code><responseCode>000</responseCode><orderId>1</orderId>"),
            None,
            Reply("success", order_id="1", response_code="000"),
        ),
        (
            body("<code>ERROR</code><errorCode>160</errorCode><errorMsg/>"),
            None,
            Reply("error", error_code="160"),
        ),
        (
            body("<code>ERROR</code><errorCode>020</errorCode><errorMsg>x</errorMsg>"),
            None,
            Reply("error", error_code="020", error_msg="x"),
        ),  # leading zero kept
        (
            body("<code> success </code><orderId><![CDATA[A-1]]></orderId>"),
            None,
            Reply("success", order_id="A-1"),
        ),
        (body("<code>SUCCESS</code>"), None, Reply("success")),  # placed, id not given
        (
            body(
                "<code>ERROR</code><errorCode>403</errorCode><errorMsg>Signature could\r\n  not be"
                " verified.</errorMsg><extra>ignored</extra>"
            ),
            None,
            Reply("error", error_code="403", error_msg="Signature could not be verified."),
        ),
        (
            body(
                "<code>ERROR</code><errorCode>110</errorCode><errorMsg>Carte refus\xe9e</errorMsg>"
            )
            .decode()
            .encode("latin-1"),
            "text/xml; charset=ISO-8859-1",
            Reply("error", error_code="110", error_msg="Carte refusée"),
        ),
    ],
)
def test_t7_replies_are_read_by_content(data, content_type, expected):
    assert parse_reply(data, content_type=content_type) == expected


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"", "empty"),
        (b" \r\n\t ", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"OK", "not well-formed"),
        (b'{"code": "SUCCESS"}', "not well-formed"),
        (b"<html><body><h1>500 Internal Server Error</h1></body></html>", "root element is <html>"),
        (b"<!DOCTYPE html><html><head><title>Error</title></head><body>x</body></html>", "DOCTYPE"),
        (b"<html><body>Bad gateway<br></body></html>", "not well-formed"),
        (DECL.encode() + b"<order><code>SUCCESS</code><orderId>12", "not well-formed"),
        (body("<code>MAYBE</code>"), '"MAYBE", not SUCCESS or ERROR'),
        (body("<orderId>1224</orderId>"), "No <code>"),
        (body("<code></code>"), "No <code>"),
        (body("<code>ERROR</code><errorMsg>no code</errorMsg>"), "needs an <errorCode> (none)"),
        (body("<code>ERROR</code><errorCode>E140</errorCode>"), "not a number"),
        (body("<code>SUCCESS</code><responseCode>030</responseCode>"), 'responseCode "030"'),
        (body("<code>SUCCESS</code><code>ERROR</code>"), "<code> is given twice"),
        (body("<code><b>SUCCESS</b></code>"), "must contain only text"),
        (body("<code>SUCCESS</code><orderId>" + "9" * 201 + "</orderId>"), "longer than 200"),
        (b'<r:order xmlns:r="urn:x"><code>SUCCESS</code></r:order>', "{urn:x}order"),
        (b"<orders><order><code>SUCCESS</code></order></orders>", "root element is <orders>"),
        (BILLION_LAUGHS, "DOCTYPE"),
        (EXTERNAL, "DOCTYPE"),
        (body("<code>SUCCESS</code><orderId>&amp;x;&lol;</orderId>"), "not well-formed"),
        (
            b'<order xmlns:xi="http://www.w3.org/2001/XInclude"><code>SUCCESS</code>'
            b'<orderId><xi:include href="/etc/hostname" parse="text"/></orderId></order>',
            "XInclude",
        ),
        (
            body("<code>ERROR</code><errorCode>110</errorCode><errorMsg>\xe9</errorMsg>")
            .decode()
            .encode("latin-1"),
            "not well-formed",
        ),  # and no charset to fall back on
        (b'<?xml version="1.0" encoding="EBCDIC-XYZ"?><order/>', "not well-formed"),
    ],
)
def test_unreadable_replies_say_why(data, problem):
    reply = parse_reply(data)
    assert reply.kind == "unreadable"
    assert problem in reply.problem


def test_a_declared_encoding_wins_over_the_content_type_charset():
    data = b'<?xml version="1.0" encoding="UTF-8"?><order><code>ERROR</code><errorMsg>\xe9'
    reply = parse_reply(data + b"</errorMsg></order>", content_type="text/xml; charset=latin-1")
    assert reply.kind == "unreadable" and "not well-formed" in reply.problem


def test_a_charset_that_decodes_to_lone_surrogates_is_unreadable_not_an_exception():
    reply = parse_reply(b"<order>+2AA-</order", content_type="text/xml; charset=utf-7")
    assert reply.kind == "unreadable"


def test_reply_size_and_message_are_bounded():
    padding = b" " * MAX_REPLY_BYTES
    assert "larger than" in parse_reply(body("<code>SUCCESS</code>") + padding).problem
    long = "word " * 1000
    reply = parse_reply(
        body(f"<code>ERROR</code><errorCode>999</errorCode><errorMsg>{long}</errorMsg>")
    )
    assert reply.kind == "error" and len(reply.error_msg) == MAX_MESSAGE
    assert reply.error_msg.endswith("…")


def test_t8_batch_response():
    data = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<orders>\n'
        b"<order><ogOrderId>119994</ogOrderId><code>SUCCESS</code><orderId>1224</orderId>"
        b"</order></orders>"
    )
    assert parse_batch_response(data) == [BatchReply(3, 119994, Reply("success", order_id="1224"))]


def test_a_bad_batch_record_does_not_lose_the_others():
    records = [
        "<order><ogOrderId>1</ogOrderId><code>SUCCESS</code><orderId>A1</orderId></order>",
        "<order><ogOrderId>2</ogOrderId><code>ERROR</code><errorCode>110</errorCode>"
        "<errorMsg>The credit card number provided is not valid.</errorMsg></order>",
        "<order><ogOrderId>3</ogOrderId><code>PERHAPS</code></order>",
        "<order><code>SUCCESS</code><orderId>A4</orderId></order>",
        "<order><ogOrderId>x5</ogOrderId><code>SUCCESS</code></order>",
        "<order><ogOrderId>1</ogOrderId><code>ERROR</code><errorCode>999</errorCode></order>",
        "<order><ogOrderId>6</ogOrderId><ogOrderId>7</ogOrderId><code>SUCCESS</code></order>",
        "<order><ogOrderId> 8 </ogOrderId><code>SUCCESS</code><responseCode>010</responseCode>"
        "</order>",
    ]
    data = ("<orders>\n" + "\n".join(records) + "\n</orders>").encode()
    replies = parse_batch_response(data)
    assert [(r.line, r.og_order_id, r.reply.kind) for r in replies] == [
        (2, 1, "success"),
        (3, 2, "error"),
        (4, 3, "unreadable"),
        (5, None, "unreadable"),
        (6, None, "unreadable"),
        (7, None, "unreadable"),
        (8, None, "unreadable"),
        (9, 8, "pending_verification"),
    ]
    assert replies[1].reply.error_code == "110"
    assert "already answered at line 2" in replies[5].reply.problem  # the first answer stands
    assert "given twice" in replies[6].reply.problem


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"not xml", "not well-formed"),
        (b"<order><ogOrderId>1</ogOrderId><code>SUCCESS</code></order>", "root element must be"),
        (
            b"<orders><order><ogOrderId>1</ogOrderId><code>SUCCESS</code></order><order><ogOr",
            "not well-formed",
        ),
        (
            BILLION_LAUGHS.replace(b"<order>", b"<orders><order>").replace(
                b"</order>", b"</order></orders>"
            ),
            "DOCTYPE",
        ),
        (b"<orders><order><ogOrderId>1</ogOrderId><code>&x;</code></order></orders>", "not well"),
    ],
)
def test_an_unreadable_batch_file_is_refused_whole(data, reason):
    with pytest.raises(BatchFileError) as refused:
        parse_batch_response(data)
    assert reason in refused.value.reason


def test_batch_file_size_is_bounded():
    data = b"<orders>" + b"<order><ogOrderId>1</ogOrderId></order>" * 100 + b"</orders>"
    with pytest.raises(BatchFileError, match="larger than"):
        parse_batch_response(data, max_bytes=1000)


XML_BITS = st.sampled_from(
    [
        "<order>",
        "</order>",
        "<code>",
        "</code>",
        "SUCCESS",
        "ERROR",
        "<errorCode>",
        "140",
        "</errorCode>",
        "<orderId>",
        "</orderId>",
        "<responseCode>010</responseCode>",
        "<errorMsg />",
        DECL,
        '<?xml version="1.0" encoding="latin-1"?>',
        "<!DOCTYPE order>",
        "<![CDATA[",
        "]]>",
        "&amp;",
        "&x;",
        "&#0;",
        "\r\n",
        "\ufeff",
        "<!--",
        "-->",
        "<?pi x?>",
        '<o xmlns="urn:x">',
        "<orders>",
        "<ogOrderId>1</ogOrderId>",
    ]
)
ANY_BODY = st.one_of(
    st.binary(max_size=300),
    st.lists(st.one_of(XML_BITS, st.text(max_size=5)), max_size=25).map(
        lambda parts: "".join(parts).encode("utf-8", "surrogatepass")
    ),
)


@given(
    data=ANY_BODY,
    content_type=st.one_of(
        st.none(),
        st.sampled_from(
            [
                "text/html",
                "text/xml; charset=latin-1",
                "x; charset=utf-16",
                "a; charset=undefined",
                "a; charset=zlib",
                "; charset=",
                "text/xml; charset=utf-7",
            ]
        ),
    ),
)
def test_parse_reply_never_raises(data, content_type):
    reply = parse_reply(data, content_type=content_type)
    assert reply.kind in ("success", "pending_verification", "error", "unreadable")
    assert (reply.problem is not None) == (reply.kind == "unreadable")


@given(data=ANY_BODY)
def test_parse_batch_response_raises_nothing_but_batch_file_error(data):
    try:
        replies = parse_batch_response(data)
    except BatchFileError:
        return
    assert all(r.og_order_id is not None or r.reply.kind == "unreadable" for r in replies)
