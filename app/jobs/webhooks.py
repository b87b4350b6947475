"""RQ entry point for webhook delivery."""

from __future__ import annotations

from app.services import webhook_delivery


def deliver_pending() -> None:
    """The every-minute sweep (see services.webhook_delivery)."""
    webhook_delivery.deliver_pending()
