"""Offers on the merchant's pages: what each ``<og-offer>`` shows, and the shopper's opt-ins.

The storefront asks for every offer of a page in one call (``fragments``). Each offer is an
``OfferView`` (rendered once per variant and cached), or None when it must render nothing
(unknown or ineligible product, out of stock, offers switched off at that location). What the
shopper is promised comes from the one pricing function (``pricing.price_order``) over the
incentives the offer advertises.

Decided where the contracts are silent:

* Offer settings are per location; a location without its own offer uses the merchant's
  ``default`` offer, which every merchant has (created on first use).
* Frequencies: the product's allowed list (console override) or else the offer's; the product's
  own default (console, else feed) joins the list when missing, since the feed says it is valid.
  The selected one is the opt-in's, else the element's ``default-frequency`` when allowed, else
  the product's default, else the offer's default, else the first.
* Opt-ins are tracked per ``og_session_id`` and product (one row; a repeat click updates it).
  They are anonymous shopper state, not events: the purchase POST turns them into subscriptions
  and records those.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from weakref import WeakValueDictionary

from cachetools import LRUCache, TTLCache
from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import bindparam, delete, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.domain import money
from app.domain.frequency import Frequency
from app.extensions import db
from app.jobs import queue
from app.models import FeedRun, Incentive, Merchant, Offer, OptIn, Product, ProductGroup
from app.models.offer import DEFAULT_LOCATION, OFFER_TYPES
from app.models.types import utcnow
from app.services import events, merchants, pricing, products
from app.services.errors import NotFound, ValidationError

MAX_SLOTS = 50  # offers one page may ask for at once
MAX_CHOSEN_INCENTIVES = 100
KEY_RE = re.compile(r"[A-Za-z0-9_-]{1,24}")
LOCATION_RE = re.compile(r"[A-Za-z0-9_.-]{1,40}")
TEXT_FIELDS = {
    "optin_label": 200,
    "optout_label": 200,
    "every_label": 100,
    "tooltip_trigger": 100,
    "tooltip": 2000,
}
SNAPSHOT_FIELDS = (
    "location",
    "offer_type",
    *TEXT_FIELDS,
    "show_tooltip",
    "frequencies",
    "default_frequency",
    "incentive_ids",
    "active",
)


@dataclass(frozen=True)
class Slot:
    """One ``<og-offer>`` element: its page key and the attributes that shape the offer."""

    key: str
    product_id: str
    location: str = "pdp"
    default_frequency: str | None = None  # the element's ``default-frequency``
    offer_type: str | None = None  # the element's ``type``; else the offer's


@dataclass(frozen=True)
class Choice:
    code: str  # "4_2"
    label: str  # "4 weeks"


@dataclass(frozen=True)
class OfferView:
    slot: Slot
    offer: Offer
    offer_type: str
    product_name: str
    frequencies: tuple[Choice, ...]
    frequency: str
    subscribed: bool
    headline: str  # what "Subscribe and save" is followed by: "10%", "$2.00", or ""
    promises: tuple[str, ...]  # "Save 10% on every order", "Free shipping on ..."
    price: str  # the one-time price
    subscription_price: str  # the price of each recurring delivery

    @property
    def product_id(self) -> str:
        return self.slot.product_id


def session_merchant(session_id: str) -> str | None:
    """The merchant public id an ``og_session_id`` belongs to, or None if malformed.

    Format (contracts §2.3): ``<merchant_public_id>.<random int>.<unix time>``.
    """
    match = re.fullmatch(r"([0-9a-f]{32})\.[0-9]{1,20}\.[0-9]{1,12}", session_id or "")
    return match.group(1) if match else None


def check_session(merchant: Merchant, session_id: str) -> str:
    if session_merchant(session_id) != merchant.public_id:
        raise ValidationError("A valid og_session_id for this merchant is required.")
    return session_id


def frequency_choice(code: str) -> Choice:
    frequency = Frequency.parse(code)
    return Choice(frequency.code, frequency.span)


# -- offer settings -------------------------------------------------------------------------


def ensure_default(merchant_id: int) -> Offer:
    """The merchant's default offer, created with the defaults on first use."""
    offer = _by_location(merchant_id, DEFAULT_LOCATION)
    if offer is not None:
        return offer
    try:
        with db.session.begin_nested():
            offer = Offer(merchant_id=merchant_id, location=DEFAULT_LOCATION)
            db.session.add(offer)
        db.session.commit()
    except IntegrityError:  # another request created it first
        offer = _by_location(merchant_id, DEFAULT_LOCATION)
    return offer


