"""Outbox delivery against a real SMTP server (aiosmtpd): once per email, never lost."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.integrations import mail as backends
from app.models import Customer, OutboundEmail
from app.services import notifications
from tests.factories import make_customer, make_email, make_merchant


def test_dedupe_key_queues_one_email_per_merchant_and_purpose(app):
    merchant, other = make_merchant(), make_merchant()
    customer = make_customer(merchant)
    first = make_email(merchant, customer, dedupe_key="order.reminder:o1")
    again = make_email(merchant, customer, template="subscription.discontinued_swap",
                       dedupe_key="order.reminder:o1")
    assert again.id == first.id
    make_email(other, dedupe_key="order.reminder:o1")  # another merchant's key is its own
    make_email(merchant, customer)
    make_email(merchant, customer)  # no key: no limit
    counts = dict(db.session.execute(select(OutboundEmail.merchant_id, func.count())
                                     .group_by(OutboundEmail.merchant_id)).all())
    assert counts == {merchant.id: 3, other.id: 1}


def test_a_duplicate_key_leaves_the_callers_other_work_in_place(app):
    merchant = make_merchant()
    customer = make_customer(merchant)
    make_email(merchant, customer, dedupe_key="order.reminder:o1")
    customer.first_name = "Alex"  # the caller's own change, in the same transaction
    notifications.queue_email(merchant.id, customer, "subscription.discontinued_cancel",
                              dedupe_key="order.reminder:o1", product="x", subscription="s")
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
            email = notifications.queue_email(merchant_id, customer,
                                              "subscription.discontinued_cancel",
                                              dedupe_key="order.reminder:o9", product="x",
                                              subscription="s")
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
        "mail.example.com", 587, True, False)
    assert (server.username, server.password) == ("u@x", "s3cr/t")
    assert "s3cr" not in repr(server)
    assert backends.SmtpServer.from_url("smtps://mail.example.com").port == 465
    assert backends.SmtpServer.from_url("smtp://127.0.0.1").port == 25
    for url in ("smtp://u:s3cret@mail.example.com:25",  # a password in clear text
                "http://u:s3cret@mail.example.com", "smtps://u:s3cret@h?starttls=1",
                "smtp://u:s3cret@h?tls=1"):
        with pytest.raises(ValueError) as refused:
            backends.SmtpServer.from_url(url)
        assert "s3cret" not in str(refused.value)


def test_backend_is_picked_from_settings():
    settings = {"SMTP_URL": None, "MAIL_FROM": "Shop <no-reply@shop.example>",
                "SMTP_TIMEOUT": 5}
    assert isinstance(backends.get_backend(settings), backends.OutboxBackend)
    settings["SMTP_URL"] = "smtp://127.0.0.1:2525"
    assert isinstance(backends.get_backend(settings), backends.SmtpBackend)
    with pytest.raises(ValueError, match="MAIL_FROM"):
        backends.get_backend({**settings, "MAIL_FROM": "nobody"})
