"""Read the demo store's settings from the environment and the seed-demo credentials file."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PLATFORM_URL = "http://127.0.0.1:5000"
DEFAULT_PORT = 5001
DEFAULT_SFTP_PORT = 2222

# keys of `flask --app wsgi seed-demo --json` -> our config names
CREDENTIAL_KEYS = {
    "merchant_public_id": "MERCHANT_PUBLIC_ID",
    "hash_key": "MERCHANT_HASH_KEY",
    "api_key": "PLATFORM_API_KEY",
    "platform_url": "PLATFORM_URL",
    "store_url": "STORE_URL",
    "sftp_username": "SFTP_USERNAME",
    "sftp_password": "SFTP_PASSWORD",
    "sftp_port": "SFTP_PORT",
}


def read_credentials(path: str | os.PathLike[str]) -> dict[str, str]:
    """Map the seed-demo JSON file at ``path`` to config keys.

    :raises ValueError: if the file is not a JSON object.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object from seed-demo --json")
    return {key: str(data[name]) for name, key in CREDENTIAL_KEYS.items() if data.get(name)}


def load_config(environ: Mapping[str, str]) -> dict[str, Any]:
    """Build the config dict: defaults, then the credentials file, then explicit env vars."""
    port = int(environ.get("DEMO_PORT", DEFAULT_PORT))
    config: dict[str, Any] = {
        "PLATFORM_URL": DEFAULT_PLATFORM_URL,
        "MERCHANT_PUBLIC_ID": None,
        "STORE_URL": f"http://127.0.0.1:{port}",
        "DEMO_DB": str(REPO_ROOT / "instance" / "demo.db"),
        "SECRET_KEY": environ.get("DEMO_SECRET_KEY") or secrets.token_hex(32),
        "SESSION_COOKIE_NAME": "fernfable_session",
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SFTP_HOST": "127.0.0.1",
        "SFTP_PORT": DEFAULT_SFTP_PORT,
        "SFTP_USERNAME": None,
        "SFTP_PASSWORD": None,
        "SFTP_KNOWN_HOSTS": None,  # default: demo_known_hosts beside DEMO_DB
        # how long the order endpoint's "stall" switch waits before it answers
        "RECURRING_STALL_SECONDS": float(environ.get("DEMO_RECURRING_STALL_SECONDS", 10)),
    }
    if environ.get("DEMO_CREDENTIALS"):
        config.update(read_credentials(environ["DEMO_CREDENTIALS"]))
    for key in (
        "PLATFORM_URL",
        "MERCHANT_PUBLIC_ID",
        "STORE_URL",
        "DEMO_DB",
        "SFTP_HOST",
        "SFTP_PORT",
        "SFTP_KNOWN_HOSTS",
    ):
        if environ.get(key):
            config[key] = environ[key]
    return config
