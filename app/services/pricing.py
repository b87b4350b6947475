"""The one pricing function: the lines, discounts, shipping and totals of a would-be order.

Offers (what the shopper is promised), the subscriber dashboard (what the next order will cost)
and order placement (what is sent to the merchant) all call ``price_order``, so the three cannot
disagree. It is pure: value objects in, a ``Quote`` out, no database (``active_incentives`` is
the loader). Rules follow contracts §3; choices where the contracts are silent say *decided*.

* Money is integer minor units of one currency; percentages are basis points (1000 = 10 %).
  A line in another currency is refused (``CurrencyMismatch``). An incentive whose amount or
  threshold is in another currency does not apply (*decided*: that is how per-currency flat
  rates are set up); a plain percentage applies in any currency.
* An incentive counts when it is active, ``starts_at <= now < ends_at`` (*decided*: half-open),
  its ``applies_to`` matches (initial = the checkout order, ongoing = recurring orders), the
  order number is inside its tier window, it targets the line (or, for order-level rules, at
  least one line of the order), and its threshold is met (subtotal ``>=`` threshold).
* Item level: each line gets at most one item-level discount, the one saving the shopper the
  most, among the incentives it was promised when it has a ``promised`` list (a subscription
  keeps the ongoing incentives its offer advertised at checkout). It is computed per unit and
  multiplied by the quantity, like the order XML's ``unitary_discount``: percentages round
  half-up per unit; fixed amounts are per unit; both are capped at the unit price, so no line
  goes below zero. Equal savings go to the incentive
  given first (``active_incentives`` lists the oldest first).
* Best-deal guarantee: a line may carry ``best_price_minor`` (the product's current or best
  recent feed price, sale included). The subscriber pays the lower of that and the discounted
  subscription price, so the guarantee competes as one more item-level candidate and never
  stacks with an item-level incentive; on a tie the incentive is credited.
* Order level: at most one, the biggest saving, computed on the after-item-discount subtotal
  of the lines it targets and capped at it. It is one amount (``orderSubtotalDiscount``), not
  prorated over lines (*decided*: the order XML carries it at order level).
* Thresholds (*decided*): item-level ones compare with the gross subtotal (nothing is
  discounted yet); order-level, shipping and gift ones with the subtotal after item discounts.
* Tiers: order numbers count from 1, the initial order (so ``is_initial`` implies order 1).
  Item-level rules use the line's own order number when it has one (merged orders mix
  subscriptions at different counts), else the order's; order-level rules use the order's.
* Shipping is independent of discounts: the lowest of the base rate and every qualifying
  free or flat-rate rule (*decided*: a shipping incentive never makes shipping dearer).
* Gifts are not discounts and do not compete: each qualifying gift incentive adds one unit of
  its product at price 0, once per product.
* ``total = subtotal - discount_total + shipping_total``; tax is the store's business.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.domain import money
from app.extensions import db
from app.models import Incentive, Product
from app.models.incentive import DISCOUNT_KINDS, SHIPPING_KINDS


class PricingError(ValueError):
    """The inputs cannot describe a real order (negative price, zero quantity, ...)."""


class CurrencyMismatch(PricingError):
    """A line is priced in another currency than the order."""


@dataclass(frozen=True)
class Line:
    """One product of a would-be order (built by offers, the dashboard or placement)."""

    product_id: str  # the merchant's product id, as in the feed
    price_minor: int  # unit price before incentives: a locked price or the feed price
    quantity: int = 1
    groups: frozenset[str] = frozenset()  # the product's "incentive" group names
    best_price_minor: int | None = None  # best-deal guarantee reference price
    order_number: int | None = None  # this item's own order count, if not the order's
    currency: str | None = None  # None = the order's
    # The item-level incentives this line may get (a subscription's promised ones); None: any.
    promised: frozenset[str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", frozenset(self.groups))
        if self.promised is not None:
            object.__setattr__(self, "promised", frozenset(self.promised))


@dataclass(frozen=True)
class Terms:
    """A snapshot of an incentive, detached from the database."""

    public_id: str
    kind: str
    name: str = ""
    scope: str = "item"
    applies_to: str = "both"
    percent_bp: int | None = None
    amount_minor: int | None = None
    currency: str = "USD"
    threshold_minor: int | None = None
    target: str = "all"
    target_group: str | None = None
    target_product_ids: frozenset[str] = field(default_factory=frozenset)
    min_order_number: int | None = None
    max_order_number: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True
    gift_product: str | None = None  # the gift's merchant product id
    gift_product_pk: int | None = None
    gift_name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "target_product_ids", frozenset(self.target_product_ids))


@dataclass(frozen=True)
class QuoteLine:
    product_id: str
    quantity: int
    unit_price_minor: int
    unit_discount_minor: int = 0
    incentive_id: str | None = None  # public id of the item-level incentive applied
    best_deal: bool = False  # the best-deal guarantee set this line's price
    gift: bool = False
    product_pk: int | None = None  # set on gift lines, for placement

    @property
    def subtotal_minor(self) -> int:
        return self.unit_price_minor * self.quantity

    @property
    def discount_minor(self) -> int:
        return self.unit_discount_minor * self.quantity

    @property
    def total_minor(self) -> int:
        """The order XML's ``finalPrice``: price x qty - discount."""
        return self.subtotal_minor - self.discount_minor