def _by_location(merchant_id: int, location: str) -> Offer | None:
    return db.session.scalar(
        select(Offer).where(Offer.merchant_id == merchant_id, Offer.location == location)
    )


def list_for(merchant_id: int) -> list[Offer]:
    ensure_default(merchant_id)
    query = select(Offer).where(Offer.merchant_id == merchant_id).order_by(Offer.id)
    return list(db.session.scalars(query))


def get(merchant_id: int, location: str) -> Offer:
    offer = _by_location(merchant_id, location)
    if offer is None:
        raise NotFound()
    return offer


def save(merchant_id: int, location: str, data: Mapping[str, Any], *, actor: events.Actor) -> Offer:
    """Create or update the offer at ``location`` from console form data."""
    location = (location or "").strip()
    if not LOCATION_RE.fullmatch(location):
        raise ValidationError(
            "Please correct the highlighted fields.",
            fields={
                "location": "Letters, digits, '.', '_' or '-', at most 40 (e.g. pdp, cart, or)."
            },
        )
    offer = _by_location(merchant_id, location)
    before = _snapshot(offer) if offer else None
    attrs = _validated(merchant_id, data)
    if offer is None:
        offer = Offer(merchant_id=merchant_id, location=location)
        db.session.add(offer)
    for key, value in attrs.items():
        setattr(offer, key, value)
    db.session.flush()
    if before is None:
        events.record(
            merchant_id,
            "offer.create",
            actor,
            object_type="offer",
            object_id=offer.public_id,
            after=_snapshot(offer),
        )
    else:
        old, new = events.diff(before, _snapshot(offer))
        if new:
            events.record(
                merchant_id,
                "offer.update",
                actor,
                object_type="offer",
                object_id=offer.public_id,
                before=old,
                after=new,
            )
    db.session.commit()
    return offer


def _snapshot(offer: Offer) -> dict[str, Any]:
    return {key: getattr(offer, key) for key in SNAPSHOT_FIELDS}


