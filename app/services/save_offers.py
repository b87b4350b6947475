"""The discount to stay: a save offer a subscriber takes instead of cancelling.

The merchant's save offer (``dashboard_settings``) may be "n % off the next m orders". A
subscriber who takes it keeps the subscription; its next m orders, counted by the
subscription's own order numbers from its upcoming order (or the one after its last), get n %
off each item (an order already being placed, or sent now, is not one of them). It is kept on
the subscription (``extra_data["save_discount"]``: percent and the first and last order
numbers), so a later change of the merchant's offer does not touch what a subscriber was
given, and the one pricing function applies it (``terms_for``, read by ``orders.quote``): the
dashboard, the order XML and the reminder show the same price.

Decided where the contracts are silent: it does not add to the subscription's other item
discounts (each of those orders gets the larger one, as between any two item incentives), and
a subscription holds one at a time: it is refused while one still has orders to come.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.extensions import db
from app.models import Subscription
from app.models.types import utcnow
from app.services import dashboard_settings, events, merchants, orders, pricing, upcoming_orders
from app.services import subscriber_scope as scope
from app.services.errors import Conflict
from app.services.subscription_actions import record

KEY = "save_discount"


def current(sub: Subscription) -> dict[str, Any] | None:
    """The discount the subscription took, while it still has orders to come."""
    given = (sub.extra_data or {}).get(KEY)
    if not isinstance(given, dict):
        return None
    try:
        percent, first, last = int(given["percent"]), int(given["from"]), int(given["to"])
    except (KeyError, TypeError, ValueError):
        return None
    if last <= (sub.iteration or 0) or not 1 <= percent <= 100 or first > last:
        return None
    return {"percent": percent, "from": first, "to": last}


def terms_for(sub: Subscription) -> pricing.Terms | None:
    """The discount as an item incentive of this one subscription's line, for its orders."""
    given = current(sub)
    if given is None:
        return None
    return pricing.Terms(
        public_id=group_of(sub),
        kind="percent_off",
        name="Discount to stay",
        scope="item",
        applies_to="both",
        percent_bp=given["percent"] * 100,
        target="group",
        target_group=group_of(sub),
        min_order_number=given["from"],
        max_order_number=given["to"],
    )


def group_of(sub: Subscription) -> str:
    """The pricing group only this subscription's line is in (see ``orders.quote``)."""
    return f"save:{sub.public_id}"


def accept_discount(
    merchant_id: int,
    customer_id: int | None,
    public_id: str,
    *,
    actor: events.Actor,
    now: datetime | None = None,
) -> Subscription:
    """Take the merchant's discount to stay; the upcoming order is priced again with it."""
    sub = scope.subscription(merchant_id, customer_id, public_id)
    scope.live(sub)
    offer = dashboard_settings.settings(merchants.get(merchant_id)).save_offer
    if offer is None or offer.kind != "discount":
        raise Conflict("The store has no discount to stay on offer.")
    if current(sub) is not None:
        raise Conflict("This subscription has its discount to stay already.")
    now = now or utcnow()
    try:
        order = upcoming_orders.held_current(sub)
    except Conflict:  # being placed, or sent now: the discount starts with the order after it
        order = None
    item = upcoming_orders.item_of(order, sub) if order is not None else None
    first = item.cycle if item is not None and item.cycle else upcoming_orders.next_cycle(sub)
    given = {"percent": offer.percent, "from": first, "to": first + offer.orders - 1}
    sub.extra_data = {**(sub.extra_data or {}), KEY: given}
    if order is not None:
        orders.reprice(order, now=now)
    record(sub, "subscription.save_discount", actor, {KEY: None}, {KEY: given}, order=order)
    db.session.commit()
    return sub
