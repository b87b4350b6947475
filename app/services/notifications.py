"""Queue emails to subscribers in the outbox, and read the outbox; ``services.mail`` delivers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from app.extensions import db
from app.models import Customer, OutboundEmail
from app.services.errors import NotFound

PAGE_SIZE = 50
DEDUPE_KEY_MAX = 200  # the column's length

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
    "order.reminder": (
        "Your next order from {store} is coming up",
        "Your next order from {store} will be placed on {day}:\n\n{lines}\n\n"
        "Total: {total}\n\nNothing to do if this looks right. To change the items, the date "
        "or how you pay, visit your account with {store} before then.",
    ),
    "card.expiring": (
        "Your card expires before your next order",
        "The {card} that pays for your next order from {store}, on {day}, expires at the "
        "end of {expiry}. Please update your payment method in your account with {store} "
        "before then, so the order can go through.",
    ),
    # Dunning: queued once per (order, attempt) by services.placement_outcomes.
    "order.payment_retry": (
        "We couldn't take payment for your order",
        "Your payment was declined for your order of {items} ({total}) from {store}. Please "
        "update your payment method in your account; we will try again on {retry_on}.",
    ),
    "order.rejected_payment": (
        "Your order could not be placed",
        "Your payment was declined for your order of {items} ({total}) from {store}, so it "
        "was not placed. Please update your payment method in your account; your next order "
        "is still scheduled.",
    ),
    "order.rejected_card_type": (
        "Your order could not be placed",
        "{store} doesn't accept your card type, so your order of {items} ({total}) was not "
        "placed. Please choose another payment method in your account.",
    ),
    "order.rejected_card_number": (
        "Your order could not be placed",
        "Your card number was not accepted, so your order of {items} ({total}) from {store} "
        "was not placed. Please update your payment method in your account.",
    ),
    "order.rejected_card_expiry": (
        "Your order could not be placed",
        "Your card has expired or its expiry date was not accepted, so your order of {items} "
        "({total}) from {store} was not placed. Please update your payment method in your "
        "account.",
    ),
    "order.rejected_billing_address": (
        "Your order could not be placed",
        "Your billing address was not accepted, so your order of {items} ({total}) from "
        "{store} was not placed. Please check it in your account.",
    ),
    "order.rejected_paypal": (
        "Your order could not be placed",
        "PayPal could not pay for your order of {items} ({total}) from {store}, so it was not "
        "placed. Please check your PayPal account or choose another payment method.",
    ),
    "order.rejected_no_card": (
        "Your order could not be placed",
        "There is no payment method on file for your order of {items} ({total}) from "
        "{store}, so it was not placed. Please add one in your account.",
    ),
    "order.rejected_authentication": (
        "Your order could not be placed",
        "Your bank asked for extra verification, so your order of {items} ({total}) from "
        "{store} was not placed. Please sign in to your account to check your payment "
        "method; your next order is still scheduled.",
    ),
    "order.rejected_generic": (
        "Your order could not be placed",
        "We couldn't place your order of {items} ({total}) from {store} after several tries. "
        "Your next order is still scheduled; contact {store} if you need this one.",
    ),
}


def queue_email(
    merchant_id: int,
    customer: Customer | None,
    template: str,
    *,
    dedupe_key: str | None = None,
    **context: Any,
) -> OutboundEmail:
    """Render ``template`` (subject and body) and add it to the outbox (the caller's service
    commits).

    :param dedupe_key: names the email's purpose (``order.reminder:<order public id>``): the
        merchant's outbox holds at most one email per key, ever. Queueing a key again adds
        nothing and returns the first email, whatever its template or state; so does a
        concurrent transaction, which waits on the unique key and then finds the first.
    """
    if dedupe_key is not None and len(dedupe_key) > DEDUPE_KEY_MAX:
        raise ValueError(f"dedupe_key longer than {DEDUPE_KEY_MAX} characters")
    if dedupe_key is not None and (first := _by_key(merchant_id, dedupe_key)):
        return first
    subject, body = TEMPLATES[template]
    email = OutboundEmail(
        merchant_id=merchant_id,
        customer_id=customer.id if customer else None,
        to_address=customer.email if customer else None,
        template=template,
        subject=subject.format(**context),
        body=body.format(**context),
        context=context,
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        db.session.add(email)
        return email
    try:
        with db.session.begin_nested():  # a duplicate rolls back this insert, not the caller's
            db.session.add(email)
    except IntegrityError:
        return _by_key(merchant_id, dedupe_key)
    return email


def _by_key(merchant_id: int, dedupe_key: str) -> OutboundEmail | None:
    return db.session.scalar(
        select(OutboundEmail).where(
            OutboundEmail.merchant_id == merchant_id, OutboundEmail.dedupe_key == dedupe_key
        )
    )


@dataclass(frozen=True)
class OutboxPage:
    emails: list[OutboundEmail]
    older: int | None  # ``before`` for the next page; None on the last


def page(merchant_id: int, *, before: int | None = None) -> OutboxPage:
    """The merchant's emails, newest first, ``PAGE_SIZE`` at a time (bodies left unloaded)."""
    query = (
        select(OutboundEmail)
        .where(OutboundEmail.merchant_id == merchant_id)
        .options(
            defer(OutboundEmail.body, raiseload=True), defer(OutboundEmail.context, raiseload=True)
        )
    )
    if before:
        query = query.where(OutboundEmail.id < before)
    rows = list(db.session.scalars(query.order_by(OutboundEmail.id.desc()).limit(PAGE_SIZE + 1)))
    return OutboxPage(rows[:PAGE_SIZE], rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None)


def get(merchant_id: int, public_id: str) -> OutboundEmail:
    """One of the merchant's emails; NotFound for any other."""
    email = db.session.scalar(
        select(OutboundEmail).where(
            OutboundEmail.merchant_id == merchant_id, OutboundEmail.public_id == public_id
        )
    )
    if email is None:
        raise NotFound()
    return email
