"""Write a parsed feed into the catalog: batched upserts that cost nothing when unchanged."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, bindparam, case, delete, insert, select, update

from app.extensions import db
from app.integrations.xml.feed import FeedProduct
from app.models import Product, ProductGroup
from app.models.types import utcnow


@dataclass
class Counts:
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    discontinued_ids: list[int] = field(default_factory=list)


def feed_hash(item: FeedProduct) -> str:
    """Digest every feed value of a product, to skip writes when nothing changed."""
    parts = (
        item.sku, item.name, item.price_minor, item.details_url, item.image_url,
        item.autoship_eligible, item.in_stock, item.discontinued, item.groups,
        sorted(dict(item.extra_data).items()), item.replacement, item.replacement_silent,
        item.every, item.every_period,
    )  # not product_type: it is set at creation only, so a later change is no change
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()


def _values(item: FeedProduct, digest: str, run_id: int) -> dict:
    return {
        "sku": item.sku,
        "name": item.name,
        "price_minor": item.price_minor,
        "details_url": item.details_url,
        "image_url": item.image_url,
        "autoship_eligible": bool(item.autoship_eligible),
        "in_stock": item.in_stock,
        "discontinued": bool(item.discontinued),
        "every": item.every,
        "every_period": item.every_period,
        "extra_data": dict(item.extra_data),
        "replacement_product_id": item.replacement,
        "replacement_silent": item.replacement_silent,
        "feed_hash": digest,
        "last_feed_run_id": run_id,
        "in_latest_feed": True,
    }


def upsert_batch(
    merchant_id: int, currency: str, run_id: int, items: list[FeedProduct], counts: Counts
) -> None:
    """Insert new products, update changed ones, and mark every one as seen by this run."""
    if not items:
        return
    conn = db.session.connection()
    existing = {
        row.product_id: row
        for row in conn.execute(
            select(Product.id, Product.product_id, Product.feed_hash).where(
                Product.merchant_id == merchant_id,
                Product.product_id.in_([i.product_id for i in items]),
            )
        )
    }
    now = utcnow()
    new_rows, changed_rows, unchanged, regroup = [], [], [], []
    for item in items:
        digest = feed_hash(item)
        row = existing.get(item.product_id)
        if row is None:
            new_rows.append({**_values(item, digest, run_id), "merchant_id": merchant_id,
                             "product_id": item.product_id, "currency": currency,
                             "product_type": item.product_type or "standard",
                             "created_at": now, "updated_at": now})
            regroup.append(item)
        elif row.feed_hash != digest:
            changed_rows.append({**_values(item, digest, run_id), "b_id": row.id,
                                 "updated_at": now})
            regroup.append(item)
        else:
            unchanged.append(row.id)
    _write(conn, new_rows, changed_rows, unchanged, run_id)
    ids = _regroup(conn, merchant_id, regroup)
    counts.created += len(new_rows)
    counts.updated += len(changed_rows)
    counts.unchanged += len(unchanged)
    counts.discontinued_ids.extend(
        ids.get(i.product_id) or existing[i.product_id].id for i in items if i.discontinued
    )


def _write(conn: Connection, new_rows: list, changed_rows: list, unchanged: list[int],
           run_id: int) -> None:
    if new_rows:
        conn.execute(insert(Product), new_rows)
    if changed_rows:
        stmt = update(Product).where(Product.id == bindparam("b_id"))
        conn.execute(stmt, changed_rows)
    if unchanged:
        conn.execute(
            update(Product).where(Product.id.in_(unchanged)).values(
                last_feed_run_id=run_id, in_latest_feed=True,
                updated_at=Product.updated_at)  # bookkeeping, not a change to the product
        )


def _regroup(conn: Connection, merchant_id: int, items: list[FeedProduct]) -> dict[str, int]:
    """Replace the group memberships of new and changed products; return their row ids."""
    if not items:
        return {}
    ids = dict(conn.execute(
        select(Product.product_id, Product.id).where(
            Product.merchant_id == merchant_id,
            Product.product_id.in_([i.product_id for i in items]),
        )
    ).all())
    conn.execute(delete(ProductGroup).where(ProductGroup.product_id.in_(list(ids.values()))))
    rows = [
        {"merchant_id": merchant_id, "product_id": ids[i.product_id], "group_type": kind,
         "name": name}
        for i in items for kind, name in dict.fromkeys(i.groups)
    ]
    if rows:
        conn.execute(insert(ProductGroup), rows)
    return ids


def mark_seen(merchant_id: int, run_id: int, product_ids: list[str]) -> None:
    """Count products the file named but refused as present in this feed (nothing else moves)."""
    conn = db.session.connection()
    for start in range(0, len(product_ids), 500):
        conn.execute(
            update(Product)
            .where(Product.merchant_id == merchant_id,
                   Product.product_id.in_(product_ids[start : start + 500]))
            .values(last_feed_run_id=run_id, updated_at=Product.updated_at)
        )


def mark_latest(merchant_id: int, run_id: int) -> None:
    """Flag products the latest successful feed did not mention (they are left unchanged)."""
    db.session.connection().execute(
        update(Product)
        .where(Product.merchant_id == merchant_id)
        .values(in_latest_feed=case((Product.last_feed_run_id == run_id, True), else_=False),
                updated_at=Product.updated_at)
    )


def by_product_ids(merchant_id: int, product_ids: Iterable[str]) -> dict[str, Product]:
    query = select(Product).where(Product.merchant_id == merchant_id,
                                  Product.product_id.in_(list(product_ids)))
    return {p.product_id: p for p in db.session.scalars(query)}
