"""The shopping cart: a ``{product_id: quantity}`` mapping kept in the session, and its totals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from demo import catalog
from demo.catalog import Product

MAX_QUANTITY = 20
FREE_SHIPPING_FROM_CENTS = 5000
SHIPPING_CENTS = 595


class CartError(ValueError):
    """A cart change that cannot be made; the message is shown to the shopper."""


@dataclass(frozen=True)
class Line:
    product: Product
    quantity: int

    @property
    def total_cents(self) -> int:
        return self.product.price_cents * self.quantity


@dataclass(frozen=True)
class Totals:
    subtotal_cents: int
    shipping_cents: int
    total_cents: int
    currency: str = "USD"

    @property
    def free_shipping_gap_cents(self) -> int:
        """How much more to spend for free shipping (0 once it applies)."""
        return max(0, FREE_SHIPPING_FROM_CENTS - self.subtotal_cents) if self.subtotal_cents else 0


def add(cart: Mapping[str, int], product_id: str, quantity: int) -> dict[str, int]:
    """Return the cart with ``quantity`` more of the product.

    :raises CartError: for unknown, unavailable or too many items.
    """
    product = _purchasable(product_id)
    new_quantity = cart.get(product_id, 0) + quantity
    if quantity < 1 or new_quantity > MAX_QUANTITY:
        raise CartError(f"You can order 1 to {MAX_QUANTITY} of {product.name}.")
    return {**cart, product_id: new_quantity}


def update(cart: Mapping[str, int], product_id: str, quantity: int) -> dict[str, int]:
    """Return the cart with the product's quantity set; 0 removes the line."""
    if quantity == 0:
        return remove(cart, product_id)
    if product_id not in cart:
        raise CartError("That item is no longer in your cart.")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(f"Quantities go from 1 to {MAX_QUANTITY}.")
    return {**cart, product_id: quantity}


def remove(cart: Mapping[str, int], product_id: str) -> dict[str, int]:
    return {pid: qty for pid, qty in cart.items() if pid != product_id}


def lines(cart: Mapping[str, int]) -> list[Line]:
    """Return the cart's lines, skipping ids that left the catalog."""
    found = ((catalog.get(pid), qty) for pid, qty in cart.items())
    return [Line(product, qty) for product, qty in found if product is not None]


def totals(cart_lines: list[Line]) -> Totals:
    """Price the lines: flat-rate shipping, free from the threshold up."""
    subtotal = sum(line.total_cents for line in cart_lines)
    free = subtotal == 0 or subtotal >= FREE_SHIPPING_FROM_CENTS
    shipping = 0 if free else SHIPPING_CENTS
    return Totals(subtotal, shipping, subtotal + shipping)


def count(cart: Mapping[str, int]) -> int:
    return sum(cart.values())


def _purchasable(product_id: str) -> Product:
    product = catalog.get(product_id)
    if product is None:
        raise CartError("We couldn't find that product.")
    if not product.purchasable:
        raise CartError(f"Sorry, {product.name} is not available right now.")
    return product
