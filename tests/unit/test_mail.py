"""Outbox delivery against a real SMTP server (aiosmtpd): once per email, never lost."""

from __future__ import annotations

import logging
import socket
import threading
from contextlib import contextmanager
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import func, select

from app.extensions import db
from app.integrations import mail as backends
from app.models import Customer, OutboundEmail
from app.models.types import utcnow
from app.services import mail, notifications
from tests.factories import make_customer, make_email, make_merchant


class Inbox:
    """An aiosmtpd handler that keeps what it accepts; subclasses misbehave on purpose."""

    def __init__(self):
        self.messages, self.recipients, self.logins = [], [], []

    async def handle_DATA(self, server, session, envelope):
        self.recipients.append(envelope.rcpt_tos)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK: queued"

    def ids(self) -> list[str]:
        return [m["X-Perennial-Email-Id"] for m in self.messages]


class DropsDuringData(Inbox):
    """Reads the message, then hangs up before saying whether it kept it."""

    async def handle_DATA(self, server, session, envelope):
        server.transport.close()
        return "250 OK"


class DropsBeforeQuit(Inbox):
    """Takes the message (250), then hangs up instead of answering QUIT."""

    async def handle_QUIT(self, server, session, envelope):
        server.transport.close()
        return "221 Bye"


class Refuses(Inbox):
    def __init__(self, reply: str):
        super().__init__()
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return self.reply


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(handler: Inbox, port: int | None = None, **options):
    """Run an SMTP server for ``handler`` on 127.0.0.1; yield its SMTP_URL."""
    controller = Controller(handler, hostname="127.0.0.1", port=port or free_port(), **options)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()


@pytest.fixture
def smtp(app, monkeypatch):
    """A well-behaved SMTP server, configured as the app's SMTP_URL."""
    inbox = Inbox()
    with serving(inbox) as url:
        monkeypatch.setitem(app.config, "SMTP_URL", url)
        yield inbox


def use(app, monkeypatch, url: str) -> None:
    monkeypatch.setitem(app.config, "SMTP_URL", url)


def reload(email: OutboundEmail) -> OutboundEmail:
    db.session.expire_all()
    return db.session.get(OutboundEmail, email.id)


