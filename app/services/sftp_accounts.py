"""Merchants' drop-site logins: hashed passwords, authorized keys, and the server's checks."""

from __future__ import annotations

import base64
import binascii
import functools
import secrets
from pathlib import Path

import paramiko
from flask import Flask, current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import SftpAccount
from app.services import events
from app.services.errors import ValidationError


@functools.cache
def _dummy() -> str:
    """A hash to check against when there is no account, so a miss costs the same as a hit
    (computed on first use, not when the module is imported)."""
    return generate_password_hash("not-a-real-password")


KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)


def get(merchant_id: int) -> SftpAccount | None:
    return db.session.scalar(select(SftpAccount).where(SftpAccount.merchant_id == merchant_id))


def ensure(merchant_id: int, username: str) -> SftpAccount:
    """Return the merchant's account, creating it (without a password) when missing."""
    account = get(merchant_id)
    if account is None:
        account = SftpAccount(merchant_id=merchant_id, username=username)
        db.session.add(account)
        db.session.flush()
    _make_home(account)
    return account


def host_key_fingerprint() -> str | None:
    """The drop site's host key fingerprint (``SHA256:...``) for merchants to pin, if created."""
    path = Path(current_app.config["SFTP_HOST_KEY"])
    if not path.exists():
        return None
    return paramiko.PKey.from_path(path).fingerprint


def password_matches(account: SftpAccount, password: str) -> bool:
    return bool(account.password_hash) and check_password_hash(account.password_hash, password)


def set_password(
    merchant_id: int, username: str, *, actor: events.Actor, password: str | None = None
) -> str:
    """Set (or generate) the account password and return it; only its hash is stored."""
    account = ensure(merchant_id, username)
    password = password or secrets.token_urlsafe(18)
    account.password_hash = generate_password_hash(password)
    events.record(
        merchant_id,
        "sftp.password_set",
        actor,
        object_type="sftp_account",
        object_id=account.username,
    )
    db.session.commit()
    return password


def set_authorized_keys(
    merchant_id: int, username: str, text: str, *, actor: events.Actor
) -> SftpAccount:
    """Replace the account's public keys after checking every line parses."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for number, line in enumerate(lines, 1):
        if _parse_key(line) is None:
            raise ValidationError(
                f"Line {number} is not an OpenSSH public key ({', '.join(KEY_TYPES)}).",
                fields={"authorized_keys": "bad"},
            )
    account = ensure(merchant_id, username)
    account.authorized_keys = "\n".join(lines) or None
    events.record(
        merchant_id,
        "sftp.keys_set",
        actor,
        object_type="sftp_account",
        object_id=account.username,
        after={"keys": len(lines)},
    )
    db.session.commit()
    return account


def _parse_key(line: str) -> paramiko.PKey | None:
    parts = line.split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        return None
    try:
        return paramiko.PKey.from_type_string(parts[0], base64.b64decode(parts[1], validate=True))
    except (binascii.Error, ValueError, TypeError, IndexError, paramiko.SSHException):
        return None


def _make_home(account: SftpAccount) -> None:
    home = Path(current_app.config["SFTP_ROOT"]) / account.username
    for sub in ("incoming", "outgoing"):
        (home / sub).mkdir(parents=True, exist_ok=True)


class DatabaseAuthenticator:
    """The SFTP server's view of the accounts; each check runs in its own app context."""

    def __init__(self, app: Flask):
        self.app = app

    def check_password(self, username: str, password: str) -> bool:
        with self.app.app_context():
            account = db.session.scalar(select(SftpAccount).where(SftpAccount.username == username))
            if account is None or not account.password_hash:
                check_password_hash(_dummy(), password or "")  # same cost as a real check
                return False
            return password_matches(account, password or "")

    def authorized_keys(self, username: str) -> list[paramiko.PKey]:
        with self.app.app_context():
            account = db.session.scalar(select(SftpAccount).where(SftpAccount.username == username))
            lines = (account.authorized_keys or "").splitlines() if account else []
            return [key for key in map(_parse_key, lines) if key is not None]
