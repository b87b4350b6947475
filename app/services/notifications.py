"""Queue emails to subscribers in the outbox; a mail backend delivers them."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import Customer, OutboundEmail

TEMPLATES = {
    "subscription.discontinued_swap": (
        "Your subscription has changed",
        "{product} is no longer available, so your subscription now delivers {replacement} "
        "instead. You can change or cancel it any time from your account.",
    ),
    "subscription.discontinued_cancel": (
        "Your subscription has ended",
        "{product} has been discontinued, so your subscription to it was cancelled. "
        "We're sorry to see it go.",
    ),
    "order.payment_retry": (
        "We couldn't take payment for your order",
        "Your card was declined for your order of {items} ({total}). Please update your "
        "payment method in your account; we will try again on {retry_on}.",
    ),
    "order.rejected_payment": (
        "Your order could not be placed",
        "We couldn't take payment for your order of {items} ({total}), so it was not placed. "
        "Please update your payment method in your account; your next order is still scheduled.",
    ),
    "order.rejected_card_type": (
        "Your order could not be placed",
        "The store doesn't accept your card type for your order of {items} ({total}). Please "
        "choose another payment method in your account.",
    ),
    "order.rejected_card_number": (
        "Your order could not be placed",
        "Your card number was not accepted for your order of {items} ({total}). Please update "
        "your payment method in your account.",
    ),
    "order.rejected_card_expiry": (
        "Your order could not be placed",
        "Your card has expired or its expiry date was not accepted for your order of {items} "
        "({total}). Please update your payment method in your account.",
    ),
    "order.rejected_billing_address": (
        "Your order could not be placed",
        "Your billing address was not accepted for your order of {items} ({total}). Please "
        "check it in your account.",
    ),
    "order.rejected_paypal": (
        "Your order could not be placed",
        "PayPal could not pay for your order of {items} ({total}). Please check your PayPal "
        "account or choose another payment method.",
    ),
    "order.rejected_no_card": (
        "Your order could not be placed",
        "There is no payment method on file for your order of {items} ({total}). Please add "
        "one in your account.",
    ),
    "order.rejected_authentication": (
        "Your order needs your approval",
        "Your bank asked for extra verification for your order of {items} ({total}), so it "
        "was not placed. Please sign in to your account to complete it.",
    ),
    "order.rejected_generic": (
        "Your order could not be placed",
        "We couldn't place your order of {items} ({total}) after several tries. Your next "
        "order is still scheduled; contact the store if you need this one.",
    ),
}


def queue_email(merchant_id: int, customer: Customer | None, template: str,
                **context: Any) -> OutboundEmail:
    """Render ``template`` and add it to the outbox (the caller's service commits)."""
    subject, body = TEMPLATES[template]
    email = OutboundEmail(
        merchant_id=merchant_id,
        customer_id=customer.id if customer else None,
        to_address=customer.email if customer else None,
        template=template,
        subject=subject,
        body=body.format(**context),
        context=context,
    )
    db.session.add(email)
    return email
