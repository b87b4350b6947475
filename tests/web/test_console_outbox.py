"""Console: the outbox lists the merchant's emails newest first and opens one in full."""

from html import unescape

import pytest

from app.extensions import db
from app.models import Merchant
from app.services import notifications
from tests.factories import HX, login, make_customer, make_email, make_merchant, make_staff


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def merchant(owner):
    return db.session.get(Merchant, owner.merchant_id)


@pytest.mark.parametrize("path", ["/console/outbox/", "/console/outbox/0123abcd"])
def test_outbox_requires_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/console/login" in response.headers["Location"]


def test_outbox_lists_emails_newest_first(client, merchant):
    older = make_email(merchant, template="subscription.discontinued_swap")
    newer = make_email(merchant, status="failed", last_error="550 No such user")
    page = text(client.get("/console/outbox/"))
    assert page.index(newer.public_id) < page.index(older.public_id)
    assert older.to_address in page and "Your subscription has changed" in page
    assert "subscription.discontinued_cancel" in page and "failed" in page
    assert 'aria-current="page"' in page and ">Outbox</a>" in page


def test_outbox_table_is_a_fragment_for_htmx(client, merchant):
    make_email(merchant)
    response = client.get("/console/outbox/", headers=HX)
    body = text(response)
    assert body.lstrip().startswith('<div id="outbox-table">')
    assert "<html" not in body
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" in text(client.get("/console/outbox/"))


def test_an_email_opens_with_its_body_escaped(client, merchant):
    customer = make_customer(merchant)
    email = notifications.queue_email(
        merchant.id,
        customer,
        "subscription.discontinued_cancel",
        product="<script>alert(1)</script>",
        subscription="s1",
    )
    db.session.commit()
    response = client.get(f"/console/outbox/{email.public_id}")
    assert response.status_code == 200
    assert "<script>alert(1)</script> has been discontinued" in text(response)
    assert b"<script>alert(1)</script>" not in response.data
    assert customer.email in text(response)


def test_an_email_kept_in_the_outbox_says_so(client, merchant):
    make_email(merchant, status="sent", transport="outbox")
    assert "kept in outbox" in text(client.get("/console/outbox/"))


def test_staff_see_the_outbox_too(client):
    merchant = make_merchant()
    email = make_email(merchant)
    login(client, make_staff(merchant, role="staff"))
    assert email.public_id in text(client.get("/console/outbox/"))
    assert client.get(f"/console/outbox/{email.public_id}").status_code == 200


def test_another_merchants_emails_are_invisible(client, merchant):
    theirs = make_email(make_merchant(), template="subscription.discontinued_swap")
    page = text(client.get("/console/outbox/"))
    assert theirs.public_id not in page and theirs.to_address not in page
    assert "No emails yet" in page
    assert client.get(f"/console/outbox/{theirs.public_id}").status_code == 404


def test_outbox_pages_through_older_emails(client, merchant):
    customer = make_customer(merchant)
    emails = [make_email(merchant, customer) for _ in range(notifications.PAGE_SIZE + 1)]
    first = text(client.get("/console/outbox/"))
    assert emails[-1].public_id in first and emails[0].public_id not in first
    assert "Older emails" in first
    link = f"/console/outbox/?before={emails[1].id}"
    assert f'href="{link}"' in first
    second = text(client.get(link, headers=HX))
    assert emails[0].public_id in second and emails[1].public_id not in second
    assert "Older emails" not in second


def test_a_bad_page_cursor_is_refused(client, merchant):
    assert client.get("/console/outbox/?before=abc").status_code == 400
