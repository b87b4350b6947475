"""The storefront snapshot of each merchant (``Shop``): cached per web process, invalidated
on commit.

The storefront's hot path (every product page view) reads a cached snapshot of the merchant:
its offers, incentives and the catalog products asked for. A snapshot is valid while the
merchant's generation number in Redis is unchanged; any commit that touches the merchant's
offers, incentives, products or settings bumps it (see ``init_app``). The process that made
the change drops its snapshot at once; the others look at the generation at most every
``CHECK_EVERY`` second, so they follow within a second. If Redis cannot be read a snapshot
lives ``SNAPSHOT_TTL`` seconds.
Every cache here is bounded, least recently used out first: a process keeps the snapshots of
at most ``STOREFRONT_CACHE_MERCHANTS`` merchants, each with at most ``MAX_CACHED_PRODUCTS``
products and rendered offers of ``MAX_FRAGMENT_CHARS`` characters in all (a size, not a
count: each variant of an offer is a few KB). Only known merchants get a snapshot:
a malformed id is refused before any lookup, and a well-formed id of no merchant is only
remembered, for ``UNKNOWN_TTL`` seconds, among at most ``MAX_UNKNOWN`` others. cachetools'
caches are not thread-safe, so every use holds ``LOCK`` (never contended in a gunicorn sync
worker, which serves one request at a time).
Opt-ins are never cached: they are read per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from weakref import WeakValueDictionary

from cachetools import LRUCache, TTLCache
from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload

from app.extensions import db
from app.jobs import queue
from app.models import FeedRun, Incentive, Merchant, Offer, Product, ProductGroup
from app.models.offer import DEFAULT_LOCATION
from app.models.types import utcnow
from app.services import merchants, pricing, products

SNAPSHOT_TTL = 30.0
CHECK_EVERY = 1.0  # seconds between two looks at the generation in Redis
UNKNOWN_TTL = 5.0
MAX_UNKNOWN = 256
MAX_CACHED_PRODUCTS = 20_000  # per merchant
LOCK = threading.Lock()
MAX_FRAGMENT_CHARS = 2_000_000  # per merchant: about 600 offer variants


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
    upsell: bool = False  # instant-upsell eligible (console)

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
            upsell=bool(product.upsell_eligible),
        )

    def line(self) -> pricing.Line:
        return pricing.Line(
            product_id=self.product_id,
            price_minor=self.price_minor,
            groups=self.groups,
            currency=self.currency,
        )


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
    upsell_locations: frozenset[str] = frozenset()  # where instant upsell is on

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
    reads: Engine | None = None  # see ``_reads``

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
    with LOCK:
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
        with LOCK:
            snapshots.shops.pop(public_id, None)
            snapshots.unknown[public_id] = True
        return None
    fresh = _load_shop(merchant, now)
    with LOCK:
        snapshots.shops[public_id] = snapshots.by_id[fresh.id] = fresh
    return fresh


def _load_shop(merchant: Merchant, now: float) -> Shop:
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
        fresh_until=next_boundary(incentives, utcnow()),
        upsell_locations=frozenset(
            loc for loc in merchant.upsell_locations or () if isinstance(loc, str)
        ),
    )


def next_boundary(incentives: Iterable[pricing.Terms], now: datetime) -> datetime | None:
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
    with LOCK:
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
    with LOCK:
        for pid in {pid for pid in product_ids if pid}:
            info = shop.products.get(pid, _UNSEEN)
            if info is _UNSEEN:
                missing.append(pid)
            else:
                found[pid] = info
    if missing:
        loaded = products_by_id(shop.id, missing)
        for pid in missing:  # answered from here: storing them may evict some of the others
            product = loaded.get(pid)
            found[pid] = ProductInfo.of(product) if product is not None else None
        with LOCK:
            for pid in missing:
                shop.products[pid] = found[pid]
    return found


_UNSEEN = object()


def products_by_id(merchant_id: int, product_ids: Iterable[str]) -> dict[str, Product]:
    wanted = [pid for pid in product_ids if pid]
    if not wanted:
        return {}
    query = (
        select(Product)
        .options(selectinload(Product.groups))
        .where(Product.merchant_id == merchant_id, Product.product_id.in_(wanted))
    )
    return {p.product_id: p for p in db.session.scalars(query)}


WATCHED = (Offer, Incentive, Product, ProductGroup, FeedRun)  # FeedRun: bulk catalog writes
