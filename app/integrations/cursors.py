"""Opaque page cursors: a list position sealed for one list of one merchant.

A cursor is encrypted and authenticated (Fernet, from ``cryptography``) with a key derived from
the app's secret, so a client can neither read it (row ids would hint at other merchants'
volume) nor forge or move it to another merchant's list. Pure: no Flask, no database.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from app.integrations import wire

MAX_LENGTH = 512


def _fernet(secret: str) -> Fernet:
    digest = hashlib.sha256(b"perennial page cursor\x00" + secret.encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encode(secret: str, scope: str, position: dict[str, Any]) -> str:
    """Seal ``position`` (JSON values) for the list named ``scope``."""
    raw = json.dumps({"s": scope, "p": position}, separators=(",", ":")).encode("utf-8")
    return _fernet(secret).encrypt(raw).decode("ascii").rstrip("=")


def decode(secret: str, scope: str, token: str) -> dict[str, Any]:
    """The position sealed in ``token`` for ``scope``; WireError if it is anything else."""
    if not token or len(token) > MAX_LENGTH or not token.isascii():
        raise wire.WireError("Invalid cursor; use the next or previous link as given.")
    try:
        raw = _fernet(secret).decrypt((token + "=" * (-len(token) % 4)).encode("ascii"))
        data = wire.loads(raw, max_depth=3)
    except (InvalidToken, wire.WireError, ValueError):
        raise wire.WireError("Invalid cursor; use the next or previous link as given.") from None
    if not isinstance(data, dict) or data.get("s") != scope or not isinstance(data.get("p"), dict):
        raise wire.WireError("Invalid cursor; use the next or previous link as given.")
    return data["p"]
