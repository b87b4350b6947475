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
