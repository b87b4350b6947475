"""An order's rows as the order XML's plain values (``integrations.xml.order``), and the copy
of what was sent that the ledger and the console keep, with its card fields masked.

The prices come from ``orders.quote``, the one pricing of the order; gifts with purchase are
sent as one-time items at no charge, and the order-level and shipping incentives applied are
listed under ``<incentives>`` (target ``order`` or ``shipping_total``, the order's id, and the
incentive's id as the code). Item and gift ids are stable across attempts: the store can
deduplicate on them as on the order's public id.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

from app.domain.frequency import Frequency
from app.extensions import db
from app.integrations.xml import order as order_xml
from app.models import Address, Merchant, Order, Product, Subscription
from app.models.types import utcnow
from app.services import orders, pricing

MASK = "••••"
MASKED = ("orderCcExpire", "orderCcNumber", "orderCcOwner", "orderTokenId")
_MASK_RE = re.compile(r"<(" + "|".join(MASKED) + r")>(.*?)</\1>", re.DOTALL)


def build(
    order: Order,
    merchant: Merchant,
    *,
    as_of: date,
    now: datetime | None = None,
    quote: pricing.Quote | None = None,
) -> order_xml.OrderDocument:
    """The order as it will be sent, priced now (``quote``: the caller priced it just now)."""
    quote = quote or orders.quote(order, now=now or utcnow())
    items = [_item(item, line) for item, line in zip(order.items, quote.lines, strict=True)]
    items += [_gift(order, gift, n) for n, gift in enumerate(quote.gifts)]
    customer, payment = order.customer, order.payment
    names = {int(k): v for k, v in (merchant.card_type_names or {}).items()}
    head = order_xml.Head(
        og_id=order.id,
        public_id=order.public_id,
        og_date=as_of,
        merchant_og_id=merchant.id,
        merchant_name=merchant.name,
        currency=order.currency,
        payment_public_id=payment.public_id if payment else None,
        payment_method=_method(payment.payment_method if payment else None),
        cc_type=order_xml.card_type_name(
            payment.cc_type if payment else None, {**order_xml.CARD_TYPES, **names}
        ),
        cc_owner_aes=payment.cc_holder_enc if payment else None,
        cc_number_aes=None,
        cc_expire_aes=payment.cc_exp_date_enc if payment else None,
        token_id=payment.token_id if payment else None,
        subtotal_discount_minor=quote.order_discount_minor,
        shipping_minor=quote.shipping_total_minor,
    )
    billing = (
        db.session.get(Address, payment.billing_address_id)
        if payment and payment.billing_address_id
        else None
    )
    return order_xml.OrderDocument(
        head=head,
        customer=order_xml.Customer(
            og_id=customer.id,
            partner_id=customer.merchant_user_id,
            first_name=customer.first_name,
            last_name=customer.last_name,
            email=customer.email,
        ),
        shipping=_address(order.shipping_address),
        billing=_address(billing) if billing else None,
        items=tuple(items),
        incentives=_incentives(order, quote),
    )


def _item(item, line: pricing.QuoteLine) -> order_xml.Item:
    product = item.product or db.session.get(Product, item.product_id)
    sub = db.session.get(Subscription, item.subscription_id) if item.subscription_id else None
    info = None
    if sub is not None and not item.one_time:
        extra = {
            str(k): str(v)
            for k, v in (sub.extra_data or {}).items()
            if order_xml.extra_data_key_ok(str(k))
        }
        info = order_xml.ItemSubscription(
            public_id=sub.public_id,
            start_date=sub.start_date,
            original_order_id=sub.merchant_order_id,
            every=sub.every,
            every_period=sub.every_period,
            frequency_days=Frequency(sub.every, sub.every_period).days,
            extra_data=extra,
        )
    components = tuple(
        order_xml.Component(product_id=c, sku=c, qty=1)
        for c in ((sub.plan or {}).get("components", []) if sub else [])
    )
    return order_xml.Item(
        public_id=item.public_id,
        offer_public_id=item.offer_id,
        offer_profile_public_id=None,
        one_time=item.one_time,
        qty=item.quantity,
        sku=product.sku or product.product_id,
        name=product.name,
        product_id=product.product_id,
        price_minor=line.unit_price_minor,
        unitary_discount_minor=line.unit_discount_minor,
        components=components,
        subscription=info,
    )


def _gift(order: Order, gift: pricing.QuoteLine, n: int) -> order_xml.Item:
    product = db.session.get(Product, gift.product_pk) if gift.product_pk else None
    stable = hashlib.sha256(f"{order.public_id}:gift:{gift.product_id}".encode()).hexdigest()
    return order_xml.Item(
        public_id=stable[:32],
        offer_public_id=None,
        offer_profile_public_id=None,
        one_time=True,
        qty=gift.quantity,
        sku=(product.sku if product else None) or gift.product_id,
        name=product.name if product else gift.product_id,
        product_id=gift.product_id,
        price_minor=0,
        unitary_discount_minor=0,
    )


def _incentives(order: Order, quote: pricing.Quote) -> tuple[order_xml.Incentive, ...]:
    applied = [("order", quote.order_incentive_id), ("shipping_total", quote.shipping_incentive_id)]
    return tuple(
        order_xml.Incentive(target=target, target_id=order.public_id, code=code)
        for target, code in applied
        if code
    )


def _address(address: Address | None) -> order_xml.Address:
    if address is None:
        return order_xml.Address()
    return order_xml.Address(
        first_name=address.first_name,
        last_name=address.last_name,
        line1=address.address,
        line2=address.address2,
        city=address.city,
        state=address.state_province_code,
        zip_code=address.zip_postal_code,
        phone=address.phone,
        company=address.company_name,
        country=address.country_code,
    )


def _method(stored: str | None) -> str:
    """``orderPaymentMethod``: CC for cards (as Ordergroove sends), else the method's name."""
    if not stored or stored.lower() in ("credit card", "cc", "card"):
        return "CC"
    return stored.upper()[:32]


def masked(body: bytes) -> str:
    """The XML as sent, with the card fields and the token replaced by ``••••``."""
    text = body.decode("utf-8")
    return _MASK_RE.sub(lambda m: f"<{m.group(1)}>{MASK}</{m.group(1)}>", text)