def _validated(merchant_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    attrs: dict[str, Any] = {}
    offer_type = data.get("offer_type") or "radio"
    if offer_type not in OFFER_TYPES:
        errors["offer_type"] = f"Choose one of: {', '.join(OFFER_TYPES)}."
    attrs["offer_type"] = offer_type
    for key, limit in TEXT_FIELDS.items():
        text = (
            " ".join(str(data.get(key) or "").split())
            if key != "tooltip"
            else str(data.get(key) or "").strip()
        )
        if not text:
            errors[key] = "This field is required."
        elif len(text) > limit:
            errors[key] = f"At most {limit} characters."
        attrs[key] = text
    codes = str(data.get("frequencies") or "").replace(",", " ").split()
    try:
        parsed = [frequency_choice(code).code for code in codes]
        if not parsed:
            raise ValueError("List at least one frequency, such as 2_2 4_2 1_3.")
        if len(parsed) > 99:
            raise ValueError("At most 99 frequencies.")
        attrs["frequencies"] = list(dict.fromkeys(parsed))
    except ValueError as exc:
        errors["frequencies"] = str(exc)
    default = str(data.get("default_frequency") or "").strip()
    if "frequencies" not in errors and default not in attrs.get("frequencies", []):
        errors["default_frequency"] = "The default must be one of the frequencies."
    attrs["default_frequency"] = default
    attrs["incentive_ids"] = _incentive_ids(merchant_id, data.get("incentive_ids"), errors)
    attrs["show_tooltip"] = _flag(data.get("show_tooltip"))
    attrs["active"] = _flag(data.get("active"))
    if errors:
        raise ValidationError("Please correct the highlighted fields.", fields=errors)
    return attrs


def _incentive_ids(merchant_id: int, value: Any, errors: dict[str, str]) -> list[str] | None:
    """None (advertise every live incentive) unless specific incentives are chosen."""
    wanted = [v for v in (value if isinstance(value, list | tuple) else [value]) if v]
    if not wanted or "all" in wanted:
        return None
    if len(wanted) > MAX_CHOSEN_INCENTIVES:
        errors["incentive_ids"] = f"Choose at most {MAX_CHOSEN_INCENTIVES} incentives."
        return None
    known = set(
        db.session.scalars(
            select(Incentive.public_id).where(
                Incentive.merchant_id == merchant_id, Incentive.public_id.in_(wanted)
            )
        )
    )
    if set(wanted) - known:
        errors["incentive_ids"] = "Choose among your incentives."
    return list(dict.fromkeys(wanted))


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("on", "1", "true", "yes")


# -- what shoppers see ----------------------------------------------------------------------
#
# The storefront's hot path (every product page view) reads a cached snapshot of the merchant:
# its offers, incentives and the catalog products asked for. A snapshot is valid while the
# merchant's generation number in Redis is unchanged; any commit that touches the merchant's
# offers, incentives, products or settings bumps it (see ``init_app``). The process that made
# the change drops its snapshot at once; the others look at the generation at most every
# ``CHECK_EVERY`` second, so they follow within a second. If Redis cannot be read a snapshot
# lives ``SNAPSHOT_TTL`` seconds.
# Every cache here is bounded, least recently used out first: a process keeps the snapshots of
# at most ``STOREFRONT_CACHE_MERCHANTS`` merchants, each with at most ``MAX_CACHED_PRODUCTS``
# products and rendered offers of ``MAX_FRAGMENT_CHARS`` characters in all (a size, not a
# count: each variant of an offer is a few KB). Only known merchants get a snapshot:
# a malformed id is refused before any lookup, and a well-formed id of no merchant is only
# remembered, for ``UNKNOWN_TTL`` seconds, among at most ``MAX_UNKNOWN`` others. cachetools'
# caches are not thread-safe, so every use holds ``_LOCK`` (never contended in a gunicorn sync
# worker, which serves one request at a time).
# Opt-ins are never cached: they are read per request.

SNAPSHOT_TTL = 30.0
CHECK_EVERY = 1.0  # seconds between two looks at the generation in Redis
UNKNOWN_TTL = 5.0
MAX_UNKNOWN = 256
MAX_CACHED_PRODUCTS = 20_000  # per merchant
_LOCK = threading.Lock()


@dataclass(frozen=True)
class OfferSettings:
    """An offer's settings, detached from the database (cached, and safe across requests)."""

    public_id: str
    location: str
    offer_type: str
    optin_label: str
    optout_label: str
    every_label: str
    tooltip_trigger: str
    tooltip: str
    show_tooltip: bool
    frequencies: tuple[str, ...]
    default_frequency: str
    incentive_ids: tuple[str, ...] | None
    active: bool

    @classmethod
    def of(cls, offer: Offer) -> OfferSettings:
        return cls(
            public_id=offer.public_id,
            location=offer.location,
            offer_type=offer.offer_type,
            optin_label=offer.optin_label,
            optout_label=offer.optout_label,
            every_label=offer.every_label,
            tooltip_trigger=offer.tooltip_trigger,
            tooltip=offer.tooltip,
            show_tooltip=bool(offer.show_tooltip),
            frequencies=tuple(offer.frequencies or ()),
            default_frequency=offer.default_frequency,
            incentive_ids=None if offer.incentive_ids is None else tuple(offer.incentive_ids),
            active=bool(offer.active),
        )


@dataclass(frozen=True)
class ProductInfo:
    """What an offer needs of a catalog product."""

    product_id: str
    name: str
    price_minor: int
    currency: str
    eligible: bool
    in_stock: bool
    allowed: tuple[str, ...]  # console override of the frequencies, "every_period" codes
    default: str | None  # the product's default frequency (console, else feed)
    groups: frozenset[str]  # incentive groups

    @classmethod
    def of(cls, product: Product) -> ProductInfo:
        default = products.default_frequency(product)
        return cls(
            product_id=product.product_id,
            name=product.name,
            price_minor=product.price_minor,
            currency=product.currency,
            eligible=product.subscription_eligible,
            in_stock=bool(product.in_stock),
            allowed=tuple(
                f"{f['every']}_{f['every_period']}" for f in product.allowed_frequencies or []
            ),
            default=f"{default['every']}_{default['every_period']}" if default else None,
            groups=frozenset(g.name for g in product.groups if g.group_type == "incentive"),
        )

    def line(self) -> pricing.Line:
        return pricing.Line(
            product_id=self.product_id,
            price_minor=self.price_minor,
            groups=self.groups,
            currency=self.currency,
        )


@dataclass(frozen=True)
class Tracked:
    """One opt-in of a session."""

    product_id: str
    offer_id: str
    every: int
    every_period: int

    @property
    def frequency(self) -> str:
        return f"{self.every}_{self.every_period}"


@dataclass
class Shop:
    """A merchant as its storefront sees it: cached per web process (see above)."""

    id: int
    public_id: str
    currency: str
    allowed_origins: frozenset[str]
    offers: dict[str, OfferSettings]
    incentives: tuple[pricing.Terms, ...]
    generation: bytes | None
    loaded: float
    checked: float = 0.0
    products: LRUCache[str, ProductInfo | None] = field(
        default_factory=lambda: LRUCache(MAX_CACHED_PRODUCTS)
    )
    # Rendered offers by what shapes them (see ``fragments``), valid until ``fresh_until``.
    fragments: LRUCache[tuple, str] = field(
        default_factory=lambda: LRUCache(MAX_FRAGMENT_CHARS, getsizeof=len)
    )
    fresh_until: datetime | None = None

    def offer_for(self, location: str) -> OfferSettings | None:
        offer = self.offers.get(location) or self.offers.get(DEFAULT_LOCATION)
        return offer if offer is not None and offer.active else None


@dataclass
class Snapshots:
    """One app's storefront snapshots in this process (see above), in ``app.extensions``."""

    shops: LRUCache[str, Shop]  # known merchants by public id
    unknown: TTLCache[str, bool]  # well-formed public ids that are no merchant's
    # The same snapshots by merchant id, for ``bump``; an evicted one drops out by itself.
    by_id: WeakValueDictionary[int, Shop] = field(default_factory=WeakValueDictionary)

    @classmethod
    def holding(cls, size: int) -> Snapshots:
        """Caches for the snapshots of at most ``size`` merchants."""
        return cls(
            shops=LRUCache(size), unknown=TTLCache(MAX_UNKNOWN, UNKNOWN_TTL, timer=time.monotonic)
        )


_GENERATION_KEY = "perennial:storefront:{}"


def shop_for(public_id: str) -> Shop | None:
    """The storefront snapshot of the merchant with this public id (None: no such merchant)."""
    if not merchants.PUBLIC_ID_RE.fullmatch(public_id or ""):
        return None  # never looked up, never cached: the URL is anyone's to make up
    snapshots: Snapshots = current_app.extensions["storefront"]
    now = time.monotonic()
    with _LOCK:
        cached = snapshots.shops.get(public_id)
        if cached is None and public_id in snapshots.unknown:
            return None
    if cached is not None and now - cached.checked < CHECK_EVERY:
        return cached  # this process's own changes clear the cache at once (``bump``)
    generation = _generation(cached.id) if cached is not None else None
    if cached is not None and generation is not None and generation == cached.generation:
        cached.checked = now
        return cached
    if cached is not None and generation is None and now - cached.loaded < SNAPSHOT_TTL:
        return cached
    merchant = merchants.get_by_public_id(public_id)
    if merchant is None:
        with _LOCK:
            snapshots.shops.pop(public_id, None)
            snapshots.unknown[public_id] = True
        return None
    fresh = _load_shop(merchant, now)
    with _LOCK:
        snapshots.shops[public_id] = snapshots.by_id[fresh.id] = fresh
    return fresh


def _load_shop(merchant: Merchant, now: float) -> Shop:
    ensure_default(merchant.id)  # may commit, and so bump: before the generation is read
    generation = _generation(merchant.id)  # then read: a change after it bumps it again
    offers = {
        o.location: OfferSettings.of(o)
        for o in db.session.scalars(select(Offer).where(Offer.merchant_id == merchant.id))
    }
    incentives = tuple(pricing.active_incentives(merchant.id, None))
    return Shop(
        id=merchant.id,
        public_id=merchant.public_id,
        currency=merchant.currency,
        allowed_origins=frozenset(merchant.allowed_origins or ()),
        offers=offers,
        incentives=incentives,
        generation=generation,
        loaded=now,
        checked=now,
        fresh_until=_next_boundary(incentives, utcnow()),
    )


def _next_boundary(incentives: Iterable[pricing.Terms], now: datetime) -> datetime | None:
    """When the next scheduled incentive starts or ends: what offers promise changes then."""
    moments = [m for t in incentives for m in (t.starts_at, t.ends_at) if m and m > now]
    return min(moments, default=None)


def _generation(merchant_id: int) -> bytes | None:
    try:
        return queue.redis().get(_GENERATION_KEY.format(merchant_id)) or b"0"
    except RedisError:
        return None


def bump(merchant_ids: Iterable[int]) -> None:
    """Tell every web process that these merchants' storefront data changed."""
    ids = set(merchant_ids)
    snapshots: Snapshots = current_app.extensions["storefront"]
    with _LOCK:
        for merchant_id in ids:
            shop = snapshots.by_id.pop(merchant_id, None)
            if shop is not None:
                snapshots.shops.pop(shop.public_id, None)
    try:
        pipe = queue.redis().pipeline(transaction=False)
        for merchant_id in ids:
            pipe.incr(_GENERATION_KEY.format(merchant_id))
        pipe.execute()
    except RedisError:
        current_app.logger.warning(
            "could not bump the storefront generation; caches expire within %s s", SNAPSHOT_TTL
        )


def _watched(session, _flush_context) -> None:
    touched = session.info.setdefault("storefront_touched", set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Merchant):
            touched.add(obj.id)
        elif isinstance(obj, WATCHED) and obj.merchant_id is not None:
            touched.add(obj.merchant_id)


def _committed(session) -> None:
    touched = session.info.pop("storefront_touched", None)
    if touched:
        bump(touched)


def _rolled_back(session, _previous) -> None:
    session.info.pop("storefront_touched", None)


def init_app(app: Flask) -> None:
    """Give the app its storefront snapshots, and bump a merchant's storefront generation
    whenever a commit changed its data."""
    app.extensions["storefront"] = Snapshots.holding(app.config["STOREFRONT_CACHE_MERCHANTS"])
    if not event.contains(Session, "after_flush", _watched):
        event.listen(Session, "after_flush", _watched)
        event.listen(Session, "after_commit", _committed)
        event.listen(Session, "after_soft_rollback", _rolled_back)


def catalog_products(shop: Shop, product_ids: Iterable[str]) -> dict[str, ProductInfo | None]:
    """The products asked for, from the snapshot, loading those it has not seen yet."""
    found: dict[str, ProductInfo | None] = {}
    missing = []
    with _LOCK:
        for pid in {pid for pid in product_ids if pid}:
            info = shop.products.get(pid, _UNSEEN)
            if info is _UNSEEN:
                missing.append(pid)
            else:
                found[pid] = info
    if missing:
        loaded = _products(shop.id, missing)
        for pid in missing:  # answered from here: storing them may evict some of the others
            product = loaded.get(pid)
            found[pid] = ProductInfo.of(product) if product is not None else None
        with _LOCK:
            for pid in missing:
                shop.products[pid] = found[pid]
    return found


_UNSEEN = object()


def _products(merchant_id: int, product_ids: Iterable[str]) -> dict[str, Product]:
    wanted = [pid for pid in product_ids if pid]
    if not wanted:
        return {}
    query = (
        select(Product)
        .options(selectinload(Product.groups))
        .where(Product.merchant_id == merchant_id, Product.product_id.in_(wanted))
    )
    return {p.product_id: p for p in db.session.scalars(query)}


_TRACKED = (
    select(OptIn.product_id, OptIn.offer_id, OptIn.every, OptIn.every_period)
    .where(OptIn.merchant_id == bindparam("merchant"), OptIn.session_id == bindparam("session"))
    .order_by(OptIn.id)
)  # built once: this runs on every product page view


def tracked(merchant_id: int, session_id: str | None) -> dict[str, Tracked]:
    """The session's opt-ins, read fresh: one indexed query, straight to the driver (this
    runs on every product page view, so it skips the ORM session and statement compiling)."""
    if not session_id:
        return {}
    with db.engine.connect() as conn:
        sql = _TRACKED_SQL.get(conn.dialect.paramstyle)
        if sql is None:
            sql = _TRACKED_SQL[conn.dialect.paramstyle] = str(
                _TRACKED.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
            )
        params = _driver_params(conn.dialect.paramstyle, merchant_id, session_id)
        rows = conn.exec_driver_sql(sql, params).all()
    return {row[0]: Tracked(*row) for row in rows}


_TRACKED_SQL: dict[str, str] = {}  # by DB-API paramstyle: a handful of entries at most


def _driver_params(paramstyle: str, merchant_id: int, session_id: str) -> Any:
    if paramstyle in ("qmark", "format", "numeric"):
        return (merchant_id, session_id)
    return {"merchant": merchant_id, "session": session_id}  # named, pyformat


@dataclass(frozen=True)
class Context:
    """What every offer of one request shares: settings, incentives, the session's opt-ins."""

    shop: Shop
    optins: dict[str, Tracked]
    now: datetime


def context_for(shop: Shop, session_id: str | None) -> Context:
    valid = session_id if session_merchant(session_id or "") == shop.public_id else None
    return Context(shop=shop, optins=tracked(shop.id, valid), now=utcnow())


KEY_PLACEHOLDER = "OGKEY0"  # rendered in place of the page's key, then replaced
MAX_FRAGMENT_CHARS = 2_000_000  # per merchant: about 600 offer variants
MAX_CACHED_VARIANT = 400  # characters; a URL on any real host name is shorter


def fragments(
    shop: Shop,
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
        with _LOCK:
            shop.fragments.clear()
        shop.fresh_until = _next_boundary(shop.incentives, context.now)
    found = catalog_products(shop, {slot.product_id for slot in slots})
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
        with _LOCK:
            cached = shop.fragments.get(key) if keep else None
        if cached is None:
            shown = view(context, found.get(slot.product_id), replace(slot, key=KEY_PLACEHOLDER))
            cached = render(shown) if shown is not None else ""
            if keep:
                with _LOCK:
                    shop.fragments[key] = cached
        html.append(cached.replace(KEY_PLACEHOLDER, slot.key))
    return html, context


def view(
    context: Context, product: ProductInfo | None, slot: Slot, *, offer: OfferSettings | None = None
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
    offer: OfferSettings, product: ProductInfo, optin: Tracked | None
) -> tuple[Choice, ...]:
    codes = list(product.allowed or offer.frequencies)
    extras = (None if product.allowed else product.default, optin.frequency if optin else None)
    for extra in extras:
        if extra and extra not in codes:
            codes.insert(0, extra)
    choices = []
    for code in dict.fromkeys(codes):
        try:
            choices.append(frequency_choice(code))
        except ValueError:
            continue  # a feed frequency we cannot show (every above 999) is skipped
    return tuple(choices) or (frequency_choice(offer.default_frequency),)


def advertised_incentives(
    incentives: Sequence[pricing.Terms], offer: Offer | OfferSettings, line: pricing.Line
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
        attrs = _validated(merchant.id, data)
    except ValidationError as exc:
        return None, exc.fields
    offer = OfferSettings(
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
    product = _products(merchant.id, [product_id]).get(product_id) if product_id else None
    info = ProductInfo.of(product) if product is not None else None
    if info is None or not info.eligible or not info.in_stock:
        info = ProductInfo(
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
    shop = Shop(
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


# -- opt-ins --------------------------------------------------------------------------------


def choose(
    merchant: Merchant | Shop,
    session_id: str,
    slot: Slot,
    *,
    subscribed: bool,
    frequency: str | None,
) -> OfferView | None:
    """The shopper opted in (at ``frequency``) or out; return the offer as it now reads.

    Opting in to a product that cannot be subscribed to (unknown, ineligible, out of stock)
    is refused; opting out always works, so a stale opt-in can always be removed.
    """
    check_session(merchant, session_id)
    shop = merchant if isinstance(merchant, Shop) else shop_for(merchant.public_id)
    context = context_for(shop, session_id)
    product = catalog_products(shop, [slot.product_id]).get(slot.product_id)
    current = view(context, product, slot)
    if not subscribed:
        db.session.execute(
            delete(OptIn).where(
                OptIn.merchant_id == shop.id,
                OptIn.session_id == session_id,
                OptIn.product_id == slot.product_id,
            )
        )
        db.session.commit()
        context.optins.pop(slot.product_id, None)
        shown = view(context, product, slot)
        if shown is not None and frequency in {c.code for c in shown.frequencies}:
            shown = _replace_frequency(shown, frequency)
        return shown
    if current is None:
        raise ValidationError("This product cannot be subscribed to.")
    if frequency not in {c.code for c in current.frequencies}:
        raise ValidationError("Choose one of the offered frequencies.")
    every, period = Frequency.parse(frequency).as_tuple()
    _upsert(shop.id, session_id, slot.product_id, current.offer.public_id, every, period)
    context.optins[slot.product_id] = Tracked(
        slot.product_id, current.offer.public_id, every, period
    )
    return view(context, product, slot)


def _replace_frequency(shown: OfferView, frequency: str) -> OfferView:
    """Keep the shopper's frequency pick on screen while they buy once."""
    values = {f: getattr(shown, f) for f in shown.__dataclass_fields__}
    return OfferView(**{**values, "frequency": frequency})


def _upsert(
    merchant_id: int, session_id: str, product_id: str, offer_id: str, every: int, period: int
) -> None:
    for _attempt in range(2):
        row = db.session.scalar(
            select(OptIn).where(
                OptIn.merchant_id == merchant_id,
                OptIn.session_id == session_id,
                OptIn.product_id == product_id,
            )
        )
        if row is None:
            row = OptIn(merchant_id=merchant_id, session_id=session_id, product_id=product_id)
            db.session.add(row)
        row.offer_id, row.every, row.every_period = offer_id, every, period
        try:
            db.session.commit()
            return
        except IntegrityError:  # a concurrent click inserted the same row: update it instead
            db.session.rollback()
    raise ValidationError("The opt-in could not be saved; please retry.")


def clear(merchant: Merchant | Shop, session_id: str) -> int:
    """Forget every opt-in of the session (after checkout, or ``og.offers.clear()``)."""
    check_session(merchant, session_id)
    result = db.session.execute(
        delete(OptIn).where(OptIn.merchant_id == merchant.id, OptIn.session_id == session_id)
    )
    db.session.commit()
    return result.rowcount or 0


def tracking(session_id: str, rows: Iterable[OptIn | Tracked]) -> list[dict[str, Any]]:
    """``og.offers.getOptins()`` / purchase-POST ``products`` entries (contracts §2.2, T12)."""
    return [
        {
            "product": row.product_id,
            "subscription_info": {"components": []},
            "tracking_override": {
                "offer": row.offer_id,
                "every": row.every,
                "every_period": row.every_period,
                "session_id": session_id,
            },
        }
        for row in rows
    ]


def cart(shop: Shop, session_id: str) -> dict[str, Any]:
    """``GET /carts/<session_id>/``: the session's opted-in items with their incentives."""
    context = context_for(shop, session_id)
    found = catalog_products(shop, context.optins)
    by_offer = {o.public_id: o for o in shop.offers.values()}
    items = []
    for row in context.optins.values():
        product = found.get(row.product_id)
        offer = by_offer.get(row.offer_id) or shop.offer_for(DEFAULT_LOCATION)
        incentives: dict[str, list[str]] = {"initial": [], "ongoing": []}
        if product is not None and offer is not None:
            advertised = [
                t
                for t in advertised_incentives(shop.incentives, offer, product.line())
                if live_at(t, context.now)
            ]
            incentives = {
                "initial": [
                    t.public_id
                    for t in advertised
                    if t.applies_to != "ongoing" and (t.min_order_number or 1) == 1
                ],
                "ongoing": [
                    t.public_id
                    for t in advertised
                    if t.applies_to != "initial"
                    and (t.max_order_number is None or t.max_order_number >= 2)
                ],
            }
        items.append(
            {
                "id": row.product_id,
                "offer_id": row.offer_id,
                "incentives": incentives,
                "attributes": {},
                "coupon_code": None,
                "quantity": 1,
                "every": row.every,
                "every_period": row.every_period,
            }
        )
    return {"session_id": session_id, "merchant": shop.public_id, "items": items}


WATCHED = (Offer, Incentive, Product, ProductGroup, FeedRun)  # FeedRun: bulk catalog writes