@dataclass(frozen=True)
class Quote:
    currency: str
    lines: tuple[QuoteLine, ...]
    gifts: tuple[QuoteLine, ...]
    order_discount_minor: int
    order_incentive_id: str | None
    shipping_base_minor: int
    shipping_total_minor: int
    shipping_incentive_id: str | None

    @property
    def subtotal_minor(self) -> int:
        return sum(line.subtotal_minor for line in self.lines)

    @property
    def item_discount_minor(self) -> int:
        return sum(line.discount_minor for line in self.lines)

    @property
    def merchandise_minor(self) -> int:
        """The subtotal after item-level discounts (``orderSubtotalValue``)."""
        return self.subtotal_minor - self.item_discount_minor

    @property
    def discount_total_minor(self) -> int:
        return self.item_discount_minor + self.order_discount_minor

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor - self.discount_total_minor + self.shipping_total_minor

    @property
    def incentive_ids(self) -> frozenset[str]:
        """Every incentive that changed this order, for reporting and the order's record."""
        ids = {line.incentive_id for line in (*self.lines, *self.gifts)}
        ids |= {self.order_incentive_id, self.shipping_incentive_id}
        return frozenset(i for i in ids if i)


def price_order(
    lines: Sequence[Line],
    *,
    incentives: Iterable[Terms | Incentive],
    order_number: int,
    is_initial: bool,
    currency: str,
    shipping_minor: int = 0,
    now: datetime,
) -> Quote:
    """Price a would-be order: item and order discounts, shipping, gifts and totals."""
    _check(
        lines, order_number=order_number, currency=currency, shipping_minor=shipping_minor, now=now
    )
    if is_initial and order_number != 1:
        raise PricingError("the initial order is order 1")
    live = [
        t
        for t in map(terms, incentives)
        if _live(t, now=now, is_initial=is_initial, currency=currency)
    ]
    gross = sum(line.price_minor * line.quantity for line in lines)
    priced = tuple(_price_line(line, live, order_number, gross) for line in lines)
    net = sum(q.total_minor for q in priced)
    rules = [t for t in live if _order_rule_applies(t, lines, order_number, net)]
    discount, discount_id = _order_discount(priced, lines, rules)
    shipping, shipping_id = _shipping(rules, shipping_minor)
    return Quote(
        currency=currency,
        lines=priced,
        gifts=_gifts(rules),
        order_discount_minor=discount,
        order_incentive_id=discount_id,
        shipping_base_minor=shipping_minor,
        shipping_total_minor=shipping,
        shipping_incentive_id=shipping_id,
    )


def _check(
    lines: Sequence[Line], *, order_number: int, currency: str, shipping_minor: int, now: datetime
) -> None:
    if now.tzinfo is None:
        raise PricingError("now must be an aware UTC datetime")
    if not _is_int(order_number) or order_number < 1:
        raise PricingError("order_number counts from 1 (the initial order)")
    if not _is_int(shipping_minor) or shipping_minor < 0:
        raise PricingError("shipping must be a non-negative integer of minor units")
    for line in lines:
        if line.currency not in (None, currency):
            raise CurrencyMismatch(f"{line.product_id} is in {line.currency}, not {currency}")
        if not _is_int(line.price_minor) or line.price_minor < 0:
            raise PricingError(f"{line.product_id}: price must be a non-negative integer")
        if not _is_int(line.quantity) or line.quantity < 1:
            raise PricingError(f"{line.product_id}: quantity must be a positive integer")
        best = line.best_price_minor
        if best is not None and (not _is_int(best) or best < 0):
            raise PricingError(f"{line.product_id}: best price must be a non-negative integer")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _live(t: Terms, *, now: datetime, is_initial: bool, currency: str) -> bool:
    """Whether the incentive is on at all for this order, before looking at its lines."""
    if not t.active or (t.starts_at and now < t.starts_at) or (t.ends_at and now >= t.ends_at):
        return False
    if t.applies_to != "both" and (t.applies_to == "initial") != is_initial:
        return False
    has_money = t.amount_minor is not None or t.threshold_minor is not None
    return not has_money or t.currency == currency


