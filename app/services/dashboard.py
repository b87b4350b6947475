"""The subscriber dashboard (Subscription Manager, spec §5) as one customer sees it.

``build`` reads everything the dashboard shows into plain view objects: the upcoming orders
(their merchant-calendar date, items, the price breakdown of ``orders.quote``, the one pricing
function, shipping address and masked card), the live subscriptions with the choices each
action offers, the cancelled ones (reactivatable unless their product is discontinued) and the
past orders with their status. It never writes. The actions themselves are the subscriber
action services (``subscription_actions``, ``subscription_lifecycle``, ``order_actions``,
``shipping_payment``), called by the dashboard's routes as by the REST API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.domain import money
from app.domain.frequency import Frequency
from app.extensions import db
from app.integrations import signing
from app.models import (
    Address,
    Customer,
    Merchant,
    Order,
    OrderStatus,
    PaymentMethod,
    Product,
    ProductGroup,
    Subscription,
)
from app.models.offer import DEFAULT_FREQUENCIES
from app.models.types import utcnow
from app.services import (
    cancel_reasons,
    orders,
    save_offers,
    subscribers,
    subscriptions,
    upcoming_orders,
)
from app.services.dashboard_settings import Settings, settings
from app.services.subscriber_scope import MAX_QUANTITY

PAST_ORDERS = 20
MAX_PRODUCTS = 200  # offered as one-time add-ons
STATUS_LABELS = {
    OrderStatus.UNSENT: "Scheduled",
    OrderStatus.SEND_NOW: "Sending now",
    OrderStatus.SUCCESS: "Placed",
    OrderStatus.REJECTED: "Declined",
    OrderStatus.CANCELLED: "Skipped",
    OrderStatus.MERGED: "Combined with another order",
    OrderStatus.CREDIT_CARD_RETRY: "Payment being retried",
}
PROCESSING = "Processing"


@dataclass(frozen=True)
class Notice:
    """The outcome of an action, shown beside the object it was about (``key``: a public
    id), or at the top when that object is no longer shown."""

    key: str
    text: str
    error: bool = False
    action: str | None = None  # the action it answers
    fields: dict[str, str] = field(default_factory=dict)  # each refused field: what is wrong
    typed: dict[str, str] = field(default_factory=dict)  # what the refused form held


@dataclass
class Item:
    public_id: str
    name: str
    quantity: int
    total: str
    one_time: bool
    subscription: str | None  # its subscription's public id


@dataclass
class UpcomingOrder:
    public_id: str
    day: date
    date_label: str
    status_label: str
    editable: bool
    items: list[Item]
    gifts: list[str]
    subtotal: str
    discount: str | None
    shipping: str
    total: str
    address: list[str]
    card: str | None


@dataclass
class Sub:
    public_id: str
    name: str
    product_id: str
    quantity: int
    frequency: Frequency
    live: bool
    paused: bool
    next_date: str | None  # its upcoming order's date, as shown
    next_order: str | None  # that order's public id
    address: str | None  # public id
    address_label: str | None
    payment: str | None
    payment_label: str | None
    reminder_days: int | None
    quantities: list[int] = field(default_factory=list)
    frequencies: list[Frequency] = field(default_factory=list)
    swaps: list[tuple[str, str]] = field(default_factory=list)  # (product id, name)
    reactivatable: bool = False
    cancelled_label: str | None = None
    save_discount: str | None = None  # the discount to stay it took, in words


@dataclass
class PastOrder:
    public_id: str
    date_label: str
    status_label: str
    total: str
    items: str


@dataclass
class Dashboard:
    name: str
    settings: Settings
    today: date
    min_date: str  # the first date a subscriber may choose (tomorrow, merchant's calendar)
    upcoming: list[UpcomingOrder]
    active: list[Sub]
    inactive: list[Sub]
    past: list[PastOrder]
    addresses: list[tuple[str, str]]  # (public id, one-line label)
    payments: list[tuple[str, str]]
    products: list[tuple[str, str]]  # one-time add-ons: (product id, "name · price")
    reasons: list[dict]
    default_reminder_days: int
    notice: Notice | None = None

    @property
    def top_notice(self) -> Notice | None:
        """The notice when the object it is about is no longer on the dashboard."""
        if self.notice is None:
            return None
        shown = {o.public_id for o in self.upcoming}
        shown |= {s.public_id for s in self.active + self.inactive}
        return None if self.notice.key in shown else self.notice


def build(
    merchant: Merchant,
    customer_id: int,
    *,
    notice: Notice | None = None,
    now: datetime | None = None,
) -> Dashboard:
    """Everything the customer's dashboard shows (an unknown customer, ``-1``, has nothing)."""
    now = now or utcnow()
    today = now.astimezone(merchant.tz).date()
    chosen = settings(merchant)
    subs = subscriptions.for_customer(merchant.id, customer_id)
    addresses = _live(Address, merchant.id, customer_id)
    payments = _live(PaymentMethod, merchant.id, customer_id)
    cards = {p.id: card_label(merchant, p) for p in payments}
    sub_ids = {s.id: s.public_id for s in subs}
    unsettled = list(  # held while the views are built: their rows stay in the session
        db.session.scalars(
            select(Order)
            .where(
                Order.merchant_id == merchant.id,
                Order.customer_id == customer_id,
                Order.status.not_in(upcoming_orders.SETTLED),
            )
            .order_by(Order.place_date, Order.id)
        )
    )
    upcoming = [_upcoming(order, cards, sub_ids, now) for order in unsettled]
    next_orders: dict[int, Order] = {}  # what subscriptions.upcoming_order finds, for each
    for order in unsettled:
        if order.status in subscriptions.UPCOMING:
            for item in order.items:
                next_orders.setdefault(item.subscription_id, order)
    views = [_sub(merchant, sub, chosen, cards, next_orders.get(sub.id)) for sub in subs]
    customer = db.session.get(Customer, customer_id) if customer_id > 0 else None
    return Dashboard(
        name=(customer.first_name or "") if customer else "",
        settings=chosen,
        today=today,
        min_date=(today + timedelta(days=1)).isoformat(),
        upcoming=upcoming,
        active=[v for v in views if v.live],
        inactive=[v for v in views if not v.live],
        past=_past(merchant.id, customer_id),
        addresses=[(a.public_id, ", ".join(subscribers.address_lines(a))) for a in addresses],
        payments=[(p.public_id, cards[p.id]) for p in payments],
        products=_products(merchant),
        reasons=cancel_reasons.reasons(merchant.id),
        default_reminder_days=merchant.reminder_days,
        notice=notice,
    )


