"""Shoppers' opt-ins: tracked per ``og_session_id`` and product (one row; a repeat click
updates it). They are anonymous shopper state, not events: the purchase POST turns them into
subscriptions and records those.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.domain.frequency import Frequency
from app.extensions import db
from app.models import Merchant, OptIn
from app.models.offer import DEFAULT_LOCATION
from app.services import offer_views, shopper_sessions, shops
from app.services.errors import ValidationError


def choose(
    merchant: Merchant | shops.Shop,
    session_id: str,
    slot: offer_views.Slot,
    *,
    subscribed: bool,
    frequency: str | None,
) -> offer_views.OfferView | None:
    """The shopper opted in (at ``frequency``) or out; return the offer as it now reads.

    Opting in to a product that cannot be subscribed to (unknown, ineligible, out of stock)
    is refused; opting out always works, so a stale opt-in can always be removed.
    """
    shopper_sessions.check_session(merchant, session_id)
    shop = merchant if isinstance(merchant, shops.Shop) else shops.shop_for(merchant.public_id)
    context = offer_views.context_for(shop, session_id)
    product = shops.catalog_products(shop, [slot.product_id]).get(slot.product_id)
    current = offer_views.view(context, product, slot)
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
        shown = offer_views.view(context, product, slot)
        if shown is not None and frequency in {c.code for c in shown.frequencies}:
            shown = _replace_frequency(shown, frequency)
        return shown
    if current is None:
        raise ValidationError("This product cannot be subscribed to.")
    if frequency not in {c.code for c in current.frequencies}:
        raise ValidationError("Choose one of the offered frequencies.")
    every, period = Frequency.parse(frequency).as_tuple()
    _upsert(shop.id, session_id, slot.product_id, current.offer.public_id, every, period)
    context.optins[slot.product_id] = shopper_sessions.Tracked(
        slot.product_id, current.offer.public_id, every, period
    )
    return offer_views.view(context, product, slot)


def _replace_frequency(shown: offer_views.OfferView, frequency: str) -> offer_views.OfferView:
    """Keep the shopper's frequency pick on screen while they buy once."""
    values = {f: getattr(shown, f) for f in shown.__dataclass_fields__}
    return offer_views.OfferView(**{**values, "frequency": frequency})


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


def clear(merchant: Merchant | shops.Shop, session_id: str) -> int:
    """Forget every opt-in of the session (after checkout, or ``og.offers.clear()``)."""
    shopper_sessions.check_session(merchant, session_id)
    result = db.session.execute(
        delete(OptIn).where(OptIn.merchant_id == merchant.id, OptIn.session_id == session_id)
    )
    db.session.commit()
    return result.rowcount or 0


def tracking(
    session_id: str, rows: Iterable[OptIn | shopper_sessions.Tracked]
) -> list[dict[str, Any]]:
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


def cart(shop: shops.Shop, session_id: str) -> dict[str, Any]:
    """``GET /carts/<session_id>/``: the session's opted-in items with their incentives."""
    context = offer_views.context_for(shop, session_id)
    found = shops.catalog_products(shop, context.optins)
    by_offer = {o.public_id: o for o in shop.offers.values()}
    items = []
    for row in context.optins.values():
        product = found.get(row.product_id)
        offer = by_offer.get(row.offer_id) or shop.offer_for(DEFAULT_LOCATION)
        incentives: dict[str, list[str]] = {"initial": [], "ongoing": []}
        if product is not None and offer is not None:
            advertised = [
                t
                for t in offer_views.advertised_incentives(shop.incentives, offer, product.line())
                if offer_views.live_at(t, context.now)
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