def make_due(email: OutboundEmail) -> None:
    """Let the clock pass the email's backoff or lease."""
    db.session.execute(
        OutboundEmail.__table__.update()
        .where(OutboundEmail.id == email.id)
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def test_smtp_delivers_one_rfc5322_message_with_stable_ids(app, smtp):
    email = make_email(make_merchant())
    assert mail.deliver_pending() == 1
    [message] = smtp.messages
    assert smtp.recipients == [[email.to_address]]
    assert message["From"] == app.config["MAIL_FROM"]
    assert message["To"] == email.to_address
    assert message["Subject"] == "Your subscription has ended"
    assert message["Message-ID"] == f"<{email.public_id}@localhost>"
    assert message["X-Perennial-Email-Id"] == email.public_id
    assert message["Date"] and message["Auto-Submitted"] == "auto-generated"
    assert "Trail Coffee has been discontinued" in message.get_content()
    email = reload(email)
    assert (email.status, email.transport, email.attempts) == ("sent", "smtp", 1)
    assert email.sent_at is not None and email.next_attempt_at is None
    assert mail.deliver_pending() == 0 and len(smtp.messages) == 1


def test_without_smtp_url_emails_stay_in_the_outbox_marked_sent(app):
    assert app.config["SMTP_URL"] is None
    email = make_email(make_merchant())
    assert mail.deliver_pending() == 1
    email = reload(email)
    assert (email.status, email.transport) == ("sent", "outbox")


def test_server_down_keeps_the_email_and_retries_after_a_backoff(app, monkeypatch):
    port = free_port()  # nothing listens here yet
    use(app, monkeypatch, f"smtp://127.0.0.1:{port}")
    email = make_email(make_merchant())
    assert mail.deliver_pending() == 0
    email = reload(email)
    assert (email.status, email.attempts) == ("queued", 1)
    assert "Cannot reach the SMTP server 127.0.0.1" in email.last_error
    assert email.next_attempt_at > utcnow() + mail.BACKOFF[0] - timedelta(seconds=30)
    assert mail.deliver_pending() == 0 and reload(email).attempts == 1  # not due yet

    inbox = Inbox()
    with serving(inbox, port=port):
        make_due(email)
        assert mail.deliver_pending() == 1
    assert inbox.ids() == [email.public_id]
    email = reload(email)
    assert (email.status, email.attempts, email.last_error) == ("sent", 2, None)


def test_server_down_charges_one_email_not_the_whole_batch(app, monkeypatch):
    use(app, monkeypatch, f"smtp://127.0.0.1:{free_port()}")
    merchant = make_merchant()
    emails = [make_email(merchant) for _ in range(3)]
    mail.deliver_pending()
    assert [reload(e).attempts for e in emails] == [1, 0, 0]


def test_retries_are_bounded_then_the_email_fails_with_its_error(app, monkeypatch):
    use(app, monkeypatch, f"smtp://127.0.0.1:{free_port()}")
    email = make_email(make_merchant())
    for _ in range(mail.MAX_ATTEMPTS):
        make_due(email)
        mail.deliver_pending()
    email = reload(email)
    assert (email.status, email.attempts) == ("failed", mail.MAX_ATTEMPTS)
    assert "Cannot reach" in email.last_error and email.next_attempt_at is None
    make_due(email)
    mail.deliver_pending()
    assert reload(email).attempts == mail.MAX_ATTEMPTS


def test_a_server_that_accepts_then_hangs_up_before_greeting_is_retried(app, monkeypatch):
    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=lambda: listener.accept()[0].close(), daemon=True).start()
    use(app, monkeypatch, f"smtp://127.0.0.1:{listener.getsockname()[1]}")
    email = make_email(make_merchant())
    mail.deliver_pending()
    listener.close()
    email = reload(email)
    assert (email.status, email.attempts) == ("queued", 1)
    assert "Connection unexpectedly closed" in email.last_error


def test_a_connection_dropped_during_data_is_retried_not_lost(app, monkeypatch, smtp):
    email, good = make_email(make_merchant()), app.config["SMTP_URL"]
    with serving(DropsDuringData()) as url:
        use(app, monkeypatch, url)
        assert mail.deliver_pending() == 0
    email = reload(email)
    assert (email.status, email.attempts) == ("queued", 1)
    assert "Connection lost while sending" in email.last_error
    use(app, monkeypatch, good)
    make_due(email)
    assert mail.deliver_pending() == 1
    assert smtp.ids() == [email.public_id]  # the same Message-ID as the lost attempt


def test_a_hang_up_after_the_server_took_the_email_counts_as_sent(app, monkeypatch):
    inbox = DropsBeforeQuit()
    email = make_email(make_merchant())
    with serving(inbox) as url:
        use(app, monkeypatch, url)
        assert mail.deliver_pending() == 1
    assert inbox.ids() == [email.public_id]
    assert reload(email).status == "sent"


@pytest.mark.parametrize(
    ("reply", "status", "attempts_left"),
    [
        ("550 5.1.1 No such user", "failed", False),
        ("451 4.3.0 Try again later", "queued", True),
    ],
)
def test_smtp_refusals_fail_for_good_or_retry_by_code(
    app, monkeypatch, reply, status, attempts_left
):
    email = make_email(make_merchant())
    with serving(Refuses(reply)) as url:
        use(app, monkeypatch, url)
        mail.deliver_pending()
    email = reload(email)
    assert (email.status, email.last_error) == (status, reply)
    assert (email.next_attempt_at is not None) is attempts_left


