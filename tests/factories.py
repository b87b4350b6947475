"""Plain functions that add a row, commit and return it (CTFd ``gen_*`` style)."""

from __future__ import annotations

import itertools
import re

from app.extensions import db
from app.models import Merchant, StaffUser
from app.services import accounts, api_keys, events, merchants

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def make_merchant(**overrides) -> Merchant:
    merchant = merchants.create(overrides.pop("name", f"Shop {next(_seq)}"))
    for key, value in overrides.items():
        setattr(merchant, key, value)
    db.session.commit()
    return merchant


def make_staff(merchant: Merchant | None = None, *, role: str = "owner", email: str | None = None,
               password: str = PASSWORD) -> StaffUser:
    merchant = merchant or make_merchant()
    user = accounts.create_staff(merchant.id, email or f"user{next(_seq)}@example.com", password,
                                 role=role)
    db.session.commit()
    return user


def make_api_key(merchant: Merchant, name: str = "test key") -> str:
    return api_keys.create(merchant.id, name, actor=events.Actor("system"))[1]


def csrf_token(client, path: str = "/console/login") -> str:
    """Read the CSRF token the way a browser would: from a rendered form."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, user: StaffUser, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post("/console/login", data={"email": user.email, "password": password,
                                               "csrf_token": token})
