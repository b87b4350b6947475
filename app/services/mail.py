"""Deliver the outbox: claim each due email once, hand it to the mail backend, record how it went.

What is guaranteed, and how:

* **One sender per attempt.** A claim is a conditional UPDATE (``claims.claim``): queued and
  due → ``sending``, ``attempts + 1``, and a lease (``next_attempt_at = now + LEASE``). However
  many workers sweep at once, exactly one wins each attempt.
* **Nothing is lost.** A worker killed mid-send leaves the email ``sending``; when its lease
  ends the email is due again and the next sweep sends it as a new attempt.
* **At least once, not exactly once.** That dead worker may have handed the email over before
  it died, and SMTP itself can leave the sender unsure (see ``app.integrations.mail``), so a
  recipient may rarely get two copies. Both carry the same Message-ID, which lets mail systems
  recognise the repeat. Callers who must never send two of a kind (one reminder per order) say
  so with ``notifications.queue_email(..., dedupe_key=...)``, which queues it once.
* **A late worker cannot overwrite.** The outcome is written only if the email is still
  ``sending`` with this attempt's number: a worker whose lease lapsed records nothing.
* **Bounded retries.** A transient failure (server down, 4xx, dropped connection) is retried
  after ``BACKOFF``, at most ``MAX_ATTEMPTS`` attempts in all; a 5xx refusal, a malformed
  address or the last attempt marks the email ``failed`` with the error.

Emails go out from the every-minute cron sweep (``app/jobs/cron.py``), not from a job enqueued
on commit: retries and lapsed leases need the sweep anyway, and ``queue_email`` callers then
need no enqueue-after-commit step. An email waits a minute at most.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, or_, select, update

from app.extensions import db
from app.integrations import mail
from app.models import OutboundEmail
from app.models.types import utcnow
from app.services import claims

# Longer than one send can take (a few network steps of SMTP_TIMEOUT each).
LEASE = timedelta(minutes=10)
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
MAX_ATTEMPTS = len(BACKOFF) + 1  # about nine hours of trying
BATCH = 200
ABANDONED = "The worker making the last attempt stopped; the email may or may not have gone."


def get_backend() -> mail.Backend:
    """SMTP when SMTP_URL is set, else the outbox (nothing leaves the platform)."""
    return mail.get_backend(current_app.config)


def deliver_pending(limit: int = BATCH, *, backend: mail.Backend | None = None) -> int:
    """Send up to ``limit`` due emails, oldest first; return how many went out."""
    backend = backend or get_backend()
    _fail_abandoned()
    sent = 0
    for email_id in _due_ids(limit):
        outcome = _attempt(email_id, backend)
        if outcome == "unavailable":  # the rest wait for the next sweep, attempts unspent
            break
        sent += outcome == "sent"
    return sent


def deliver(email_id: int, *, backend: mail.Backend | None = None) -> OutboundEmail | None:
    """Send one email if it is due and this caller claims it; return it as it now stands."""
    _attempt(email_id, backend or get_backend())
    db.session.expire_all()
    return db.session.get(OutboundEmail, email_id)


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Queued and past its backoff, or ``sending`` past its lease; attempts left."""
    return (
        OutboundEmail.status.in_(("queued", "sending")),
        or_(OutboundEmail.next_attempt_at.is_(None), OutboundEmail.next_attempt_at <= now),
        OutboundEmail.attempts < MAX_ATTEMPTS,
    )


def _due_ids(limit: int) -> list[int]:
    return list(
        db.session.scalars(
            select(OutboundEmail.id).where(*_due(utcnow())).order_by(OutboundEmail.id).limit(limit)
        )
    )


def _attempt(email_id: int, backend: mail.Backend) -> str:
    """Claim, send and record one attempt: taken | sent | retry | failed | unavailable."""
    now = utcnow()
    if not claims.claim(
        OutboundEmail,
        email_id,
        *_due(now),
        status="sending",
        attempts=OutboundEmail.attempts + 1,
        next_attempt_at=now + LEASE,
    ):
        return "taken"
    email = db.session.get(OutboundEmail, email_id)
    attempt, public_id, message = email.attempts, email.public_id, _outgoing(email)
    db.session.commit()  # hold no transaction open across the network
    try:
        if message is None:
            raise mail.MailError("The customer has no email address.", permanent=True)
        backend.send(message)
    except mail.MailError as exc:
        return _failed(email_id, public_id, attempt, exc)
    _record(
        email_id,
        attempt,
        status="sent",
        transport=backend.name,
        sent_at=utcnow(),
        next_attempt_at=None,
        last_error=None,
    )
    return "sent"


def _outgoing(email: OutboundEmail) -> mail.Outgoing | None:
    if not email.to_address:
        return None
    return mail.Outgoing(
        email_id=email.public_id,
        to=email.to_address,
        subject=email.subject,
        body=email.body,
        date=email.created_at,
    )


def _failed(email_id: int, public_id: str, attempt: int, exc: mail.MailError) -> str:
    error = str(exc)[:500]
    current_app.logger.warning("email %s attempt %d failed: %s", public_id, attempt, error)
    if exc.permanent or attempt >= MAX_ATTEMPTS:
        _record(email_id, attempt, status="failed", next_attempt_at=None, last_error=error)
        return "failed"
    _record(
        email_id,
        attempt,
        status="queued",
        last_error=error,
        next_attempt_at=utcnow() + BACKOFF[attempt - 1],
    )
    return "unavailable" if isinstance(exc, mail.MailUnavailable) else "retry"


def _record(email_id: int, attempt: int, **values: object) -> bool:
    """Write an attempt's outcome, unless its lease lapsed and another attempt took over."""
    mine = (OutboundEmail.status == "sending", OutboundEmail.attempts == attempt)
    if claims.claim(OutboundEmail, email_id, *mine, **values):
        return True
    current_app.logger.warning(
        "email %s: attempt %d ended after its lease; another attempt owns it now", email_id, attempt
    )
    return False


def _fail_abandoned() -> None:
    """Fail the emails whose last allowed attempt died with its worker."""
    db.session.execute(
        update(OutboundEmail)
        .where(
            OutboundEmail.status == "sending",
            OutboundEmail.attempts >= MAX_ATTEMPTS,
            OutboundEmail.next_attempt_at <= utcnow(),
        )
        .values(status="failed", next_attempt_at=None, last_error=ABANDONED)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
