"""What shoppers see: each ``<og-offer>`` of a page as an ``OfferView``, rendered once per
variant and cached in the merchant's snapshot (``shops``).

The storefront asks for every offer of a page in one call (``fragments``). Each offer is an
``OfferView``, or None when it must render nothing (unknown or ineligible product, out of
stock, offers switched off at that location). What the shopper is promised comes from the one
pricing function (``pricing.price_order``) over the incentives the offer advertises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.domain import money
from app.extensions import db
from app.models import Merchant, Offer, Product
from app.models.types import utcnow
from app.services import offers, pricing, shopper_sessions, shops
from app.services.errors import ValidationError

MAX_SLOTS = 50  # offers one page may ask for at once
KEY_RE = re.compile(r"[A-Za-z0-9_-]{1,24}")


@dataclass(frozen=True)
class Slot:
    """One ``<og-offer>`` element: its page key and the attributes that shape the offer."""

    key: str
    product_id: str
    location: str = "pdp"
    default_frequency: str | None = None  # the element's ``default-frequency``
    offer_type: str | None = None  # the element's ``type``; else the offer's


@dataclass(frozen=True)
class OfferView:
    slot: Slot
    offer: Offer
    offer_type: str
    product_name: str
    frequencies: tuple[offers.Choice, ...]
    frequency: str
    subscribed: bool
    headline: str  # what "Subscribe and save" is followed by: "10%", "$2.00", or ""
    promises: tuple[str, ...]  # "Save 10% on every order", "Free shipping on ..."
    price: str  # the one-time price
    subscription_price: str  # the price of each recurring delivery

    @property
    def product_id(self) -> str:
        return self.slot.product_id


@dataclass(frozen=True)
class Context:
    """What every offer of one request shares: settings, incentives, the session's opt-ins."""

    shop: shops.Shop
    optins: dict[str, shopper_sessions.Tracked]
    now: datetime


def context_for(shop: shops.Shop, session_id: str | None) -> Context:
    valid = (
        session_id
        if shopper_sessions.session_merchant(session_id or "") == shop.public_id
        else None
    )
    return Context(shop=shop, optins=shopper_sessions.tracked(shop.id, valid), now=utcnow())


KEY_PLACEHOLDER = "OGKEY0"  # rendered in place of the page's key, then replaced
MAX_CACHED_VARIANT = 400  # characters; a URL on any real host name is shorter


def fragments(
    shop: shops.Shop,
    session_id: str | None,
    slots: Sequence[Slot],
    render: Callable[[OfferView], str],
    *,
    variant: str = "",
) -> tuple[list[str], Context]:
    """Every offer of a page as HTML (``""`` where nothing renders), in ``slots`` order.

    An offer's HTML depends only on the offer settings, the product, the element's attributes
    and the shopper's opt-in, all cached in the snapshot or part of the key here (with
    ``variant``: what else ``render`` depends on, such as the URL it posts to), so each variant
    is rendered (by ``render``) once and reused with the page's own key put in. A variant over
    ``MAX_CACHED_VARIANT`` characters (only a made-up Host header makes one) is not cached.
    """
    if len(slots) > MAX_SLOTS:
        raise ValidationError(f"At most {MAX_SLOTS} offers per request.")
    context = context_for(shop, session_id)
    if shop.fresh_until is not None and context.now >= shop.fresh_until:
        with shops.LOCK:
            shop.fragments.clear()
        shop.fresh_until = shops.next_boundary(shop.incentives, context.now)
    found = shops.catalog_products(shop, {slot.product_id for slot in slots})
    keep = len(variant) <= MAX_CACHED_VARIANT
    html = []
    for slot in slots:
        optin = context.optins.get(slot.product_id)
        key = (
            slot.product_id,
            slot.location,
            slot.default_frequency,
            slot.offer_type,
            optin.frequency if optin else None,
            optin.offer_id if optin else None,
            variant,
        )
        with shops.LOCK:
            cached = shop.fragments.get(key) if keep else None
        if cached is None:
            shown = view(context, found.get(slot.product_id), replace(slot, key=KEY_PLACEHOLDER))
            cached = render(shown) if shown is not None else ""
            if keep:
                with shops.LOCK:
                    shop.fragments[key] = cached
        html.append(cached.replace(KEY_PLACEHOLDER, slot.key))
    return html, context


def view(
    context: Context,
    product: shops.ProductInfo | None,
    slot: Slot,
    *,
    offer: shops.OfferSettings | None = None,
) -> OfferView | None:
    """The offer for one slot, or None: unknown, ineligible or out of stock, or switched off."""
    offer = offer or context.shop.offer_for(slot.location)
    if offer is None or product is None or not product.eligible or not product.in_stock:
        return None
    optin = context.optins.get(product.product_id)
    choices = _frequencies(offer, product, optin)
    codes = [c.code for c in choices]
    preferred = (
        optin.frequency if optin else None,
        slot.default_frequency,
        product.default,
        offer.default_frequency,
    )
    frequency = next((code for code in preferred if code in codes), codes[0])
    line = product.line()
    advertised = advertised_incentives(context.shop.incentives, offer, line)
    ongoing = _quote(line, advertised, context.now, initial=False)
    initial = _quote(line, advertised, context.now, initial=True)
    best = ongoing if ongoing.lines[0].discount_minor else initial
    return OfferView(
        slot=slot,
        offer=offer,
        offer_type=slot.offer_type or offer.offer_type,
        product_name=product.name,
        frequencies=choices,
        frequency=frequency,
        subscribed=optin is not None,
        headline=_headline(best, advertised),
        promises=tuple(
            dict.fromkeys(pricing.describe(t) for t in advertised if live_at(t, context.now))
        ),
        price=money.display(product.price_minor, product.currency),
        subscription_price=money.display(ongoing.lines[0].total_minor, product.currency),
    )


