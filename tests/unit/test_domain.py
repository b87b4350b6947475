"""The shared values: frequencies (parsing, labels, calendar dates) and money (minor units)."""

from datetime import date
from decimal import Decimal

import pytest

from app.domain import frequency, money
from app.domain.frequency import Frequency


@pytest.mark.parametrize(
    "value", ["4_2", {"every": 4, "every_period": 2}, (4, 2), Frequency(4, 2), " 4_2 "]
)
def test_frequency_parses_every_written_form(value):
    assert Frequency.parse(value) == Frequency(4, 2)


@pytest.mark.parametrize(
    "value",
    [
        "0_2",
        "4_5",
        "1000_1",
        "4-2",
        "²_2",
        "",
        None,
        42,
        {"every": True, "every_period": 2},
        {"every": 4},
        (4,),
    ],
)
def test_frequency_refuses_what_is_not_one(value):
    with pytest.raises(ValueError):
        Frequency.parse(value)


def test_frequency_labels_and_days():
    assert Frequency(4, 2).label == "every 4 weeks" and Frequency(4, 2).span == "4 weeks"
    assert Frequency(1, 3).label == "every month" and Frequency(1, 3).code == "1_3"
    assert [Frequency(2, p).days for p in (1, 2, 3, 4)] == [2, 14, 60, 730]
    assert frequency.label(2, 9) == "every 2 ?s"  # a row no Frequency can hold still shows
    assert Frequency.of(None, 2) is None and Frequency.of(4, 2) == Frequency(4, 2)


@pytest.mark.parametrize(
    "start, freq, expected",
    [
        (date(2026, 1, 31), (1, 3), date(2026, 2, 28)),
        (date(2028, 1, 31), (1, 3), date(2028, 2, 29)),  # leap year
        (date(2026, 3, 31), (1, 3), date(2026, 4, 30)),
        (date(2026, 12, 15), (1, 3), date(2027, 1, 15)),
        (date(2026, 11, 30), (3, 3), date(2027, 2, 28)),
        (date(2028, 2, 29), (1, 4), date(2029, 2, 28)),
        (date(2026, 1, 1), (4, 2), date(2026, 1, 29)),
        (date(2026, 12, 30), (3, 1), date(2027, 1, 2)),
    ],
)
def test_next_date_is_calendar_and_end_of_month_safe(start, freq, expected):
    assert Frequency(*freq).next_date(start) == expected


@pytest.mark.parametrize(
    "minor, currency, text, shown",
    [
        (1299, "USD", "12.99", "$12.99"),
        (-5, "USD", "-0.05", "-$0.05"),
        (123456, "USD", "1234.56", "$1,234.56"),
        (1234, "JPY", "1234", "¥1,234"),
        (1234, "KWD", "1.234", "1.234 KWD"),
        (990, "SEK", "9.90", "9.90 SEK"),
        (0, "EUR", "0.00", "€0.00"),
    ],
)
def test_money_written_for_apis_and_for_shoppers(minor, currency, text, shown):
    assert money.decimal_string(minor, currency) == text
    assert money.display(minor, currency) == shown


def test_major_amounts_to_minor_units():
    assert money.to_minor(Decimal("12.99"), "USD") == 1299
    assert money.to_minor(Decimal("1234"), "JPY") == 1234
    assert money.to_minor(Decimal("1.5"), "KWD") == 1500
    with pytest.raises(ValueError):
        money.to_minor(Decimal("1.5"), "JPY")
