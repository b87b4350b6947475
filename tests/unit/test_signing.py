"""Signing against the contract's vectors T1, T2 and T11, and the ways it must refuse."""

import json
from urllib.parse import quote

import pytest

from app.integrations import signing

KEY = "Mt!ZQ45q&GHsgiRD8{NB-_h87#rjvbn0"
USER, TS = "DC69410241", 1592570791
T1_SIG = "cDT46QUotN2ci0LD2d5vk1i6NBk3WWh9qjplfThl3Fg="
MERCHANT = "0e5de2bedc5e11e3a2e4bc764e106cf4"


def test_t1_signature_matches_vector():
    assert signing.sign(KEY, USER, TS) == T1_SIG


def test_t1_og_auth_value_and_verification():
    value = signing.make_og_auth(KEY, USER, TS)
    assert value == f"{USER}|{TS}|{T1_SIG}"
    assert signing.verify_og_auth(KEY, value, now=TS + 7200) == USER


def test_og_auth_accepts_url_encoded_cookie():
    value = quote(signing.make_og_auth(KEY, USER, TS), safe="")
    assert signing.verify_og_auth(KEY, value, now=TS + 10) == USER


@pytest.mark.parametrize(
    "value, now",
    [
        (f"{USER}|{TS}|{T1_SIG}", TS + 7201),  # stale by one second
        (f"{USER}|{TS}|{T1_SIG}", TS - 301),  # beyond the future skew
        (f"{USER}|{TS}|{T1_SIG[:-2]}A=", TS),  # tampered signature
        (f"DC69410242|{TS}|{T1_SIG}", TS),  # another user with this user's signature
        (f"{USER}|{TS + 1}|{T1_SIG}", TS),  # tampered timestamp
        (f"{USER}|{T1_SIG}", TS),  # missing part
        (f"{USER}|notanumber|{T1_SIG}", TS),
        ("", TS),
    ],
)
def test_og_auth_rejections(value, now):
    with pytest.raises(signing.SignatureError):
        signing.verify_og_auth(KEY, value, now=now)


def test_og_auth_rejects_another_merchants_key():
    other_key = "x" * 32
    with pytest.raises(signing.SignatureError):
        signing.verify_og_auth(other_key, signing.make_og_auth(KEY, USER, TS), now=TS)


def test_small_future_skew_is_accepted():
    assert signing.verify_og_auth(KEY, signing.make_og_auth(KEY, USER, TS + 300), now=TS) == USER


def test_auth_header_round_trip_and_shape():
    header = signing.build_auth_header(MERCHANT, KEY, USER, TS)
    assert json.loads(header) == {"public_id": MERCHANT, "sig_field": USER, "ts": TS, "sig": T1_SIG}
    parsed = signing.verify_auth_header(header, public_id=MERCHANT, hash_key=KEY, now=TS + 60)
    assert parsed.sig_field == USER and parsed.ts == TS


def test_auth_header_accepts_ts_as_string():
    header = json.dumps({"public_id": MERCHANT, "sig_field": USER, "ts": str(TS), "sig": T1_SIG})
    assert signing.verify_auth_header(header, public_id=MERCHANT, hash_key=KEY, now=TS).ts == TS


def test_auth_header_trust_level_variant():
    header = signing.build_auth_header(MERCHANT, KEY, USER, TS, trust_level="recognized")
    parsed = signing.verify_auth_header(header, public_id=MERCHANT, hash_key=KEY, now=TS)
    assert parsed.trust_level == "recognized"
    assert json.loads(header)["sig"] != T1_SIG


@pytest.mark.parametrize(
    "mutate, now",
    [
        (lambda h: h, TS + 7201),  # stale
        (lambda h: h, TS - 3600),  # far future
        (lambda h: {**h, "sig": h["sig"].replace("c", "d", 1)}, TS),  # tampered sig
        (lambda h: {**h, "public_id": "f" * 32}, TS),  # wrong merchant
        (lambda h: {**h, "sig_field": "someone-else"}, TS),
        (lambda h: {**h, "ts": True}, TS),
        (lambda h: {**h, "ts": 1.5}, TS),
        (lambda h: {k: v for k, v in h.items() if k != "sig"}, TS),
        (lambda h: [h], TS),
    ],
)
def test_auth_header_rejections(mutate, now):
    header = json.loads(signing.build_auth_header(MERCHANT, KEY, USER, TS))
    with pytest.raises(signing.SignatureError):
        signing.verify_auth_header(
            json.dumps(mutate(header)), public_id=MERCHANT, hash_key=KEY, now=now
        )


