"""A pretend payment gateway that only knows test tokens: the store never sees a card number."""

from __future__ import annotations

from dataclasses import dataclass


class PaymentDeclined(Exception):
    """The gateway refused the charge; the message is shown to the shopper.

    ``code`` is the errorCode the order endpoint answers with (contracts §6.5).
    """

    def __init__(self, message: str, code: str = "140") -> None:
        super().__init__(message)
        self.code = code


# errorCode -> the gateway's message, for renewals charged at the order endpoint
RENEWAL_DECLINES = {
    "140": "Your card was declined.",
    "160": "Your card was declined: do not retry (reported lost).",
    "110": "The credit card number provided is not valid.",
}


@dataclass(frozen=True)
class Card:
    token: str
    label: str
    cc_type: str  # Ordergroove's codes: "1" Visa, "2" Mastercard, "3" Amex
    exp_date: str  # MM/YYYY
    declines_checkout: bool = False
    renewal_decline: str | None = None  # errorCode for recurring orders, to exercise dunning


TEST_CARDS: tuple[Card, ...] = (
    Card("tok_visa_4242", "Visa 4242 · exp 12/2099 (tok_visa_4242)", "1", "12/2099"),
    Card(
        "tok_mastercard_4444", "Mastercard 4444 · exp 08/2031 (tok_mastercard_4444)", "2", "08/2031"
    ),
    Card(
        "tok_visa_0341",
        "Visa 0341 · declines renewals: 140 (tok_visa_0341)",
        "1",
        "12/2099",
        renewal_decline="140",
    ),
    Card(
        "tok_visa_0119",
        "Visa 0119 · declines renewals: 160, do not retry (tok_visa_0119)",
        "1",
        "12/2099",
        renewal_decline="160",
    ),
    Card(
        "tok_visa_0127",
        "Visa 0127 · renewals: 110, invalid card (tok_visa_0127)",
        "1",
        "12/2099",
        renewal_decline="110",
    ),
    Card(
        "tok_decline",
        "Declining card (tok_decline)",
        "1",
        "12/2099",
        declines_checkout=True,
        renewal_decline="140",
    ),
)

_BY_TOKEN = {card.token: card for card in TEST_CARDS}


def get(token: str) -> Card | None:
    return _BY_TOKEN.get(token)


def charge(token: str, amount_cents: int) -> Card:
    """Charge a test token and return its card.

    :raises PaymentDeclined: for unknown tokens and for declining test cards.
    """
    card = get(token)
    if card is None:
        raise PaymentDeclined("Choose one of the test payment tokens.")
    if card.declines_checkout or amount_cents <= 0:
        raise PaymentDeclined("Your card was declined. Try another test token.")
    return card


def charge_renewal(token: str) -> Card:
    """Charge a test token for a recurring order and return its card.

    :raises PaymentDeclined: with errorCode 110 for an unknown token, and the card's own code
        for a card that declines renewals.
    """
    card = get(token)
    code = "110" if card is None else card.renewal_decline
    if code:
        raise PaymentDeclined(RENEWAL_DECLINES[code], code)
    return card
