"""Money as integer minor units of a currency, written the ways shoppers, APIs and forms read it.

Minor units per ISO 4217: two decimals unless listed (JPY and KRW have none; BHD, KWD and
others have three), so ``1234`` JPY is ¥1,234 and ``1234`` KWD is 1.234.
"""

from __future__ import annotations

from decimal import Decimal

ZERO_DECIMAL = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def digits(currency: str) -> int:
    """How many decimals the currency's minor unit has."""
    if currency in ZERO_DECIMAL:
        return 0
    return 3 if currency in THREE_DECIMAL else 2


def decimal_string(minor: int, currency: str) -> str:
    """For APIs, XML and forms: 1299 USD -> "12.99", 1234 JPY -> "1234", -5 USD -> "-0.05"."""
    places = digits(currency)
    units, rest = divmod(abs(minor), 10**places)
    sign = "-" if minor < 0 else ""
    return f"{sign}{units}.{rest:0{places}d}" if places else f"{sign}{units}"


def display(minor: int, currency: str) -> str:
    """For shoppers: 500 USD -> "$5.00", 1234 JPY -> "¥1,234", 990 SEK -> "9.90 SEK"."""
    places = digits(currency)
    units, rest = divmod(abs(minor), 10**places)
    number = f"{units:,}" + (f".{rest:0{places}d}" if places else "")
    sign = "-" if minor < 0 else ""
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"


def to_minor(amount: Decimal, currency: str) -> int:
    """A major-unit amount (Decimal("12.99")) in minor units; ValueError if it has more
    decimals than the currency."""
    places = digits(currency)
    if amount.as_tuple().exponent < -places:
        raise ValueError(f"At most {places} decimal places.")
    return int(amount.scaleb(places))