@pytest.mark.parametrize("raw", [None, "", "not json", "{", "null", '"string"'])
def test_auth_header_garbage(raw):
    with pytest.raises(signing.SignatureError):
        signing.verify_auth_header(raw, public_id=MERCHANT, hash_key=KEY, now=TS)


@pytest.mark.parametrize(
    "plain, cipher",
    [
        ("12/2099", "kwWZ/53+x32tmofPBfCppQzDFDlnWL9lCXQ/q5nFNdk="),
        ("01/2019", "nq+UQCFXsSJQx/dOvA+zwQzDFDlnWL9lCXQ/q5nFNdk="),
        ("4111111111111111", "liUAjAnLVH5tToX+SoIFIAzDFDlnWL9lCXQ/q5nFNdk="),
    ],
)
def test_t2_aes_vectors(plain, cipher):
    assert signing.encrypt_field(KEY, plain) == cipher
    assert signing.decrypt_field(KEY, cipher) == plain
    assert signing.decrypt_field(KEY, quote(cipher, safe="")) == plain


def test_aes_pads_a_full_block_for_32_chars():
    plain = "A" * 32
    cipher = signing.encrypt_field(KEY, plain)
    assert len(signing.base64.b64decode(cipher)) == 64
    assert signing.decrypt_field(KEY, cipher) == plain


@pytest.mark.parametrize("bad", ["", "not base64!!", "AAAA", "AAAAAAAAAAAAAAAAAAAAAA=="])
def test_aes_rejects_invalid_ciphertext(bad):
    with pytest.raises(signing.EncryptionError):
        signing.decrypt_field(KEY, bad)


def test_aes_rejects_wrong_key():
    cipher = signing.encrypt_field(KEY, "12/2099")
    with pytest.raises(signing.EncryptionError):
        signing.decrypt_field("k" * 32, cipher)


T11_KEY = "super-secret-webhooks-verification-key"
T11_BODY = (
    b'{"id": "evt1", "type": "subscription.cancel", "created": 1592570791, "data": {"object": {}}}'
)
T11_SIG = "6eaa2278053aeaf83cde9555a117d277334b278caf5c653c253abc1944d990cb"


def test_t11_webhook_signature():
    assert signing.webhook_header(T11_KEY, TS, T11_BODY) == f"ts={TS},sig={T11_SIG}"
    assert (
        signing.verify_webhook_header(f"ts={TS},sig={T11_SIG}", T11_KEY, T11_BODY, now=TS + 1) == TS
    )


def test_webhook_rotation_carries_both_signatures():
    header = signing.webhook_header(["new-key", T11_KEY], TS, T11_BODY)
    assert header.endswith(f",sig={T11_SIG}") and header.count("sig=") == 2
    assert signing.verify_webhook_header(header, T11_KEY, T11_BODY, now=TS) == TS
    assert signing.verify_webhook_header(header, "new-key", T11_BODY, now=TS) == TS


@pytest.mark.parametrize(
    "header, body, now",
    [
        (f"ts={TS},sig={T11_SIG}", T11_BODY + b" ", TS),  # body changed
        (f"ts={TS + 1},sig={T11_SIG}", T11_BODY, TS),  # ts changed
        (f"ts={TS},sig={T11_SIG}", T11_BODY, TS + 301),  # replayed late
        (f"sig={T11_SIG}", T11_BODY, TS),
        ("garbage", T11_BODY, TS),
    ],
)
def test_webhook_rejections(header, body, now):
    with pytest.raises(signing.SignatureError):
        signing.verify_webhook_header(header, T11_KEY, body, now=now)


def test_aes_round_trips_non_ascii_names():
    key = "Mt!ZQ45q&GHsgiRD8{NB-_h87#rjvbn0"
    for name in ("José Ñúñez", "渡辺 ひろし", "x" * 31 + "é"):
        assert signing.decrypt_field(key, signing.encrypt_field(key, name)) == name