def live_at(t: pricing.Terms, now: datetime) -> bool:
    """Whether the incentive's schedule includes ``now``."""
    return (t.starts_at is None or t.starts_at <= now) and (t.ends_at is None or now < t.ends_at)


def _frequencies(
    offer: shops.OfferSettings, product: shops.ProductInfo, optin: shopper_sessions.Tracked | None
) -> tuple[offers.Choice, ...]:
    codes = list(product.allowed or offer.frequencies)
    extras = (None if product.allowed else product.default, optin.frequency if optin else None)
    for extra in extras:
        if extra and extra not in codes:
            codes.insert(0, extra)
    choices = []
    for code in dict.fromkeys(codes):
        try:
            choices.append(offers.frequency_choice(code))
        except ValueError:
            continue  # a feed frequency we cannot show (every above 999) is skipped
    return tuple(choices) or (offers.frequency_choice(offer.default_frequency),)


def advertised_incentives(
    incentives: Sequence[pricing.Terms], offer: Offer | shops.OfferSettings, line: pricing.Line
) -> list[pricing.Terms]:
    """The incentives an offer promises for a product: its chosen ones (or all) that target it."""
    chosen = set(offer.incentive_ids) if offer.incentive_ids is not None else None
    return [
        t
        for t in incentives
        if (chosen is None or t.public_id in chosen) and pricing.targets(t, line)
    ]


def _quote(
    line: pricing.Line, incentives: list[pricing.Terms], now: datetime, *, initial: bool
) -> pricing.Quote:
    return pricing.price_order(
        [line],
        incentives=incentives,
        order_number=1 if initial else 2,
        is_initial=initial,
        currency=line.currency or "USD",
        now=now,
    )


def _headline(quote: pricing.Quote, incentives: list[pricing.Terms]) -> str:
    line = quote.lines[0]
    if not line.discount_minor:
        return ""
    applied = next((t for t in incentives if t.public_id == line.incentive_id), None)
    if applied is not None and applied.kind == "percent_off":
        return pricing.format_percent(applied.percent_bp or 0)
    return money.display(line.unit_discount_minor, quote.currency)


def preview_products(merchant_id: int, limit: int = 25) -> list[Product]:
    """Products the console can preview an offer with: eligible and in stock."""
    query = (
        select(Product)
        .where(
            Product.merchant_id == merchant_id,
            Product.in_stock.is_(True),
            Product.discontinued.is_(False),
        )
        .order_by(Product.product_id)
        .limit(limit * 4)
    )
    return [p for p in db.session.scalars(query) if p.subscription_eligible][:limit]


def preview(
    merchant: Merchant, data: Mapping[str, Any], product_id: str
) -> tuple[OfferView | None, dict[str, str]]:
    """The offer as a shopper would see it with unsaved settings ``data`` (nothing is stored).

    Uses the product when it is in the catalog, else a sample product at 20.00. Reads the
    database directly, not the storefront cache, so it always shows the latest incentives.
    """
    try:
        attrs = offers.validated(merchant.id, data)
    except ValidationError as exc:
        return None, exc.fields
    offer = shops.OfferSettings(
        public_id="preview",
        location="preview",
        **{
            **attrs,
            "frequencies": tuple(attrs["frequencies"]),
            "active": True,
            "incentive_ids": None
            if attrs["incentive_ids"] is None
            else tuple(attrs["incentive_ids"]),
        },
    )
    product = (
        shops.products_by_id(merchant.id, [product_id]).get(product_id) if product_id else None
    )
    info = shops.ProductInfo.of(product) if product is not None else None
    if info is None or not info.eligible or not info.in_stock:
        info = shops.ProductInfo(
            product_id="sample",
            name="Sample product",
            price_minor=2000,
            currency=merchant.currency,
            eligible=True,
            in_stock=True,
            allowed=(),
            default=None,
            groups=frozenset(),
        )
    shop = shops.Shop(
        id=merchant.id,
        public_id=merchant.public_id,
        currency=merchant.currency,
        allowed_origins=frozenset(),
        offers={},
        generation=None,
        loaded=0.0,
        incentives=tuple(pricing.active_incentives(merchant.id, None)),
    )
    context = Context(shop=shop, optins={}, now=utcnow())
    return view(
        context,
        info,
        Slot(key="preview", product_id=info.product_id, location="preview"),
        offer=offer,
    ), {}
