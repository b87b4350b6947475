"""The purchase POST (contracts §5): every checkout the store reports, turned into subscriptions.

``parse_body`` reads ``create_request=<JSON>`` in both encodings (the wire format, card-number
detection and field readers are ``integrations.purchase_wire``); ``receive`` validates it and,
in one transaction, matches the customer, addresses and payment method, creates a subscription
with its first upcoming order for every subscription line, clears the session's opt-ins and
records the request. Errors are ``Refused(status, body)`` in the contract's shapes.

Decided where the contracts are silent (documented in docs/purchase-post.md):

* Which lines subscribe. With cart tracking (``og_cart_tracking`` omitted or true) the session's
  tracked opt-ins decide: a line subscribes when its product is opted in, at the opt-in's
  frequency and offer; a ``tracking_override`` on that line may still change them. With
  ``og_cart_tracking: false`` a line subscribes when it has ``subscription_info``, a
  ``tracking_override`` or an entry in the ``tracking`` array; its frequency and offer come from
  its own ``subscription_info.tracking_override``, else its ``tracking_override``, else the
  ``tracking`` entry for its product.
* A request where every subscription line fails is refused whole (400, nothing created); where
  some succeed it is 207 with per-line ``errors``. Refused requests leave no trace, so the same
  ``merchant_order_id`` can be sent again once fixed; an accepted one answers 409 forever after.
* Anything that looks like a card number (13-19 digits, spaces or dashes allowed, a card
  network's prefix and a valid Luhn check) anywhere in the payload refuses the request. An
  AES ``cc_number`` (an SFCC option) is dropped unread: Perennial never keeps card numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.domain.frequency import MAX_EVERY, Frequency
from app.extensions import db
from app.integrations import purchase_wire as pw
from app.integrations import wire
from app.models import Merchant, OptIn, Product, PurchaseRequest
from app.models.offer import DEFAULT_LOCATION
from app.models.types import utcnow
from app.services import (
    cards,
    customers,
    events,
    offer_views,
    pricing,
    shopper_sessions,
    shops,
    subscriptions,
)

RESULT = "Subscription request received"
ATTEMPTS = 3
MAX_LINES = 500
MAX_FIRST_DATE_DAYS = 5 * 366  # a first order further ahead than that is a typo


class Refused(Exception):
    """The request is answered with ``status`` and ``body``, and nothing is written."""

    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(body)
        self.status = status
        self.body = body


def bad(message: str, **extra: Any) -> Refused:
    return Refused(400, {"error_message": message, **extra})


# -- receiving -----------------------------------------------------------------------------


@dataclass
class Line:
    index: int
    product_id: str
    subscribe: bool = False
    quantity: int = 1
    every: Any = None
    every_period: Any = None
    offer_id: str | None = None
    target_product_id: str | None = None
    first_date: Any = None
    extra_data: Any = None
    info: Any = None  # subscription_info, for the plan fields
    raw: Any = None  # the whole line

    @property
    def key(self) -> str:
        return self.product_id


def check_merchant_field(payload: Mapping[str, Any]) -> str:
    """``merchant_id`` must be a string (the view matches it against the credentials)."""
    value = payload.get("merchant_id")
    if value is None or value == "":
        raise Refused(400, {"error": "Merchant ID cannot be null"})
    if not isinstance(value, str):
        raise Refused(400, {"error": "Merchant ID must be a string"})
    return value


def parse_body(raw: bytes) -> dict[str, Any]:
    """``create_request=<JSON>`` (``purchase_wire.parse_body``); Refused (400) if unusable."""
    try:
        return pw.parse_body(raw)
    except pw.Unusable as exc:
        raise bad(str(exc)) from None


def receive(
    merchant: Merchant, payload: dict[str, Any], *, actor: events.Actor
) -> tuple[int, dict[str, Any]]:
    """Validate and apply one purchase POST; return (status, body) or raise Refused."""
    try:
        return _receive(merchant, payload, actor=actor)
    except pw.Unusable as exc:  # nothing is written
        db.session.rollback()
        raise bad(str(exc)) from None


def _receive(
    merchant: Merchant, payload: dict[str, Any], *, actor: events.Actor
) -> tuple[int, dict[str, Any]]:
    pw.refuse_card_numbers(payload)
    order_id = pw.text(payload, "merchant_order_id", "Merchant order id", required=True, limit=200)
    cart_tracking = pw.flag(payload, "og_cart_tracking", True)
    raw_session = payload.get("session_id")
    if raw_session is not None and raw_session != "" and not isinstance(raw_session, str):
        raise bad("Session ID must be a string")
    session_id = pw.text(payload, "session_id", "Session id", required=cart_tracking, limit=200)
    processed = pw.flag(payload, "processed", True)
    _validate_shape(payload)
    if not processed:
        row = PurchaseRequest(
            merchant_id=merchant.id,
            merchant_order_id=order_id,
            session_id=session_id,
            status="held",
            http_status=202,
            payload=payload,
            source=actor.source,
        )
        _claim(row, order_id)
        events.record(
            merchant.id,
            "checkout.hold",
            actor,
            object_type="purchase_request",
            object_id=row.public_id,
            after={"merchant_order_id": order_id},
        )
        db.session.commit()
        return 200, {"result": RESULT, "subs_req_id": row.public_id}
    for attempt in range(1, ATTEMPTS + 1):
        row = PurchaseRequest(
            merchant_id=merchant.id,
            merchant_order_id=order_id,
            session_id=session_id,
            status="processed",
            http_status=200,
            source=actor.source,
        )
        _claim(row, order_id)
        try:
            status, body = _apply(
                merchant,
                row,
                payload,
                cart_tracking=cart_tracking,
                session_id=session_id,
                actor=actor,
            )
            db.session.commit()
            return status, body
        except Refused:
            db.session.rollback()
            raise
        except IntegrityError:
            # Another checkout of the same new customer (or address, or card) committed
            # first: start again, and this time match what it created.
            db.session.rollback()
            if attempt == ATTEMPTS:
                raise Refused(503, {"error_message": "Busy; please retry."}) from None
    raise AssertionError("unreachable")


def _validate_shape(payload: Mapping[str, Any]) -> None:
    user = pw.obj(payload, "user", "user")
    if user is None:
        raise bad("User data cannot be null")
    pw.text(user, "user_id", "User id", required=True, limit=200)
    for key in ("shipping_address", "billing_address", "extra_data"):
        pw.obj(user, key, key)
    if len(json.dumps(user.get("extra_data") or {})) > 4000:
        raise bad("user.extra_data is longer than 4000 characters")
    pw.obj(payload, "payment", "payment")
    products = payload.get("products")
    if not isinstance(products, list) or not products:
        raise bad(
            "Products cannot be empty"
            if isinstance(products, list) or products is None
            else "products must be a list"
        )
    if len(products) > MAX_LINES:
        raise bad(f"At most {MAX_LINES} products per request")
    for line in products:
        if not isinstance(line, dict):
            raise bad("Each product must be an object")
        pw.text(line, "product", "Product id", required=True, limit=64)
        for key in ("purchase_info", "subscription_info", "tracking_override"):
            pw.obj(line, key, key)
    tracking = payload.get("tracking")
    if tracking is not None and (
        not isinstance(tracking, list) or not all(isinstance(t, dict) for t in tracking)
    ):
        raise bad("tracking must be a list of objects")


def _existing(merchant_id: int, order_id: str) -> PurchaseRequest | None:
    return db.session.scalar(
        select(PurchaseRequest).where(
            PurchaseRequest.merchant_id == merchant_id,
            PurchaseRequest.merchant_order_id == order_id,
        )
    )


def _duplicate(previous: PurchaseRequest) -> Refused:
    return Refused(
        409,
        {
            "error_message": "A request with this merchant_order_id was already received",
            "subs_req_id": previous.public_id,
        },
    )


def _claim(row: PurchaseRequest, order_id: str) -> None:
    """Insert the request first: a concurrent twin waits on the unique key, then gets 409."""
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        previous = _existing(row.merchant_id, order_id)
        raise _duplicate(previous) if previous else bad("Please retry the request.") from None


def _apply(
    merchant: Merchant,
    row: PurchaseRequest,
    payload: dict[str, Any],
    *,
    cart_tracking: bool,
    session_id: str | None,
    actor: events.Actor,
) -> tuple[int, dict[str, Any]]:
    now = utcnow()
    today = now.astimezone(merchant.tz).date()
    lines = _lines(merchant, payload, cart_tracking=cart_tracking, session_id=session_id)
    wanted = [line for line in lines if line.subscribe]
    user = payload["user"]
    card = _payment(merchant, payload.get("payment")) if payload.get("payment") else None
    shipping_fields = customers.address_fields(user.get("shipping_address"), "shipping_address")
    if wanted and card is None:
        raise bad("Missing payment data to create record")
    if wanted and shipping_fields is None:
        raise bad("Missing shipping address to create record")
    errors: dict[str, str] = {}
    ready = _resolve(merchant, wanted, errors, today=today, now=now)
    if wanted and not ready:
        raise bad("No subscription could be created", errors=errors)
    contact = {k: pw.text(user, k, k, limit=limit) for k, limit in customers.CONTACT_LIMITS.items()}
    customer = customers.match_customer(
        merchant.id,
        pw.text(user, "user_id", "User id"),
        contact,
        actor=actor,
        extra_data=user.get("extra_data") or None,
    )
    shipping = (
        customers.match_address(customer, shipping_fields, actor=actor) if shipping_fields else None
    )
    billing_fields = customers.address_fields(user.get("billing_address"), "billing_address")
    billing = (
        customers.match_address(customer, billing_fields, actor=actor) if billing_fields else None
    )
    payment = (
        customers.match_payment(customer, card, billing=billing, actor=actor) if card else None
    )
    created = (
        subscriptions.create_many(
            customer,
            ready,
            start=today,
            shipping=shipping,
            payment=payment,
            merchant_order_id=row.merchant_order_id,
            session_id=session_id,
            currency=merchant.currency,
            now=now,
            actor=actor,
            incentives=shops.shop_for(merchant.public_id).incentives,
        )
        if ready
        else []
    )
    if session_id:
        db.session.execute(
            delete(OptIn).where(OptIn.merchant_id == merchant.id, OptIn.session_id == session_id)
        )
    response = {
        "customer": customer.public_id,
        "payment": payment.public_id if payment else None,
        "shipping_address": shipping.public_id if shipping else None,
        "subscriptions": [{sub.product.product_id: sub.public_id} for sub in created],
        "errors": errors,
    }
    status = 207 if errors else 200
    row.status, row.http_status = ("partial" if errors else "processed"), status
    row.subscription_checkout, row.lines = bool(wanted), len(lines)
    row.subscriptions_created, row.customer_id = len(created), customer.id
    row.response, row.processed_at = response, now
    events.record(
        merchant.id,
        "checkout.receive",
        actor,
        object_type="purchase_request",
        object_id=row.public_id,
        customer_id=customer.id,
        after={
            "merchant_order_id": row.merchant_order_id,
            "lines": len(lines),
            "subscriptions": len(created),
            "errors": len(errors),
        },
    )
    body = {"result": RESULT, "subs_req_id": row.public_id}
    return status, ({**body, **response} if errors else body)


def _lines(
    merchant: Merchant, payload: Mapping[str, Any], *, cart_tracking: bool, session_id: str | None
) -> list[Line]:
    optins = shopper_sessions.tracked(merchant.id, session_id) if cart_tracking else {}
    tracking = {}
    if not cart_tracking:
        for entry in payload.get("tracking") or []:
            product = entry.get("product")
            if isinstance(product, str | int) and not isinstance(product, bool):
                tracking[str(product)] = (
                    pw.override(entry.get("tracking_override"), "tracking.tracking_override") or {}
                )
    lines = []
    for index, raw in enumerate(payload["products"]):
        product = pw.text(raw, "product", "Product id", required=True, limit=64)
        info = raw.get("subscription_info")
        override = pw.override(
            (info or {}).get("tracking_override"), "subscription_info.tracking_override"
        ) or pw.override(raw.get("tracking_override"), "tracking_override")
        line = Line(index=index, product_id=product)
        if cart_tracking:
            optin = optins.get(product)
            if optin is not None:
                line.subscribe = True
                line.every, line.every_period = optin.every, optin.every_period
                line.offer_id = optin.offer_id
        elif info is not None or override is not None or product in tracking:
            line.subscribe = True
            source = override if override is not None else tracking.get(product, {})
            line.every, line.every_period = source.get("every"), source.get("every_period")
            line.offer_id = source.get("offer")
        if line.subscribe and override:
            line.every = override.get("every", line.every)
            line.every_period = override.get("every_period", line.every_period)
            line.offer_id = override.get("offer") or line.offer_id
            line.target_product_id = override.get("product")
        if line.subscribe:
            purchase = raw.get("purchase_info") or {}
            line.quantity = (info or {}).get("quantity") or purchase.get("quantity") or 1
            line.first_date = (info or {}).get("first_order_place_date")
            line.extra_data = (info or {}).get("extra_data")
            line.info, line.raw = info or {}, raw
        lines.append(line)
    return lines


def _resolve(
    merchant: Merchant, wanted: list[Line], errors: dict[str, str], *, today: date, now: datetime
) -> list[subscriptions.NewSubscription]:
    """Check each subscription line against the catalog and the rules; collect line errors."""
    ids = {line.target_product_id or line.product_id for line in wanted}
    found = {
        p.product_id: p
        for p in db.session.scalars(
            select(Product)
            .options(selectinload(Product.groups))
            .where(
                Product.merchant_id == merchant.id,
                Product.product_id.in_([str(i) for i in ids if isinstance(i, str | int)]),
            )
        )
    }
    shop = shops.shop_for(merchant.public_id)  # offers and incentives, cached
    default_offer = shop.offers[DEFAULT_LOCATION]
    merchant_offers = {o.public_id: o for o in shop.offers.values()}
    live = [t for t in shop.incentives if offer_views.live_at(t, now)]
    ready = []
    for line in wanted:
        key = line.key if line.key not in errors else f"{line.key}#{line.index}"
        try:
            ready.append(
                _new_subscription(line, found, merchant_offers, default_offer, live, today=today)
            )
        except ValueError as exc:
            errors[key] = str(exc)
    return ready


def _new_subscription(
    line: Line,
    found: dict[str, Product],
    merchant_offers: dict,
    default_offer,
    live,
    *,
    today: date,
) -> subscriptions.NewSubscription:
    target = line.target_product_id if line.target_product_id is not None else line.product_id
    product = found.get(target)
    if product is None:
        raise ValueError(f"Unknown product {target}")
    if not product.subscription_eligible:
        raise ValueError(f"Product {target} is not eligible for subscription")
    if line.every is None or line.every_period is None:
        raise ValueError("every and every_period are required for a subscription")
    every = pw.line_int(line.every, "every", 1, MAX_EVERY)
    period = pw.line_int(line.every_period, "every_period", 1, 4)
    quantity = pw.line_int(line.quantity, "quantity", 1, 999)
    first = Frequency(every, period).next_date(today)
    if line.first_date not in (None, ""):
        first = _first_date(line.first_date, today)
    extra = line.extra_data if line.extra_data is not None else {}
    if not isinstance(extra, dict) or len(json.dumps(extra)) > 4000:
        raise ValueError("extra_data must be an object of at most 4000 characters")
    subscription_type, plan = _plan(line)
    # Only the merchant's own offers count; any other id (unknown, or another merchant's)
    # gets the default offer and is kept in the event log as ``unknown_offer``.
    offer = merchant_offers.get(line.offer_id) if line.offer_id else None
    unknown = line.offer_id if line.offer_id and offer is None else None
    offer = offer or default_offer
    promised = [
        t.public_id
        for t in offer_views.advertised_incentives(live, offer, pricing.line_for(product))
        if t.applies_to != "initial" and (t.max_order_number is None or t.max_order_number >= 2)
    ]
    return subscriptions.NewSubscription(
        product=product,
        quantity=quantity,
        every=every,
        every_period=period,
        offer_id=offer.public_id,
        first_date=first,
        extra_data=extra,
        incentive_ids=tuple(promised),
        subscription_type=subscription_type,
        plan=plan,
        unknown_offer=unknown,
    )


def _first_date(value: Any, today: date) -> date:
    """``first_order_place_date``: after today and at most ``MAX_FIRST_DATE_DAYS`` ahead."""
    try:
        day = wire.parse_date(value, label="first_order_place_date")
    except wire.WireError as exc:
        raise ValueError(str(exc)) from None
    if day <= today:
        raise ValueError("first_order_place_date must be after today")
    if day > today + timedelta(days=MAX_FIRST_DATE_DAYS):
        raise ValueError(f"first_order_place_date must be within {MAX_FIRST_DATE_DAYS} days")
    return day


def _plan(line: Line) -> tuple[str, dict[str, Any]]:
    """``subscription_type`` and the plan fields of §5.2: components, bundle, prepaid terms."""
    info, raw = line.info or {}, line.raw or {}
    plan: dict[str, Any] = {}
    components = info.get("components")
    if components not in (None, []):
        if (
            not isinstance(components, list)
            or len(components) > 50
            or not all(
                isinstance(c, str | int) and not isinstance(c, bool) and 0 < len(str(c)) <= 64
                for c in components
            )
        ):
            raise ValueError("components must be a list of up to 50 product ids")
        plan["components"] = [str(c) for c in components]
    bundle = info.get("multi_item_bundle_components", raw.get("multi_item_bundle_components"))
    if bundle not in (None, []):
        if not isinstance(bundle, list) or len(bundle) > 50:
            raise ValueError("multi_item_bundle_components must be a list of up to 50 items")
        items = []
        for item in bundle:
            if not isinstance(item, dict) or not isinstance(item.get("product"), str | int):
                raise ValueError("each bundle component needs a product and a quantity")
            items.append(
                {
                    "product": str(item["product"])[:64],
                    "quantity": pw.line_int(item.get("quantity", 1), "quantity", 1, 99),
                }
            )
        plan["bundle"] = items
    kind = info.get("subscription_type") or "standard"
    if kind not in ("standard", "prepaid"):
        raise ValueError("subscription_type must be standard or prepaid")
    if kind == "prepaid":
        plan["orders_per_billing"] = pw.line_int(
            info.get("prepaid_orders_per_billing"), "prepaid_orders_per_billing", 1, 99
        )
        renewal = info.get("renewal_behavior") or "autorenew"
        if not isinstance(renewal, str) or len(renewal) > 32:
            raise ValueError("renewal_behavior must be a short string such as autorenew")
        plan["renewal_behavior"] = renewal
    return kind, plan


def _payment(merchant: Merchant, value: Any) -> dict[str, Any]:
    """Validate the payment object (``cards.read``); a token is required at checkout."""
    if not isinstance(value, dict):
        raise bad("payment must be an object")
    if not pw.text(value, "token_id", "token_id", limit=500):
        raise bad("Missing payment data to create record")
    try:
        return cards.read(merchant, value)
    except cards.CardError as exc:
        raise bad(exc.message) from None


# -- after the fact ------------------------------------------------------------------------


def get(merchant_id: int, public_id: str) -> PurchaseRequest | None:
    return db.session.scalar(
        select(PurchaseRequest).where(
            PurchaseRequest.merchant_id == merchant_id, PurchaseRequest.public_id == public_id
        )
    )


def status_of(merchant: Merchant, public_id: str) -> tuple[int, dict[str, Any]]:
    """``GET /subscription/<subs_req_id>/response``: 200 with the ids, 202 held, 404 unknown."""
    row = get(merchant.id, public_id) if re.fullmatch(r"[0-9a-f]{24}", public_id or "") else None
    if row is None:
        return 404, {"detail": "Unable to find requested asset."}
    if row.status == "held":
        return 202, {"result": "Pending verification", "subs_req_id": row.public_id}
    if row.status == "declined":
        return 200, {
            "result": "Declined",
            "subs_req_id": row.public_id,
            "customer": None,
            "payment": None,
            "shipping_address": None,
            "subscriptions": [],
            "errors": {},
        }
    return 200, {"subs_req_id": row.public_id, **row.response}


def verify(merchant: Merchant, order_id: str, action: str, *, actor: events.Actor) -> str:
    """Release (``process``) or ``decline`` a held request (contracts §5.5)."""
    if action not in ("process", "decline"):
        raise Refused(400, {"error_message": "Invalid action"})
    row = _existing(merchant.id, order_id)
    if row is None:
        return "subscription request with merchant_order_id does not exist"
    if row.status != "held":
        return "subscription request with merchant_order_id has already been transmitted"
    payload = row.payload or {}
    if action == "decline":
        row.status, row.http_status, row.payload = "declined", 200, None
        row.processed_at = utcnow()
        events.record(
            merchant.id,
            "checkout.decline",
            actor,
            object_type="purchase_request",
            object_id=row.public_id,
            after={"merchant_order_id": order_id},
        )
        db.session.commit()
        return "SUCCESS"
    try:
        _apply(
            merchant,
            row,
            payload,
            cart_tracking=pw.flag(payload, "og_cart_tracking", True),
            session_id=row.session_id,
            actor=actor,
        )
    except (Refused, pw.Unusable) as refused:
        db.session.rollback()
        exc = refused if isinstance(refused, Refused) else bad(str(refused))
        row = _existing(merchant.id, order_id)
        row.status, row.http_status, row.payload = "declined", exc.status, None
        row.response, row.processed_at = {"errors": exc.body}, utcnow()
        db.session.commit()
        return f"Could not be processed: {exc.body.get('error_message', '')}"
    row.payload = None
    db.session.commit()
    return "SUCCESS"