@pytest.mark.parametrize(
    "address",
    ["a@example.com\r\nBcc: victim@example.org", "a@example.com, b@example.org", "not-an-address"],
)
def test_a_malformed_recipient_fails_and_sends_nothing(app, smtp, address):
    merchant = make_merchant()
    customer = make_customer(merchant)
    customer.email = address
    db.session.commit()
    email = make_email(merchant, customer)
    assert mail.deliver_pending() == 0
    assert reload(email).status == "failed" and smtp.messages == []


def test_a_customer_without_an_address_fails_visibly(app, smtp):
    email = make_email(make_merchant(), to_address=None)
    mail.deliver_pending()
    email = reload(email)
    assert (email.status, email.last_error) == ("failed", "The customer has no email address.")


def test_a_worker_killed_mid_send_leaves_an_email_that_is_sent_after_its_lease(app, smtp):
    email = make_email(make_merchant())
    # What the dead worker left: its claim, with a lease that has not ended yet.
    email.status, email.attempts = "sending", 1
    email.next_attempt_at = utcnow() + mail.LEASE
    db.session.commit()
    assert mail.deliver_pending() == 0 and smtp.messages == []
    make_due(email)
    assert mail.deliver_pending() == 1
    assert smtp.ids() == [email.public_id]
    assert (reload(email).status, reload(email).attempts) == ("sent", 2)


def test_a_dead_workers_last_attempt_ends_failed_saying_it_may_have_gone(app, smtp):
    email = make_email(make_merchant(), status="sending", attempts=mail.MAX_ATTEMPTS)
    make_due(email)
    mail.deliver_pending()
    email = reload(email)
    assert (email.status, email.last_error) == ("failed", mail.ABANDONED)
    assert smtp.messages == []


def test_a_worker_whose_lease_lapsed_cannot_overwrite_the_next_attempt(app, smtp):
    email = make_email(make_merchant())

    class Stuck:
        """Hangs past its lease; meanwhile another worker sends; then it fails."""

        name = "smtp"

        def send(self, message):
            make_due(email)
            assert mail.deliver(email.id).status == "sent"
            raise backends.MailError("timed out")

    assert mail.deliver(email.id, backend=Stuck()).status == "sent"
    assert reload(email).attempts == 2 and len(smtp.messages) == 1


def test_two_workers_sweeping_at_once_send_each_email_once(app, smtp):
    merchant = make_merchant()
    ids = {make_email(merchant).public_id for _ in range(12)}
    start, sent = threading.Barrier(2), []

    def worker():
        with app.app_context():
            start.wait()
            sent.append(mail.deliver_pending())
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(smtp.ids()) == sorted(ids)
    assert sum(sent) == 12
    assert {e.attempts for e in db.session.scalars(select(OutboundEmail))} == {1}


def test_login_uses_the_urls_credentials_and_never_logs_secrets(app, monkeypatch, caplog):
    inbox = Inbox()

    def authenticate(server, session, envelope, mechanism, auth_data):
        inbox.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)

    email = make_email(make_merchant())
    with serving(inbox, authenticator=authenticate, auth_require_tls=False) as url:
        use(app, monkeypatch, url.replace("smtp://", "smtp://shop%40x.org:p%40ss%20w@"))
        with caplog.at_level(logging.DEBUG):
            assert mail.deliver_pending() == 1
    assert inbox.logins == [(b"shop@x.org", b"p@ss w")]
    ours = " ".join(r.getMessage() for r in caplog.records if r.name != "mail.log")  # not aiosmtpd
    assert "p@ss" not in ours and "discontinued" not in ours and email.to_address not in ours
    assert email.public_id in ours