def _in_tier(t: Terms, order_number: int) -> bool:
    upper = t.max_order_number
    return (t.min_order_number or 1) <= order_number and (upper is None or order_number <= upper)


def targets(t: Terms, line: Line) -> bool:
    if t.target == "group":
        return t.target_group in line.groups
    if t.target == "products":
        return line.product_id in t.target_product_ids
    return True


def _meets(t: Terms, subtotal: int) -> bool:
    return t.threshold_minor is None or subtotal >= t.threshold_minor


def _saving(t: Terms, amount: int) -> int:
    """What the discount takes off ``amount``: half-up percent or a fixed sum, capped."""
    if t.kind == "percent_off":
        return min(amount, (amount * (t.percent_bp or 0) + 5000) // 10000)
    return min(amount, t.amount_minor or 0)


def _price_line(line: Line, live: list[Terms], order_number: int, gross: int) -> QuoteLine:
    number = line.order_number or order_number
    best, best_id = 0, None
    for t in live:
        if (
            t.kind in DISCOUNT_KINDS
            and t.scope == "item"
            and _in_tier(t, number)
            and (line.promised is None or t.public_id in line.promised)
            and targets(t, line)
            and _meets(t, gross)
        ):
            saving = _saving(t, line.price_minor)
            if saving > best:
                best, best_id = saving, t.public_id
    quote = QuoteLine(
        product_id=line.product_id,
        quantity=line.quantity,
        unit_price_minor=line.price_minor,
        unit_discount_minor=best,
        incentive_id=best_id,
    )
    if line.best_price_minor is not None and line.price_minor - line.best_price_minor > best:
        return QuoteLine(
            product_id=line.product_id,
            quantity=line.quantity,
            unit_price_minor=line.price_minor,
            best_deal=True,
            unit_discount_minor=line.price_minor - line.best_price_minor,
        )
    return quote


def _order_rule_applies(t: Terms, lines: Sequence[Line], order_number: int, net: int) -> bool:
    if t.kind in DISCOUNT_KINDS and t.scope == "item":
        return False
    return _in_tier(t, order_number) and _meets(t, net) and any(targets(t, line) for line in lines)


def _order_discount(
    priced: tuple[QuoteLine, ...], lines: Sequence[Line], rules: list[Terms]
) -> tuple[int, str | None]:
    best, best_id = 0, None
    for t in rules:
        if t.kind in DISCOUNT_KINDS:
            base = sum(
                q.total_minor for q, line in zip(priced, lines, strict=True) if targets(t, line)
            )
            saving = _saving(t, base)
            if saving > best:
                best, best_id = saving, t.public_id
    return best, best_id


def _shipping(rules: list[Terms], base: int) -> tuple[int, str | None]:
    best, best_id = base, None
    for t in rules:
        if t.kind in SHIPPING_KINDS:
            rate = 0 if t.kind == "free_shipping" else (t.amount_minor or 0)
            if rate < best:
                best, best_id = rate, t.public_id
    return best, best_id


def _gifts(rules: list[Terms]) -> tuple[QuoteLine, ...]:
    gifts: dict[str, QuoteLine] = {}
    for t in rules:
        if t.kind == "gift" and t.gift_product and t.gift_product not in gifts:
            gifts[t.gift_product] = QuoteLine(
                product_id=t.gift_product,
                quantity=1,
                unit_price_minor=0,
                incentive_id=t.public_id,
                gift=True,
                product_pk=t.gift_product_pk,
            )
    return tuple(gifts.values())


def terms(incentive: Terms | Incentive) -> Terms:
    """Snapshot an incentive row (its gift product loaded) for pricing and describing."""
    if isinstance(incentive, Terms):
        return incentive
    gift = incentive.gift_product
    return Terms(
        public_id=incentive.public_id,
        kind=incentive.kind,
        name=incentive.name,
        scope=incentive.scope,
        applies_to=incentive.applies_to,
        percent_bp=incentive.percent_bp,
        amount_minor=incentive.amount_minor,
        currency=incentive.currency,
        threshold_minor=incentive.threshold_minor,
        target=incentive.target,
        target_group=incentive.target_group,
        target_product_ids=frozenset(incentive.target_product_ids or ()),
        min_order_number=incentive.min_order_number,
        max_order_number=incentive.max_order_number,
        starts_at=incentive.starts_at,
        ends_at=incentive.ends_at,
        active=bool(incentive.active),
        gift_product=gift.product_id if gift else None,
        gift_product_pk=gift.id if gift else None,
        gift_name=gift.name if gift else None,
    )


_read_once: ContextVar[dict[int, list[Terms]] | None] = ContextVar("incentives", default=None)


@contextmanager
def incentives_read_once() -> Iterator[None]:
    """Within this scope each merchant's incentives are read from the database once (a batch
    of orders priced together; one that changes meanwhile counts from the next scope)."""
    token = _read_once.set({})
    try:
        yield
    finally:
        _read_once.reset(token)


def active_incentives(merchant_id: int, now: datetime | None) -> list[Terms]:
    """The merchant's switched-on incentives scheduled to run at ``now`` (any time if None:
    ``price_order`` still checks each one's dates, so a cached list stays correct; it is the
    list kept inside ``incentives_read_once``)."""
    cache = _read_once.get()
    if cache is not None:
        if merchant_id not in cache:
            cache[merchant_id] = _active(merchant_id, None)
        return cache[merchant_id]
    return _active(merchant_id, now)


def _active(merchant_id: int, now: datetime | None) -> list[Terms]:
    query = (
        select(Incentive)
        .options(selectinload(Incentive.gift_product))
        .where(Incentive.merchant_id == merchant_id, Incentive.active.is_(True))
        .order_by(Incentive.id)
    )
    if now is not None:
        query = query.where(
            or_(Incentive.starts_at.is_(None), Incentive.starts_at <= now),
            or_(Incentive.ends_at.is_(None), Incentive.ends_at > now),
        )
    return [terms(incentive) for incentive in db.session.scalars(query)]


def line_for(
    product: Product,
    *,
    quantity: int = 1,
    price_minor: int | None = None,
    best_price_minor: int | None = None,
    order_number: int | None = None,
    promised: frozenset[str] | None = None,
) -> Line:
    """A pricing line for a catalog product (its incentive groups included)."""
    groups = frozenset(g.name for g in product.groups if g.group_type == "incentive")
    return Line(
        product_id=product.product_id,
        quantity=quantity,
        groups=groups,
        price_minor=product.price_minor if price_minor is None else price_minor,
        best_price_minor=best_price_minor,
        order_number=order_number,
        currency=product.currency,
        promised=promised,
    )


def describe(incentive: Terms | Incentive) -> str:
    """The shopper-facing line an offer advertises, e.g. "Save 10% on every order"."""
    t = terms(incentive)
    when = _when(t)
    if t.kind == "percent_off":
        text = f"Save {format_percent(t.percent_bp or 0)} {when}"
    elif t.kind == "fixed_off":
        per_item = " per item" if t.scope == "item" else ""
        text = f"Save {money.display(t.amount_minor or 0, t.currency)}{per_item} {when}"
    elif t.kind == "free_shipping":
        text = f"Free shipping {when}"
    elif t.kind == "flat_rate_shipping":
        text = f"{money.display(t.amount_minor or 0, t.currency)} flat-rate shipping {when}"
    else:
        with_when = when.replace("on ", "with ", 1) if when.startswith("on ") else when
        text = f"Free gift: {t.gift_name or 'a gift'} {with_when}"
    if t.threshold_minor:
        text += f" over {money.display(t.threshold_minor, t.currency)}"
    if t.target == "group" and t.target_group:
        text += f" ({t.target_group} products)"
    elif t.target == "products":
        text += " (selected products)"
    return text


def _when(t: Terms) -> str:
    low, high = t.min_order_number or 1, t.max_order_number
    if low == 1 and high is None:
        return {"initial": "on your first order", "ongoing": "on every recurring order"}.get(
            t.applies_to, "on every order"
        )
    if t.applies_to == "ongoing":
        low = max(low, 2)  # the first recurring order is order 2
    if high is None:
        return f"from your {ordinal(low)} order"
    if low == high:
        return "on your first order" if low == 1 else f"on your {ordinal(low)} order"
    if low == 1:
        return f"on your first {high} orders"
    return f"on your {ordinal(low)} to {ordinal(high)} orders"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def format_percent(basis_points: int) -> str:
    """1000 -> "10%", 1250 -> "12.5%", 1005 -> "10.05%"."""
    whole, rest = divmod(basis_points, 100)
    return f"{whole}%" if not rest else f"{whole}.{rest:02d}".rstrip("0") + "%"
