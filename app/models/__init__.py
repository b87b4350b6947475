"""Every model, imported here so Alembic and the app see the whole schema."""

from app.models.customer import Address, Customer, PaymentMethod
from app.models.event import AppendOnlyError, Event
from app.models.feed import FeedRun, FeedRunError, SftpAccount
from app.models.heartbeat import Heartbeat
from app.models.incentive import Incentive
from app.models.merchant import ApiKey, Merchant, StaffUser
from app.models.notification import OutboundEmail
from app.models.offer import Offer, OptIn
from app.models.order import Order, OrderItem, OrderStatus
from app.models.placement import BatchFile, Outcome, PlacementAttempt, PlacementRun
from app.models.product import Product, ProductGroup
from app.models.purchase import PurchaseRequest
from app.models.subscription import Subscription
from app.models.webhook import WebhookDelivery, WebhookTarget

__all__ = [
    "Address",
    "ApiKey",
    "AppendOnlyError",
    "BatchFile",
    "Customer",
    "Event",
    "FeedRun",
    "FeedRunError",
    "Heartbeat",
    "Incentive",
    "Merchant",
    "Offer",
    "OptIn",
    "Order",
    "OrderItem",
    "OrderStatus",
    "Outcome",
    "OutboundEmail",
    "PaymentMethod",
    "PlacementAttempt",
    "PlacementRun",
    "Product",
    "ProductGroup",
    "PurchaseRequest",
    "SftpAccount",
    "StaffUser",
    "Subscription",
    "WebhookDelivery",
    "WebhookTarget",
]