def card_label(merchant: Merchant, payment: PaymentMethod) -> str:
    """ "Visa ending 4242 · expires 12/2030": the last four digits at most, never the token."""
    label = subscribers.card_label(payment)
    if payment.cc_last4_enc:
        try:
            last4 = signing.decrypt_field(merchant.hash_key, payment.cc_last4_enc)
        except (signing.SignatureError, ValueError):
            last4 = ""
        if len(last4) == 4 and last4.isdigit():
            kind, _, rest = label.partition(" · ")
            label = f"{kind} ending {last4}" + (f" · {rest}" if rest else "")
    return label


def _live(model: type, merchant_id: int, customer_id: int) -> list:
    return list(
        db.session.scalars(
            select(model)
            .where(
                model.merchant_id == merchant_id,
                model.customer_id == customer_id,
                model.live.is_(True),
            )
            .order_by(model.id)
        )
    )


def _upcoming(
    order: Order, cards: dict[int, str], sub_ids: dict[int, str], now: datetime
) -> UpcomingOrder:
    quote = orders.quote(order, now=now)
    currency = order.currency
    items = [
        Item(
            public_id=item.public_id,
            name=item.product.name,
            quantity=item.quantity,
            total=money.display(line.total_minor, currency),
            one_time=item.one_time,
            subscription=sub_ids.get(item.subscription_id),
        )
        for item, line in zip(order.items, quote.lines, strict=True)
    ]
    gifts = [_product_name(order.merchant_id, g.product_id) for g in quote.gifts]
    return UpcomingOrder(
        public_id=order.public_id,
        day=order.place_date,
        date_label=orders.long_date(order.place_date),
        status_label=STATUS_LABELS.get(order.status, PROCESSING),
        editable=order.status == OrderStatus.UNSENT and not order.lease_token and not order.locked,
        items=items,
        gifts=gifts,
        subtotal=money.display(quote.subtotal_minor, currency),
        discount=money.display(-quote.discount_total_minor, currency)
        if quote.discount_total_minor
        else None,
        shipping=money.display(quote.shipping_total_minor, currency)
        if quote.shipping_total_minor
        else "Free",
        total=money.display(quote.total_minor, currency),
        address=subscribers.address_lines(order.shipping_address) if order.shipping_address else [],
        card=cards.get(order.payment_id) if order.payment_id else None,
    )