def test_dedupe_key_queues_one_email_per_merchant_and_purpose(app):
    merchant, other = make_merchant(), make_merchant()
    customer = make_customer(merchant)
    first = make_email(merchant, customer, dedupe_key="order.reminder:o1")
    again = make_email(
        merchant,
        customer,
        template="subscription.discontinued_swap",
        dedupe_key="order.reminder:o1",
    )
    assert again.id == first.id
    make_email(other, dedupe_key="order.reminder:o1")  # another merchant's key is its own
    make_email(merchant, customer)
    make_email(merchant, customer)  # no key: no limit
    counts = dict(
        db.session.execute(
            select(OutboundEmail.merchant_id, func.count()).group_by(OutboundEmail.merchant_id)
        ).all()
    )
    assert counts == {merchant.id: 3, other.id: 1}


def test_a_duplicate_key_leaves_the_callers_other_work_in_place(app):
    merchant = make_merchant()
    customer = make_customer(merchant)
    make_email(merchant, customer, dedupe_key="order.reminder:o1")
    customer.first_name = "Alex"  # the caller's own change, in the same transaction
    notifications.queue_email(
        merchant.id,
        customer,
        "subscription.discontinued_cancel",
        dedupe_key="order.reminder:o1",
        product="x",
        subscription="s",
    )
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).first_name == "Alex"
    assert db.session.scalar(select(func.count()).select_from(OutboundEmail)) == 1


def test_two_transactions_queueing_one_key_at_once_make_one_email(app):
    merchant = make_merchant()
    customer_id, merchant_id = make_customer(merchant).id, merchant.id
    start, got = threading.Barrier(2), []

    def queue():
        with app.app_context():
            customer = db.session.get(Customer, customer_id)
            start.wait()
            email = notifications.queue_email(
                merchant_id,
                customer,
                "subscription.discontinued_cancel",
                dedupe_key="order.reminder:o9",
                product="x",
                subscription="s",
            )
            db.session.commit()
            got.append(email.id)
            db.session.remove()

    threads = [threading.Thread(target=queue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 2 and got[0] == got[1]
    assert db.session.scalar(select(func.count()).select_from(OutboundEmail)) == 1


def test_smtp_url_parsing_and_refusals_never_echo_the_password():
    server = backends.SmtpServer.from_url("smtp://u%40x:s3cr%2Ft@mail.example.com?starttls=1")
    assert (server.host, server.port, server.starttls, server.tls) == (
        "mail.example.com",
        587,
        True,
        False,
    )
    assert (server.username, server.password) == ("u@x", "s3cr/t")
    assert "s3cr" not in repr(server)
    assert backends.SmtpServer.from_url("smtps://mail.example.com").port == 465
    assert backends.SmtpServer.from_url("smtp://127.0.0.1").port == 25
    for url in (
        "smtp://u:s3cret@mail.example.com:25",  # a password in clear text
        "http://u:s3cret@mail.example.com",
        "smtps://u:s3cret@h?starttls=1",
        "smtp://u:s3cret@h?tls=1",
    ):
        with pytest.raises(ValueError) as refused:
            backends.SmtpServer.from_url(url)
        assert "s3cret" not in str(refused.value)


def test_backend_is_picked_from_settings():
    settings = {"SMTP_URL": None, "MAIL_FROM": "Shop <no-reply@shop.example>", "SMTP_TIMEOUT": 5}
    assert isinstance(backends.get_backend(settings), backends.OutboxBackend)
    settings["SMTP_URL"] = "smtp://127.0.0.1:2525"
    assert isinstance(backends.get_backend(settings), backends.SmtpBackend)
    with pytest.raises(ValueError, match="MAIL_FROM"):
        backends.get_backend({**settings, "MAIL_FROM": "nobody"})


def test_the_cron_sweep_is_the_job_and_runs_every_minute(app, smtp):
    import importlib

    from rq import cron

    from app.jobs import mail as jobs

    email = make_email(make_merchant())
    jobs.deliver_pending()
    assert smtp.ids() == [email.public_id]
    cron._job_data_registry.clear()
    import app.jobs.cron as schedule

    importlib.reload(schedule)
    registered = {job["name"]: job for job in cron._job_data_registry}
    cron._job_data_registry.clear()
    assert registered["mail"]["cron"] == "* * * * *"
