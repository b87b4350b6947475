"""The purchase POST's wire format, pure: the body in both encodings, card numbers, fields."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.integrations import purchase_wire as pw

BODY = {"merchant_id": "m1", "user": {"user_id": "U1", "email": "a+b@example.com"}}


def test_the_whole_json_url_encoded_or_each_value_encoded_read_the_same():
    whole = ("create_request=" + quote_plus(json.dumps(BODY))).encode()
    each = {"merchant_id": "m1", "user": {"user_id": "U1", "email": quote("a+b@example.com")}}
    per_value = ("create_request=" + json.dumps(each)).encode()
    assert pw.parse_body(whole) == pw.parse_body(per_value) == BODY


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"\xff", "The request body is not UTF-8 text."),
        (b"order=1", "Send the order as create_request=<JSON>."),
        (b"create_request=[1]", "create_request is not a JSON object."),
    ],
)
def test_an_unusable_body_says_why(raw, message):
    with pytest.raises(pw.Unusable, match=message.replace(".", r"\.").replace("(", r"\(")):
        pw.parse_body(raw)


@pytest.mark.parametrize("pan", ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004"])
def test_card_numbers_are_refused_anywhere(pan):
    assert pw.looks_like_pan(pan)
    with pytest.raises(pw.Unusable, match="card number"):
        pw.refuse_card_numbers({"user": {"extra_data": {"note": [f"card {pan} ok"]}}})


def test_digits_inside_a_word_are_not_a_card_number():
    assert not pw.looks_like_pan("d83542758135348a")  # a hex public id with a Luhn-valid run
    assert not pw.looks_like_pan("4111111111111112")  # Luhn fails


@given(st.integers(min_value=0, max_value=10**12))
def test_short_numbers_are_never_card_numbers(n):
    assert not pw.looks_like_pan(str(n))


def test_field_readers_say_what_is_wrong_in_the_contracts_words():
    assert pw.text({"user_id": 42}, "user_id", "User id") == "42"
    with pytest.raises(pw.Unusable, match="User id cannot be null"):
        pw.text({"user_id": " "}, "user_id", "User id", required=True)
    with pytest.raises(pw.Unusable, match="processed must be true or false"):
        pw.flag({"processed": "maybe"}, "processed", True)
    assert pw.flag({"processed": "0"}, "processed", True) is False
    with pytest.raises(ValueError, match="every must be a whole number from 1 to 999"):
        pw.line_int("x", "every", 1, 999)  # one line fails, not the request
    assert not issubclass(pw.Unusable, ValueError)
