"""The catalog as merchants and API clients see it: queries, JSON shape, console overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from app.domain import money
from app.domain.frequency import Frequency
from app.extensions import db
from app.models import Product
from app.services import events, pagination
from app.services.errors import NotFound, ValidationError

MAX_PAGE_SIZE = pagination.MAX_PAGE_SIZE
FLAG_FILTERS = ("eligible", "in_stock", "discontinued", "in_latest_feed")


def get(merchant_id: int, product_id: str) -> Product:
    product = db.session.scalar(
        select(Product)
        .options(selectinload(Product.groups))
        .where(Product.merchant_id == merchant_id, Product.product_id == product_id)
    )
    if product is None:
        raise NotFound()
    return product


def _filtered(merchant_id: int, filters: dict[str, Any]) -> Select:
    query = select(Product).where(Product.merchant_id == merchant_id)
    term = (filters.get("search") or "").strip()
    if term:
        term = term.lower()  # % and _ are matched literally (autoescape)
        query = query.where(
            or_(
                *(
                    func.lower(column).contains(term, autoescape=True)
                    for column in (Product.name, Product.product_id, Product.sku)
                )
            )
        )
    if filters.get("eligible") is not None:
        eligible = func.coalesce(Product.eligible_override, Product.autoship_eligible)
        wanted = eligible.is_(True) & Product.discontinued.is_(False)
        query = query.where(wanted if filters["eligible"] else ~wanted)
    for name in ("in_stock", "discontinued", "in_latest_feed"):
        if filters.get(name) is not None:
            query = query.where(getattr(Product, name).is_(bool(filters[name])))
    if filters.get("updated_start"):
        query = query.where(Product.updated_at >= filters["updated_start"])
    if filters.get("updated_end"):
        query = query.where(Product.updated_at <= filters["updated_end"])
    return query


def page(
    merchant_id: int, filters: dict[str, Any], request: pagination.PageRequest
) -> pagination.Page[Product]:
    """One page in product-row order (a cursor page survives inserts between calls)."""
    query = _filtered(merchant_id, filters).options(selectinload(Product.groups))
    return pagination.paginate(query, Product.id, scope=f"products:{merchant_id}", request=request)


def count(merchant_id: int, filters: dict[str, Any]) -> int:
    query = _filtered(merchant_id, filters).with_only_columns(func.count(Product.id))
    return db.session.scalar(query.order_by(None))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def to_dict(product: Product) -> dict[str, Any]:
    """The REST shape: the feed's values, eligibility and stock, plus console overrides."""
    default = default_frequency(product)
    return {
        "product_id": product.product_id,
        "external_product_id": product.product_id,
        "sku": product.sku,
        "name": product.name,
        "price": money.decimal_string(product.price_minor, product.currency),
        "price_minor": product.price_minor,
        "currency_code": product.currency,
        "details_url": product.details_url,
        "detail_url": product.details_url,
        "image_url": product.image_url,
        "autoship_eligible": product.autoship_eligible,
        "autoship_enabled": product.subscription_eligible,
        "eligibility_override": product.eligible_override,
        "upsell_eligible": product.upsell_eligible,
        "in_stock": product.in_stock,
        "live": product.in_stock,
        "discontinued": product.discontinued,
        "every": product.every,
        "every_period": product.every_period,
        "default_frequency": default,
        "allowed_frequencies": product.allowed_frequencies,
        "product_type": product.product_type,
        "groups": [{"group_type": g.group_type, "name": g.name} for g in product.groups],
        "extra_data": product.extra_data or {},
        "relationships": _relationships(product),
        "in_latest_feed": product.in_latest_feed,
        "created": _iso(product.created_at),
        "updated": _iso(product.updated_at),
    }


def _relationships(product: Product) -> list[dict[str, str]]:
    if not product.replacement_product_id:
        return []
    name = (
        "discontinued_silent_replacement"
        if product.replacement_silent
        else "discontinued_replacement"
    )
    return [{"name": name, "product_id": product.replacement_product_id}]


def default_frequency(product: Product) -> dict[str, int] | None:
    every = product.default_every or product.every
    period = product.default_every_period if product.default_every else product.every_period
    return {"every": every, "every_period": period} if every and period else None


def parse_frequencies(text: str) -> list[dict[str, int]] | None:
    """Parse "2_2, 4_2, 1_3" (every_period) into a list; empty means the merchant's default."""
    items = [t for t in text.replace(",", " ").split() if t]
    result = []
    for item in items:
        try:
            pair = Frequency.parse(item).as_dict()
        except ValueError:
            raise ValueError(
                f"{item[:20]!r}: use every_period pairs such as 4_2 (every 4 weeks)."
            ) from None
        if pair not in result:
            result.append(pair)
    return result or None


def update_overrides(
    merchant_id: int, product_id: str, form: dict[str, str], *, actor: events.Actor
) -> Product:
    """Save the console's eligibility and frequency settings; the feed never overwrites them."""
    product = get(merchant_id, product_id)
    errors: dict[str, str] = {}
    override = {"": None, "yes": True, "no": False}.get(form.get("eligible_override", ""), "bad")
    if override == "bad":
        errors["eligible_override"] = "Choose follow the feed, yes or no."
    try:
        allowed = parse_frequencies(form.get("allowed_frequencies", ""))
    except ValueError as exc:
        errors["allowed_frequencies"] = str(exc)
        allowed = None
    default = (form.get("default_frequency") or "").strip()
    try:
        parsed = parse_frequencies(default)
        if parsed and len(parsed) != 1:
            raise ValueError("Give a single frequency such as 4_2.")
    except ValueError as exc:
        errors["default_frequency"] = str(exc)
        parsed = None
    if parsed and allowed and parsed[0] not in allowed:
        errors["default_frequency"] = "The default must be one of the allowed frequencies."
    if errors:
        raise ValidationError("Please correct the highlighted fields.", fields=errors)
    before = _overrides(product)
    product.eligible_override = override
    product.upsell_eligible = form.get("upsell_eligible") in ("on", "1", "true", "yes")
    product.allowed_frequencies = allowed
    product.default_every = parsed[0]["every"] if parsed else None
    product.default_every_period = parsed[0]["every_period"] if parsed else None
    old, new = events.diff(before, _overrides(product))
    if new:
        events.record(
            merchant_id,
            "product.update",
            actor,
            object_type="product",
            object_id=product.product_id,
            before=old,
            after=new,
        )
    db.session.commit()
    return product


def _overrides(product: Product) -> dict[str, Any]:
    return {
        "eligible_override": product.eligible_override,
        "upsell_eligible": product.upsell_eligible,
        "allowed_frequencies": product.allowed_frequencies,
        "default_every": product.default_every,
        "default_every_period": product.default_every_period,
    }
