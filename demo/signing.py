"""Ordergroove's shared cryptography as a merchant implements it (contracts §0).

``sign`` is the HMAC of §0.1, ``encrypt_field``/``decrypt_field`` the AES of §0.3, and
``verify_authorization`` checks the JSON ``Authorization`` header of an order placement POST
the way the official receivers do (§6.2, §11): ``ts`` an integer JSON number no older than
2 hours, ``sig`` compared as plain base64 (no URL-decoding) in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MAX_AGE_SECONDS = 7200
FUTURE_SKEW_SECONDS = 300  # the contract sets no future limit; a small one stops far-off replays
MAX_HEADER_CHARS = 4096
AES_BLOCK = 32
AES_PAD = b"{"


class SignatureRefused(ValueError):
    """The Authorization header does not prove the platform sent this; the message says why."""


@dataclass(frozen=True)
class Authorization:
    public_id: str
    sig_field: str
    ts: int
    sig: str


def sign(hash_key: str, data: str, ts: int) -> str:
    """Return base64(HMAC-SHA256(hash_key, "data|ts")) (contracts §0.1)."""
    message = f"{data}|{ts}".encode()
    return base64.b64encode(hmac.new(hash_key.encode(), message, hashlib.sha256).digest()).decode()


def _aes(hash_key: str) -> Cipher:
    return Cipher(algorithms.AES(hash_key.encode("utf-8")), modes.ECB())  # noqa: S305 - contract


def encrypt_field(hash_key: str, text: str) -> str:
    """AES-256-ECB, padded with ``{`` to 32 bytes, base64 (contracts §0.3)."""
    data = text.encode("utf-8")
    data += AES_PAD * (AES_BLOCK - len(data) % AES_BLOCK)
    encryptor = _aes(hash_key).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")


def decrypt_field(hash_key: str, value: str) -> str:
    """Reverse ``encrypt_field``.

    :raises ValueError: if ``value`` is not base64 AES ciphertext of UTF-8 text for this key.
    """
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc
    if not data or len(data) % 16:
        raise ValueError("not AES ciphertext")
    decryptor = _aes(hash_key).decryptor()
    plain = (decryptor.update(data) + decryptor.finalize()).rstrip(AES_PAD)
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("not text for this key") from exc


def parse_authorization(value: str | None) -> Authorization:
    """Read the JSON header of contracts §0.2.

    :raises SignatureRefused: if it is missing, not a JSON object of strings and an integer
        ``ts`` (a string ``ts`` is refused, as SFCC's receiver does).
    """
    if not value:
        raise SignatureRefused("The Authorization header is missing.")
    if len(value) > MAX_HEADER_CHARS:
        raise SignatureRefused("The Authorization header is too long.")
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise SignatureRefused("The Authorization header is not JSON.") from exc
    if not isinstance(data, dict):
        raise SignatureRefused("The Authorization header is not a JSON object.")
    ts = data.get("ts")
    if not isinstance(ts, int) or isinstance(ts, bool):
        raise SignatureRefused("The Authorization header's ts must be a JSON number of seconds.")
    fields = [data.get(name) for name in ("public_id", "sig_field", "sig")]
    if not all(isinstance(field, str) and field for field in fields):
        raise SignatureRefused(
            "The Authorization header needs public_id, sig_field and sig as strings."
        )
    public_id, sig_field, sig = fields
    return Authorization(public_id, sig_field, ts, sig)


def verify_authorization(
    value: str | None, *, public_id: str, hash_key: str, now: float
) -> Authorization:
    """Parse the header and check the merchant, the signature and its age.

    :raises SignatureRefused: with the reason, for the store's delivery log.
    """
    auth = parse_authorization(value)
    if auth.public_id != public_id:
        raise SignatureRefused("The Authorization header's public_id is not this store's.")
    expected = sign(hash_key, auth.sig_field, auth.ts).encode("ascii")
    if not hmac.compare_digest(expected, auth.sig.encode("utf-8", "replace")):
        raise SignatureRefused("The signature does not match.")
    if now - auth.ts > MAX_AGE_SECONDS:
        raise SignatureRefused("The signature has expired (ts is more than 2 hours old).")
    if auth.ts - now > FUTURE_SKEW_SECONDS:
        raise SignatureRefused("The signature's ts is in the future.")
    return auth
