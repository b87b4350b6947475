"""A pretend payment gateway that only knows test tokens: the store never sees a card number."""

from __future__ import annotations

from dataclasses import dataclass


class PaymentDeclined(Exception):
    """The gateway refused the charge; the message is shown to the shopper."""


@dataclass(frozen=True)
class Card:
    token: str
    label: str
    cc_type: str  # Ordergroove's codes: "1" Visa, "2" Mastercard, "3" Amex
    exp_date: str  # MM/YYYY
    declines_checkout: bool = False
    declines_renewals: bool = False  # for the order endpoint, to exercise dunning


TEST_CARDS: tuple[Card, ...] = (
    Card("tok_visa_4242", "Visa 4242 · exp 12/2099 (tok_visa_4242)", "1", "12/2099"),
    Card("tok_mastercard_4444", "Mastercard 4444 · exp 08/2031 (tok_mastercard_4444)", "2",
         "08/2031"),
    Card("tok_visa_0341", "Visa 0341 · declines renewals (tok_visa_0341)", "1", "12/2099",
         declines_renewals=True),
    Card("tok_decline", "Declining card (tok_decline)", "1", "12/2099", declines_checkout=True),
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
