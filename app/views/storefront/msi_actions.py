"""What each dashboard form asks for: its fields read into a call of the subscriber action
service the REST API calls too (``views/api/actions.py``), and the confirmation it earns.

Each action is named in the form's URL (``/<merchant_id>/msi/<action>``); ``key`` names the
form field of the object its notice is shown beside; ``setting``, when given, is the
dashboard setting (``services.dashboard_settings``) that must be on for the action to exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from app.domain.frequency import Frequency
from app.services import (
    addresses,
    item_actions,
    order_actions,
    save_offers,
    shipping_payment,
    subscription_actions,
    subscription_lifecycle,
)
from app.services.errors import ValidationError
from app.services.events import Actor


@dataclass(frozen=True)
class Call:
    merchant_id: int
    customer_id: int
    form: MultiDict
    actor: Actor

    def get(self, name: str) -> str:
        return self.form.get(name, "").strip()

    def optional(self, name: str) -> str | None:
        return self.get(name) or None

    @property
    def scope(self) -> tuple[int, int]:
        return self.merchant_id, self.customer_id


@dataclass(frozen=True)
class Action:
    key: str
    run: Callable[[Call], str]
    setting: str | None = None


def _frequency(value: str) -> Frequency:
    try:
        return Frequency.parse(value)
    except ValueError:
        raise ValidationError(
            "Please choose how often it ships.", fields={"frequency": "required"}
        ) from None


def quantity(c: Call) -> str:
    sub = subscription_actions.change_quantity(
        *c.scope, c.get("subscription"), c.get("quantity"), actor=c.actor
    )
    return f"Quantity changed to {sub.quantity}."


def frequency(c: Call) -> str:
    chosen = _frequency(c.get("frequency"))
    subscription_actions.change_frequency(
        *c.scope, c.get("subscription"), chosen.every, chosen.period, actor=c.actor
    )
    return f"It now ships {chosen.label}. Your next order date is unchanged."


def next_date(c: Call) -> str:
    subscription_actions.change_next_order_date(
        *c.scope, c.get("subscription"), c.get("order_date"), actor=c.actor
    )
    return "Next order date changed."


def swap(c: Call) -> str:
    sub = subscription_actions.change_product(
        *c.scope, c.get("subscription"), c.get("product"), actor=c.actor
    )
    return f"Swapped to {sub.product.name}."


def reminder(c: Call) -> str:
    sub = subscription_actions.change_reminder_days(
        *c.scope, c.get("subscription"), c.optional("reminder_days"), actor=c.actor
    )
    days = sub.reminder_days
    return f"Reminder set to {days} days before each order." if days else "Reminder reset."


def shipping(c: Call) -> str:
    address = c.get("shipping_address")
    if c.get("all"):
        shipping_payment.use_address_for_all(*c.scope, address, actor=c.actor)
        return "All your subscriptions now ship to this address."
    shipping_payment.change_subscription_shipping(
        *c.scope, c.get("subscription"), address, actor=c.actor
    )
    return "Shipping address changed."


def new_address(c: Call) -> str:
    fields = {name: c.form.get(name, "") for name in addresses.FIELDS}
    every = bool(c.get("all"))
    addresses.ship_to_new(
        *c.scope, fields, subscription=c.get("subscription"), for_all=every, actor=c.actor
    )
    if every:
        return "Address added. All your subscriptions now ship there."
    return "Address added. This subscription now ships there."


def payment(c: Call) -> str:
    card = c.get("payment")
    if c.get("all"):
        shipping_payment.use_payment_for_all(*c.scope, card, actor=c.actor)
        return "All your subscriptions now use this payment method."
    shipping_payment.change_subscription_payment(
        *c.scope, c.get("subscription"), card, actor=c.actor
    )
    return "Payment method changed."


def pause(c: Call) -> str:
    until = c.optional("until")
    subscription_lifecycle.pause(*c.scope, c.get("subscription"), until, actor=c.actor)
    return f"Paused until {until}." if until else "Paused until you resume it."


def resume(c: Call) -> str:
    subscription_lifecycle.resume(
        *c.scope, c.get("subscription"), c.optional("order_date"), actor=c.actor
    )
    return "Resumed."


def cancel(c: Call) -> str:
    code = c.get("reason")
    if not code:
        raise ValidationError("Please choose a reason.", fields={"reason": "required"})
    text = " ".join(c.get("reason_text").replace("|", " ").split())
    subscription_lifecycle.cancel(*c.scope, c.get("subscription"), f"{code}|{text}", actor=c.actor)
    return "Subscription cancelled."


def save_discount(c: Call) -> str:
    save_offers.accept_discount(*c.scope, c.get("subscription"), actor=c.actor)
    return "Thank you for staying: your discount is on your next orders."


def reactivate(c: Call) -> str:
    chosen = _frequency(c.get("frequency"))
    subscription_lifecycle.reactivate(
        *c.scope,
        c.get("subscription"),
        every=chosen.every,
        every_period=chosen.period,
        next_order_date=c.optional("next_order_date"),
        actor=c.actor,
    )
    return "Subscription reactivated."


def skip(c: Call) -> str:
    order_actions.skip_subscription(*c.scope, c.get("order"), c.get("subscription"), actor=c.actor)
    return "Skipped: it comes with the following order."


def send_now(c: Call) -> str:
    order_actions.send_now(*c.scope, c.get("order"), actor=c.actor)
    return "Your order is on its way: it will be placed in the next run."


def add_item(c: Call) -> str:
    item = item_actions.add_one_time_item(
        *c.scope, c.get("order"), c.get("product"), c.get("quantity") or "1", actor=c.actor
    )
    return f"{item.product.name} added to this order (one time)."


def remove_item(c: Call) -> str:
    item_actions.remove_item(*c.scope, c.get("item"), actor=c.actor)
    return "Removed from this order."


ACTIONS: dict[str, Action] = {
    "quantity": Action("subscription", quantity),
    "frequency": Action("subscription", frequency),
    "next_date": Action("subscription", next_date),
    "swap": Action("subscription", swap, "swap"),
    "reminder": Action("subscription", reminder),
    "shipping": Action("subscription", shipping),
    "new_address": Action("subscription", new_address),
    "payment": Action("subscription", payment),
    "pause": Action("subscription", pause, "pause"),
    "resume": Action("subscription", resume),
    "cancel": Action("subscription", cancel),
    "save_discount": Action("subscription", save_discount),
    "reactivate": Action("subscription", reactivate),
    "skip": Action("subscription", skip, "skip"),
    "send_now": Action("order", send_now),
    "add_item": Action("order", add_item),
    "remove_item": Action("order", remove_item),
}
