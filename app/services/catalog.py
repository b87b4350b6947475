"""Write a parsed feed into the catalog: batched upserts that cost nothing when unchanged."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import (
    Connection,
    String,
    any_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

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
    # Set by the run's first batch: the merchant had no products, so every product is new.
    catalog_was_empty: bool | None = None


def feed_hash(item: FeedProduct) -> str:
    """Digest every feed value of a product, to skip writes when nothing changed."""
    parts = (
        item.sku,
        item.name,
        item.price_minor,
        item.details_url,
        item.image_url,
        item.autoship_eligible,
        item.in_stock,
        item.discontinued,
        item.groups,
        sorted(dict(item.extra_data).items()),
        item.replacement,
        item.replacement_silent,
        item.every,
        item.every_period,
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
    if counts.catalog_was_empty is None:
        counts.catalog_was_empty = _is_empty(conn, merchant_id)
    existing = {} if counts.catalog_was_empty else _existing(conn, merchant_id, items)
    now = utcnow()
    new_rows, changed_rows, unchanged, regroup = [], [], [], []
    for item in items:
        digest = feed_hash(item)
        row = existing.get(item.product_id)
        if row is None:
            new_rows.append(
                {
                    **_values(item, digest, run_id),
                    "merchant_id": merchant_id,
                    "product_id": item.product_id,
                    "currency": currency,
                    "product_type": item.product_type or "standard",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            regroup.append(item)
        elif row.feed_hash != digest:
            changed_rows.append(
                {**_values(item, digest, run_id), "b_id": row.id, "updated_at": now}
            )
            regroup.append(item)
        else:
            unchanged.append(row.id)
    ids = {product_id: row.id for product_id, row in existing.items()}
    ids.update(_write(conn, new_rows, changed_rows, unchanged, run_id))
    _regroup(conn, merchant_id, regroup, ids, [row["b_id"] for row in changed_rows])
    counts.created += len(new_rows)
    counts.updated += len(changed_rows)
    counts.unchanged += len(unchanged)
    counts.discontinued_ids.extend(ids[i.product_id] for i in items if i.discontinued)


def _is_empty(conn: Connection, merchant_id: int) -> bool:
    """Tell whether the merchant has no products yet (asked before a run writes any).

    Then no lookup can find anything for the whole run: a product_id appears once per file,
    runs of one merchant never overlap, and nothing else creates products. Skipping the
    lookups matters on PostgreSQL, whose statistics still say the merchant has no rows while
    the run inserts them, and plans each lookup as a scan of everything inserted so far.
    """
    return (
        conn.execute(select(Product.id).where(Product.merchant_id == merchant_id).limit(1)).first()
        is None
    )


def _existing(conn: Connection, merchant_id: int, items: list[FeedProduct]) -> dict:
    """The batch's products already in the catalog (id and feed_hash), by product_id."""
    query = select(Product.id, Product.product_id, Product.feed_hash).where(
        Product.merchant_id == merchant_id,
        _among(conn, Product.product_id, [i.product_id for i in items]),
    )
    return {row.product_id: row for row in conn.execute(query)}


def _write(
    conn: Connection, new_rows: list, changed_rows: list, unchanged: list[int], run_id: int
) -> dict[str, int]:
    """Write the batch; return the new rows' ids by product_id."""
    created = _insert(conn, new_rows) if new_rows else {}
    if changed_rows:
        stmt = update(Product).where(Product.id == bindparam("b_id"))
        conn.execute(stmt, changed_rows)
    if unchanged:
        conn.execute(
            update(Product)
            .where(_among(conn, Product.id, unchanged))
            .values(
                last_feed_run_id=run_id, in_latest_feed=True, updated_at=Product.updated_at
            )  # bookkeeping, not a change to the product
        )
    return created


def _insert(conn: Connection, rows: list[dict]) -> dict[str, int]:
    """Insert new products; return their row ids by product_id."""
    if conn.dialect.name != "postgresql":
        stmt = insert(Product).returning(Product.product_id, Product.id)
        return dict(conn.execute(stmt, rows).all())
    # Take the ids from the sequence first: psycopg pipelines a plain executemany, whereas with
    # RETURNING SQLAlchemy sends one statement of 20,000 parameters a page, which psycopg
    # parses in Python every time (it caches short statements only): five times slower.
    sequence = func.pg_get_serial_sequence(Product.__tablename__, "id")
    ids = (
        conn.execute(select(func.nextval(sequence)).select_from(func.generate_series(1, len(rows))))
        .scalars()
        .all()
    )
    for row, row_id in zip(rows, sorted(ids), strict=True):
        row["id"] = row_id
    conn.execute(insert(Product), rows)
    return {row["product_id"]: row["id"] for row in rows}


def _regroup(
    conn: Connection,
    merchant_id: int,
    items: list[FeedProduct],
    ids: dict[str, int],
    changed: list[int],
) -> None:
    """Replace the group memberships of new and ``changed`` products (``ids``: their row ids)."""
    if changed:  # a row inserted by this batch has no groups yet
        conn.execute(delete(ProductGroup).where(_among(conn, ProductGroup.product_id, changed)))
    rows = [
        {
            "merchant_id": merchant_id,
            "product_id": ids[i.product_id],
            "group_type": kind,
            "name": name,
        }
        for i in items
        for kind, name in dict.fromkeys(i.groups)
    ]
    if rows:
        conn.execute(insert(ProductGroup), rows)


def _among(conn: Connection, column: InstrumentedAttribute, values: list) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(array)``, one parameter however many.

    Given 1,000 parameters, PostgreSQL soon switches to a generic plan and, its statistics
    lagging behind a feed run, scanned every row of the merchant comparing each with every
    parameter: re-running an unchanged 100,000-product feed took 100 s instead of 10. The cast
    is a plain ``VARCHAR[]``: ``VARCHAR(64)[]`` was applied to the whole array for every row.
    """
    if conn.dialect.name != "postgresql":
        return column.in_(values)
    element = String() if isinstance(column.type, String) else column.type
    return column == any_(literal(values, ARRAY(element)))


def mark_seen(merchant_id: int, run_id: int, product_ids: list[str]) -> None:
    """Count products the file named but refused as present in this feed (nothing else moves)."""
    conn = db.session.connection()
    for start in range(0, len(product_ids), 1000):  # SQLite bounds the parameters per statement
        chunk = product_ids[start : start + 1000]
        conn.execute(
            update(Product)
            .where(Product.merchant_id == merchant_id, _among(conn, Product.product_id, chunk))
            .values(last_feed_run_id=run_id, updated_at=Product.updated_at)
        )


def mark_latest(merchant_id: int, run_id: int) -> None:
    """Flag products the latest successful feed did not mention (they are left unchanged)."""
    in_latest = case((Product.last_feed_run_id == run_id, True), else_=False)
    db.session.connection().execute(
        update(Product)
        .where(Product.merchant_id == merchant_id, Product.in_latest_feed != in_latest)
        .values(in_latest_feed=in_latest, updated_at=Product.updated_at)
    )  # only rows whose flag flips are written: a full catalog is not rewritten every run


def by_product_ids(merchant_id: int, product_ids: Iterable[str]) -> dict[str, Product]:
    query = select(Product).where(
        Product.merchant_id == merchant_id, Product.product_id.in_(list(product_ids))
    )
    return {p.product_id: p for p in db.session.scalars(query)}
