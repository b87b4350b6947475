"""RQ entry point for subscriber notices (order reminders, expiring cards)."""

from __future__ import annotations

from app.services import notices


def send_notices() -> None:
    """The hourly sweep: queue each notice that is due (see services.notices.send_all)."""
    notices.send_all()
