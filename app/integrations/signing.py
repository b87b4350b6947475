"""Ordergroove-compatible signatures and field encryption (contracts §0, §8.4).

Pure functions: no Flask, no database. Every comparison of a secret-derived value is
constant-time. Callers pass the merchant's hash key; nothing here logs or echoes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from app.integrations import wire

MAX_AGE_SECONDS = 7200
FUTURE_SKEW_SECONDS = 300
MAX_HEADER_CHARS = 4096  # a real header is about 150 characters
AES_BLOCK_CHARS = 32
AES_PAD = "{"


class SignatureError(ValueError):
    """A signature, token or header failed verification (always answered as 403)."""


class EncryptionError(ValueError):
    """A field is not valid base64/AES ciphertext for the merchant's key."""


@dataclass(frozen=True)
class AuthHeader:
    """The parsed JSON ``Authorization`` header of contracts §0.2."""

    public_id: str
    sig_field: str
    ts: int
    sig: str
    trust_level: str | None = None


def sign(hash_key: str, data: str, ts: int, *, trust_level: str | None = None) -> str:
    """Return the base64 HMAC-SHA256 of ``data|ts`` (or ``data|trust_level|ts``)."""
    parts = [data, trust_level, str(int(ts))] if trust_level else [data, str(int(ts))]
    message = "|".join(parts).encode("utf-8")
    digest = hmac.new(hash_key.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _check_sig(hash_key: str, data: str, ts: int, sig: str, trust_level: str | None) -> None:
    expected = sign(hash_key, data, ts, trust_level=trust_level).encode("ascii")
    # A URL-encoded signature (form fields, query strings) is accepted too.
    candidates = {sig, unquote(sig)}
    if not any(hmac.compare_digest(expected, c.encode("utf-8", "replace")) for c in candidates):
        raise SignatureError("signature mismatch")


def verify_signature(
    hash_key: str, data: str, ts: object, sig: str, *, now: float | None = None
) -> None:
    """Check a ``data|ts`` signature and its freshness (e.g. the verification link's)."""
    ts = _parse_ts(ts)
    _check_sig(hash_key, data, ts, sig or "", None)
    check_fresh(ts, now=now)


def check_fresh(
    ts: int,
    *,
    now: float | None = None,
    max_age: int = MAX_AGE_SECONDS,
    skew: int = FUTURE_SKEW_SECONDS,
) -> None:
    """Raise unless ``ts`` lies within the last ``max_age`` seconds (plus a small future skew)."""
    current = int(time.time() if now is None else now)
    if current - ts > max_age:
        raise SignatureError("timestamp too old")
    if ts - current > skew:
        raise SignatureError("timestamp in the future")


def _parse_ts(value: object) -> int:
    if isinstance(value, bool):
        raise SignatureError("timestamp is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value):  # ASCII: not "²"
        return int(value)
    raise SignatureError("timestamp is not an integer")


def make_og_auth(hash_key: str, user_id: str, ts: int | None = None) -> str:
    """Build the ``og_auth`` cookie value ``user_id|ts|sig`` (not URL-encoded)."""
    ts = int(time.time()) if ts is None else int(ts)
    return f"{user_id}|{ts}|{sign(hash_key, user_id, ts)}"


def verify_og_auth(hash_key: str, value: str, *, now: float | None = None) -> str:
    """Return the merchant user id from a valid ``og_auth`` value, else raise SignatureError."""
    value = unquote(value or "")
    parts = value.rsplit("|", 2)
    if len(parts) != 3 or not parts[0]:
        raise SignatureError("malformed og_auth")
    user_id, raw_ts, sig = parts
    ts = _parse_ts(raw_ts)
    _check_sig(hash_key, user_id, ts, sig, None)
    check_fresh(ts, now=now)
    return user_id


def build_auth_header(
    public_id: str,
    hash_key: str,
    user_id: str,
    ts: int | None = None,
    *,
    trust_level: str | None = None,
) -> str:
    """Serialise the JSON ``Authorization`` header for ``user_id`` (contracts §0.2)."""
    ts = int(time.time()) if ts is None else int(ts)
    body: dict[str, object] = {
        "public_id": public_id,
        "sig_field": user_id,
        "ts": ts,
        "sig": sign(hash_key, user_id, ts, trust_level=trust_level),
    }
    if trust_level:
        body["trust_level"] = trust_level
    return json.dumps(body)


def parse_auth_header(value: str | None) -> AuthHeader:
    """Parse the JSON header without verifying it (to find which merchant's key to use)."""
    if not value:
        raise SignatureError("missing Authorization header")
    if len(value) > MAX_HEADER_CHARS:
        raise SignatureError("Authorization header is too long")
    try:
        data = wire.loads(value, max_depth=2)
    except wire.WireError as exc:
        raise SignatureError("Authorization header is not a JSON object of strings") from exc
    if not isinstance(data, dict):
        raise SignatureError("Authorization header is not a JSON object")
    fields = {k: data.get(k) for k in ("public_id", "sig_field", "sig")}
    if not all(isinstance(v, str) and v for v in fields.values()):
        raise SignatureError("Authorization header lacks public_id, sig_field or sig")
    trust = data.get("trust_level")
    if trust is not None and not isinstance(trust, str):
        raise SignatureError("trust_level must be a string")
    return AuthHeader(ts=_parse_ts(data.get("ts")), trust_level=trust or None, **fields)


def verify_auth_header(
    value: str | None,
    *,
    public_id: str,
    hash_key: str,
    now: float | None = None,
) -> AuthHeader:
    """Verify the header for merchant ``public_id``; return it parsed or raise SignatureError."""
    header = parse_auth_header(value)
    if not hmac.compare_digest(header.public_id.encode(), public_id.encode()):
        raise SignatureError("header is for another merchant")
    _check_sig(hash_key, header.sig_field, header.ts, header.sig, header.trust_level)
    check_fresh(header.ts, now=now)
    return header


def _cipher(hash_key: str) -> Cipher:
    key = hash_key.encode("utf-8")
    if len(key) not in (16, 24, 32):
        raise EncryptionError("hash key must be 16, 24 or 32 bytes for AES")
    return Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - the contract's mode


def encrypt_field(hash_key: str, plaintext: str) -> str:
    """AES-ECB encrypt ``plaintext`` padded with ``{`` to 32 chars; return base64."""
    # Padded in bytes: the same as characters for ASCII, and still whole AES blocks for
    # names such as "José" whose UTF-8 takes more bytes than characters.
    data = plaintext.encode("utf-8")
    data += (AES_BLOCK_CHARS - len(data) % AES_BLOCK_CHARS) * AES_PAD.encode("ascii")
    encryptor = _cipher(hash_key).encryptor()
    raw = encryptor.update(data) + encryptor.finalize()
    return base64.b64encode(raw).decode("ascii")


def decrypt_field(hash_key: str, value: str) -> str:
    """Decrypt a base64 (or URL-encoded base64) field and strip its ``{`` padding."""
    text = (value or "").strip()
    if "%" in text:
        text = unquote(text)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EncryptionError("not base64") from exc
    if not raw or len(raw) % 16:
        raise EncryptionError("not an AES ciphertext")
    decryptor = _cipher(hash_key).decryptor()
    plain = decryptor.update(raw) + decryptor.finalize()
    try:
        decoded = plain.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EncryptionError("wrong key or corrupt ciphertext") from exc
    if not decoded.endswith(AES_PAD):
        raise EncryptionError("padding missing: wrong key or corrupt ciphertext")
    return decoded.rstrip(AES_PAD)


def webhook_signature(key: str, ts: int, body: bytes) -> str:
    """Return hex HMAC-SHA256 of ``"<ts>.<raw body>"`` (contracts §8.4)."""
    message = str(int(ts)).encode("ascii") + b"." + body
    return hmac.new(key.encode("ascii"), message, hashlib.sha256).hexdigest()


def webhook_header(keys: str | Iterable[str], ts: int, body: bytes) -> str:
    """Build ``OrderGroove-Signature``; several keys (new first) during a rotation."""
    key_list = [keys] if isinstance(keys, str) else list(keys)
    sigs = ",".join(f"sig={webhook_signature(k, ts, body)}" for k in key_list)
    return f"ts={int(ts)},{sigs}"


def verify_webhook_header(
    header: str,
    key: str,
    body: bytes,
    *,
    now: float | None = None,
    max_age: int = 300,
) -> int:
    """Verify a webhook header against one key (receiver side); return its timestamp."""
    ts: int | None = None
    sigs: list[str] = []
    for part in (header or "").split(","):
        name, _, val = part.strip().partition("=")
        if name == "ts":
            ts = _parse_ts(val)
        elif name == "sig":
            sigs.append(val)
    if ts is None or not sigs:
        raise SignatureError("malformed signature header")
    expected = webhook_signature(key, ts, body).encode("ascii")
    if not any(hmac.compare_digest(expected, s.encode("utf-8", "replace")) for s in sigs):
        raise SignatureError("signature mismatch")
    check_fresh(ts, now=now, max_age=max_age)
    return ts
