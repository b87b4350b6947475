"""RQ entry point for outbox delivery."""

from __future__ import annotations

from app.services import mail


def deliver_pending() -> None:
    """The every-minute sweep: send each due email once (see services.mail.deliver_pending)."""
    mail.deliver_pending()
