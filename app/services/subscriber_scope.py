"""What a subscriber action may reach, and the arguments every action reads.

Every action is called with the merchant's id and the scope's customer: one customer's id for
the Storefront scope (the dashboard, a subscriber's own REST calls), None for the Application
scope (the merchant's API keys, staff in the console), which reaches the whole merchant. An
object of another merchant or, when a customer is given, of another customer is NotFound: the
caller learns nothing of it and it is never touched.

Arguments arrive from forms and JSON alike, so whole numbers may be ``2`` or ``"2"`` and dates
``date`` objects or ``"YYYY-MM-DD"`` (an order's ``place`` may carry ``" HH:MM:SS"``). A bad one
is a ValidationError naming its field.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.domain.frequency import Frequency
from app.extensions import db
from app.integrations import wire
from app.models import (
    Address,
    Customer,
    Merchant,
    Order,
    OrderItem,
    PaymentMethod,
    Product,
    Subscription,
)
from app.models.types import utcnow
from app.services import merchants
from app.services.errors import Conflict, NotFound, ValidationError

MAX_QUANTITY = 99  # of one product in one order (*decided*: Ordergroove sets it per merchant)
MAX_REMINDER_DAYS = 60  # as the merchant's own setting
MAX_DAYS_AHEAD = 5 * 366  # a date further ahead than that is a typo (as at checkout)
PUBLIC_ID_LENGTH = 64


# -- the objects -----------------------------------------------------------------------------


def _one(model: type, merchant_id: int, customer_id: int | None, public_id: Any):
    if not isinstance(public_id, str) or not 0 < len(public_id) <= PUBLIC_ID_LENGTH:
        raise NotFound()
    query = select(model).where(model.merchant_id == merchant_id, model.public_id == public_id)
    if customer_id is not None:
        query = query.where(model.customer_id == customer_id)
    found = db.session.scalar(query)
    if found is None:
        raise NotFound()
    return found


def subscription(merchant_id: int, customer_id: int | None, public_id: Any) -> Subscription:
    return _one(Subscription, merchant_id, customer_id, public_id)


def order(merchant_id: int, customer_id: int | None, public_id: Any) -> Order:
    return _one(Order, merchant_id, customer_id, public_id)


def item(merchant_id: int, customer_id: int | None, public_id: Any) -> OrderItem:
    if not isinstance(public_id, str) or not 0 < len(public_id) <= PUBLIC_ID_LENGTH:
        raise NotFound()
    query = (
        select(OrderItem)
        .join(Order)
        .where(Order.merchant_id == merchant_id, OrderItem.public_id == public_id)
    )
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    found = db.session.scalar(query)
    if found is None:
        raise NotFound()
    return found


def customer(merchant_id: int, customer_id: int | None, named: Any) -> Customer:
    """The customer a create is for (an address, a payment method): the Storefront scope's
    own (a body naming another is refused as not found), else the body's ``customer`` (a
    merchant user id), which the Application scope must name."""
    if customer_id is not None:
        found = db.session.get(Customer, customer_id) if customer_id > 0 else None
        if found is None or found.merchant_id != merchant_id:
            raise NotFound()
        if named not in (None, "", found.merchant_user_id):
            raise NotFound()
        return found
    if not isinstance(named, str) or not named:
        raise ValidationError(
            "customer is required.", fields={"customer": "The customer's merchant user id."}
        )
    found = db.session.scalar(
        select(Customer).where(
            Customer.merchant_id == merchant_id, Customer.merchant_user_id == named
        )
    )
    if found is None:
        raise ValidationError("Unknown customer.", fields={"customer": "No customer with that id."})
    return found


def address(merchant_id: int, customer_id: int, public_id: Any) -> Address:
    """A live address of this customer (NotFound for anyone else's)."""
    found = _one(Address, merchant_id, customer_id, public_id)
    if not found.live:
        raise NotFound()
    return found


def payment(merchant_id: int, customer_id: int, public_id: Any) -> PaymentMethod:
    """A live payment method of this customer (NotFound for anyone else's)."""
    found = _one(PaymentMethod, merchant_id, customer_id, public_id)
    if not found.live:
        raise NotFound()
    return found


def product(merchant_id: int, product_id: Any, *, field: str = "product") -> Product:
    """The merchant's product by its own id (the feed's ``product_id``)."""
    found = None
    if isinstance(product_id, str) and 0 < len(product_id) <= 64:
        found = db.session.scalar(
            select(Product).where(
                Product.merchant_id == merchant_id, Product.product_id == product_id
            )
        )
    if found is None:
        raise ValidationError("There is no such product.", fields={field: "unknown product"})
    return found


def orderable(found: Product, order: Order, *, subscribing: bool = False) -> Product:
    """``found`` if it may join ``order`` now (in stock, not discontinued, the order's
    currency; subscription-eligible when ``subscribing``), else a ValidationError on
    ``product``."""
    problem = None
    if found.discontinued or not found.in_stock:
        problem = "That product cannot be ordered now."
    elif subscribing and not found.subscription_eligible:
        problem = "That product cannot be subscribed to."
    elif found.currency != order.currency:
        problem = f"That product is sold in {found.currency}, not {order.currency}."
    if problem:
        raise ValidationError(problem, fields={"product": problem})
    return found


def live(sub: Subscription) -> None:
    """Most actions need a live subscription (Conflict otherwise: it was cancelled)."""
    if not sub.live:
        raise Conflict("The subscription is cancelled; reactivate it first.")


# -- the arguments ---------------------------------------------------------------------------


def today(merchant: Merchant | int, now: datetime | None = None) -> date:
    """The merchant's calendar date ``now``."""
    if not isinstance(merchant, Merchant):
        merchant = db.session.get(Merchant, merchant)
    return (now or utcnow()).astimezone(merchant.tz).date()


def _digits(text: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true too, and ``int("²")`` raises."""
    return text.isascii() and text.isdigit()


def whole(value: Any, field: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``, given as a number or as digits."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _digits(value.strip()) and len(value.strip()) <= 6:
        number = int(value.strip())
    if number is None or not low <= number <= high:
        message = f"a whole number from {low} to {high}"
        raise ValidationError(f"{field}: {message}.", fields={field: message})
    return number


def quantity(value: Any, field: str = "quantity") -> int:
    return whole(value, field, 1, MAX_QUANTITY)


def reminder_days(value: Any) -> int | None:
    """``reminder_days``: at least ``merchants.MIN_REMINDER_DAYS``, or None for the merchant's."""
    if value is None or value == "":
        return None
    return whole(value, "reminder_days", merchants.MIN_REMINDER_DAYS, MAX_REMINDER_DAYS)


def frequency(every: Any, every_period: Any, product: Product | None = None) -> Frequency:
    """Both required, within the project's bounds, and among the product's allowed
    frequencies when the merchant restricted them."""
    errors = {}
    if every is None or every == "":
        errors["every"] = "required"
    if every_period is None or every_period == "":
        errors["every_period"] = "required"
    if not errors:
        try:
            every = whole(every, "every", 1, 999)
            every_period = whole(every_period, "every_period", 1, 4)
            chosen = Frequency(every, every_period)
        except ValidationError as exc:
            errors.update(exc.fields)
        except ValueError as exc:
            errors["every"] = str(exc)
    if errors:
        raise ValidationError("Please choose how often it ships.", fields=errors)
    allowed = (product.allowed_frequencies or []) if product is not None else []
    if allowed and chosen.as_dict() not in allowed:
        choices = ", ".join(Frequency(f["every"], f["every_period"]).label for f in allowed)
        raise ValidationError(
            f"This product ships {choices}.", fields={"every": f"one of: {choices}"}
        )
    return chosen


def day(value: Any, field: str) -> date:
    """A calendar date: a ``date``, ``"YYYY-MM-DD"`` or ``"YYYY-MM-DD HH:MM:SS"``."""
    if isinstance(value, datetime):
        raise ValidationError(f"{field} must be a date.", fields={field: "YYYY-MM-DD"})
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value.strip()) == 19:
        text = value.strip()
        try:
            datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise ValidationError(
                f"{field} must be YYYY-MM-DD HH:MM:SS.", fields={field: "YYYY-MM-DD HH:MM:SS"}
            ) from None
        value = text[:10]
    try:
        return wire.parse_date(value, label=field)
    except wire.WireError as exc:
        raise ValidationError(str(exc), fields={field: "YYYY-MM-DD"}) from None


def future_day(value: Any, field: str, merchant: Merchant | int, now: datetime | None) -> date:
    """A date after the merchant's today (and within ``MAX_DAYS_AHEAD``)."""
    return ahead(day(value, field), field, merchant, now)


def ahead(chosen: date, field: str, merchant: Merchant | int, now: datetime | None) -> date:
    """``chosen`` if it is after the merchant's today and within ``MAX_DAYS_AHEAD``."""
    first = today(merchant, now)
    if chosen <= first:
        raise ValidationError(
            f"{field} must be after today ({first.isoformat()}).", fields={field: "a future date"}
        )
    if chosen > first + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError(
            f"{field} must be within {MAX_DAYS_AHEAD} days.",
            fields={field: f"within {MAX_DAYS_AHEAD} days"},
        )
    return chosen