def _product_name(merchant_id: int, product_id: str) -> str:
    found = db.session.scalar(
        select(Product.name).where(
            Product.merchant_id == merchant_id, Product.product_id == product_id
        )
    )
    return found or product_id


def _sub(
    merchant: Merchant,
    sub: Subscription,
    chosen: Settings,
    cards: dict[int, str],
    upcoming: Order | None,
) -> Sub:
    order = upcoming if sub.live else None
    current = Frequency(sub.every, sub.every_period)
    view = Sub(
        public_id=sub.public_id,
        name=sub.product.name,
        product_id=sub.product.product_id,
        quantity=sub.quantity,
        frequency=current,
        live=sub.live,
        paused=sub.paused,
        next_date=orders.long_date(order.place_date) if order else None,
        next_order=order.public_id if order else None,
        address=sub.shipping_address.public_id if sub.shipping_address else None,
        address_label=", ".join(subscribers.address_lines(sub.shipping_address))
        if sub.shipping_address
        else None,
        payment=sub.payment.public_id if sub.payment else None,
        payment_label=cards.get(sub.payment_id) if sub.payment_id else None,
        reminder_days=sub.reminder_days,
    )
    view.quantities = sorted({*chosen.quantities, min(sub.quantity, MAX_QUANTITY)})
    kept = save_offers.current(sub)
    if kept is not None:
        left = kept["to"] - max(sub.iteration or 0, kept["from"] - 1)
        view.save_discount = f"{kept['percent']}% off " + (
            "your next order" if left == 1 else f"your next {left} orders"
        )
    view.frequencies = _frequencies(sub.product, current)
    if not sub.live:
        view.reactivatable = not sub.product.discontinued
        if sub.cancelled_at:
            view.cancelled_label = orders.long_date(sub.cancelled_at.astimezone(merchant.tz).date())
    elif chosen.swap:
        view.swaps = _swaps(sub)
    return view


def _frequencies(product: Product, current: Frequency) -> list[Frequency]:
    """The product's allowed frequencies, else the offers' defaults; the current one too."""
    allowed = product.allowed_frequencies or []
    found = []
    for value in allowed or DEFAULT_FREQUENCIES:
        try:
            found.append(Frequency.parse(value))
        except (TypeError, ValueError):
            continue
    if current not in found:
        found.append(current)
    return sorted(set(found), key=lambda f: (f.days, f.period))


def _swaps(sub: Subscription) -> list[tuple[str, str]]:
    """Products of the subscription's ``sku_swap`` groups it may swap to."""
    names = [g.name for g in sub.product.groups if g.group_type == "sku_swap"]
    if not names:
        return []
    query = (
        select(Product)
        .join(ProductGroup, ProductGroup.product_id == Product.id)
        .where(
            Product.merchant_id == sub.merchant_id,
            ProductGroup.group_type == "sku_swap",
            ProductGroup.name.in_(names),
            Product.id != sub.product_id,
            Product.discontinued.is_(False),
            Product.currency == sub.currency,
        )
        .order_by(Product.name)
    )
    return [(p.product_id, p.name) for p in dict.fromkeys(db.session.scalars(query))]


def _products(merchant: Merchant) -> list[tuple[str, str]]:
    query = (
        select(Product)
        .where(
            Product.merchant_id == merchant.id,
            Product.in_stock.is_(True),
            Product.discontinued.is_(False),
            Product.in_latest_feed.is_(True),
            Product.currency == merchant.currency,
        )
        .order_by(Product.name)
        .limit(MAX_PRODUCTS)
    )
    return [
        (p.product_id, f"{p.name} · {money.display(p.price_minor, p.currency)}")
        for p in db.session.scalars(query)
    ]


def _past(merchant_id: int, customer_id: int) -> list[PastOrder]:
    query = (
        select(Order)
        .where(
            Order.merchant_id == merchant_id,
            Order.customer_id == customer_id,
            Order.status.in_(upcoming_orders.SETTLED),
        )
        .order_by(Order.place_date.desc(), Order.id.desc())
        .limit(PAST_ORDERS)
    )
    return [
        PastOrder(
            public_id=order.public_id,
            date_label=orders.long_date(order.place_date),
            status_label=STATUS_LABELS.get(order.status, PROCESSING),
            total=money.display(order.total_minor, order.currency),
            items=", ".join(f"{i.quantity} × {i.product.name}" for i in order.items),
        )
        for order in db.session.scalars(query)
    ]
