"""The store's catalog: the source of its pages and, later, of its Ordergroove product feed.

Every field a feed needs is here (contracts §1.3) or derived: ``details_url`` is the
``shop.product`` route and ``image_url`` the ``shop.image`` route, made absolute with
``STORE_URL``. Prices are integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Period(IntEnum):
    """Units of ``every_period`` in the feed."""

    DAY = 1
    WEEK = 2
    MONTH = 3


@dataclass(frozen=True)
class Product:
    """One sellable SKU, shaped like a feed ``<product>``."""

    product_id: str
    sku: str
    name: str
    category: str
    price_cents: int
    description: str
    color: str
    currency: str = "USD"
    in_stock: bool = True
    autoship_eligible: bool = True
    discontinued: bool = False
    every: int | None = None
    every_period: Period | None = None
    sku_swap_group: str | None = None
    variant_name: str | None = None
    replacement_id: str | None = None
    product_type: str = "standard"

    @property
    def initials(self) -> str:
        """Return two letters for the generated product image."""
        words = [w for w in self.name.split() if w[:1].isalpha()]
        return "".join(w[0] for w in words[:2]).upper()

    @property
    def purchasable(self) -> bool:
        return self.in_stock and not self.discontinued

    @property
    def frequency_label(self) -> str | None:
        """Describe the default delivery frequency, e.g. "every 2 weeks"."""
        if not (self.every and self.every_period):
            return None
        unit = self.every_period.name.lower()
        return f"every {unit}" if self.every == 1 else f"every {self.every} {unit}s"


CATEGORIES = ("Coffee & Tea", "Pet Supplies", "Home")

PRODUCTS: tuple[Product, ...] = (
    Product(
        "FF2040101",
        "81020401011",
        "Café Crème Coffee Beans, 12 oz",
        "Coffee & Tea",
        1650,
        "A smooth, caramel-sweet medium roast from Huila, Colombia. Roasted on Mondays, "
        "shipped the same week.",
        "#8a5a3b",
        every=2,
        every_period=Period.WEEK,
        sku_swap_group="Whole Bean Coffee",
        variant_name="Café Crème",
    ),
    Product(
        "FF2040102",
        "81020401028",
        "Midnight Roast Coffee Beans, 12 oz",
        "Coffee & Tea",
        1550,
        "Dark, chocolatey and low in acidity, for the first cup and the last.",
        "#3b2f2f",
        every=2,
        every_period=Period.WEEK,
        sku_swap_group="Whole Bean Coffee",
        variant_name="Midnight Roast",
    ),
    Product(
        "FF2040103",
        "81020401035",
        "Rooibos & Vanilla Loose Tea, 4 oz",
        "Coffee & Tea",
        1100,
        "Caffeine-free South African rooibos with Madagascar vanilla. About 50 cups.",
        "#b5523b",
        every=1,
        every_period=Period.MONTH,
    ),
    Product(
        "FF3050101",
        "81030501012",
        "Salmon & Sweet Potato Dog Food, 12 lb",
        "Pet Supplies",
        4299,
        "Grain-inclusive kibble with wild salmon as the first ingredient, for adult "
        "dogs of every size.",
        "#d07a4f",
        every=4,
        every_period=Period.WEEK,
        sku_swap_group="Dry Dog Food",
        variant_name="Salmon & Sweet Potato",
    ),
    Product(
        "FF3050102",
        "81030501029",
        "Lamb & Brown Rice Dog Food, 12 lb",
        "Pet Supplies",
        4199,
        "Gentle on sensitive stomachs: pasture-raised lamb, brown rice and pumpkin.",
        "#9b6b43",
        every=4,
        every_period=Period.WEEK,
        sku_swap_group="Dry Dog Food",
        variant_name="Lamb & Brown Rice",
    ),
    Product(
        "FF3050103",
        "81030501036",
        "Tuna Pâté Cat Food, 12 × 3 oz",
        "Pet Supplies",
        1849,
        "Pole-caught tuna in a silky pâté. Twelve easy-open cans per case.",
        "#4f7c8a",
        every=2,
        every_period=Period.WEEK,
    ),
    Product(
        "FF3050104",
        "81030501043",
        "PawPure™ Pine Cat Litter, 20 lb",
        "Pet Supplies",
        1699,
        "Clumping pine litter that traps odours naturally. Low dust, flushable.",
        "#5e7d4a",
        every=1,
        every_period=Period.MONTH,
    ),
    Product(
        "FF3050105",
        "81030501050",
        "Chew-Right Dental Sticks, 30 ct",
        "Pet Supplies",
        1499,
        "Daily dental chews that help keep tartar down and breath fresh.",
        "#c49a3a",
        in_stock=False,
        every=1,
        every_period=Period.MONTH,
    ),
    Product(
        "FF4060101",
        "81040601014",
        "Eucalyptus Dish Soap, 16 oz",
        "Home",
        675,
        "Plant-based and tough on grease, with a clean eucalyptus scent.",
        "#3f8f7a",
        every=1,
        every_period=Period.MONTH,
    ),
    Product(
        "FF4060102",
        "81040601021",
        "Compostable Trash Bags, 13 gal, 50 ct",
        "Home",
        1249,
        "Certified compostable kitchen bags that hold up to the week.",
        "#6b8e4e",
        every=2,
        every_period=Period.MONTH,
    ),
    Product(
        "FF4060103",
        "81040601038",
        "Beeswax Food Wraps, set of 3",
        "Home",
        1800,
        "Reusable wraps for cheese, bread and bowls. Rinse, dry, repeat for a year.",
        "#d9a441",
        autoship_eligible=False,
    ),
    Product(
        "FF4060104",
        "81040601045",
        "Lavender Laundry Detergent Sheets, 60 ct",
        "Home",
        1995,
        "Pre-measured, plastic-free detergent sheets. One sheet per load.",
        "#7d6b9e",
        every=6,
        every_period=Period.WEEK,
    ),
    Product(
        "FF4060199",
        "81040601991",
        "Lavender Laundry Powder, 5 lb",
        "Home",
        1795,
        "Our original powder, replaced by the detergent sheets.",
        "#9c8fb8",
        in_stock=False,
        autoship_eligible=False,
        discontinued=True,
        replacement_id="FF4060104",
    ),
)

_BY_ID = {p.product_id: p for p in PRODUCTS}
_BY_SKU = {p.sku: p for p in PRODUCTS}


def get(product_id: str) -> Product | None:
    """Return the product with this id, or None."""
    return _BY_ID.get(product_id)


def get_by_sku(sku: str) -> Product | None:
    """Return the product with this SKU (the feed's ``<sku>``), or None."""
    return _BY_SKU.get(sku)


def listed() -> list[Product]:
    """Return the products shown in the shop: everything but discontinued items."""
    return [p for p in PRODUCTS if not p.discontinued]


def by_category() -> list[tuple[str, list[Product]]]:
    """Group the listed products by category, in shop order."""
    products = listed()
    return [(c, [p for p in products if p.category == c]) for c in CATEGORIES]
