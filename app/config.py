"""Settings from the environment, with embedded defaults for development."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from limits import parse_many

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("PERENNIAL_INSTANCE", ROOT / "instance"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _secret_key(production: bool) -> str:
    """Return SECRET_KEY; in development generate one once and keep it in instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if production:
        raise RuntimeError("SECRET_KEY must be set when PERENNIAL_ENV=production")
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def _rate_limit(name: str, default: str) -> str:
    """Return a rate-limit string ("5 per 15 minutes; 20 per day"), refusing one that does not
    parse (Flask-Limiter would only log it and drop the limit)."""
    value = os.environ.get(name, default)
    parse_many(value)
    return value


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'perennial.db'}"
    # Accept the common "postgresql://" / "postgres://" forms; we ship psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Defaults plus environment; read once when the app is built."""

    ENV_NAME = os.environ.get("PERENNIAL_ENV", "development")
    PRODUCTION = ENV_NAME == "production"
    SECRET_KEY = _secret_key(PRODUCTION)
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}  # pool_pre_ping is set by create_app
    REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    RQ_QUEUES = ("default",)
    PLATFORM_URL = os.environ.get("PLATFORM_URL", "http://127.0.0.1:5000")
    DEMO_STORE_URL = os.environ.get("DEMO_STORE_URL", "http://127.0.0.1:5001")
    WEB_PORT = int(os.environ.get("WEB_PORT", "5000"))
    DEMO_PORT = int(os.environ.get("DEMO_PORT", "5001"))
    SFTP_PORT = int(os.environ.get("SFTP_PORT", "2222"))
    INSTANCE_PATH = str(INSTANCE)
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))  # reverse proxies in front
    # Storefront snapshots each web process keeps (app.services.shops), least recently used out
    STOREFRONT_CACHE_MERCHANTS = int(os.environ.get("STOREFRONT_CACHE_MERCHANTS", "200"))
    SFTP_HOST = os.environ.get("SFTP_HOST", "127.0.0.1")  # the address the server binds
    SFTP_PUBLIC_HOST = os.environ.get("SFTP_PUBLIC_HOST", SFTP_HOST)  # what merchants connect to
    SFTP_ROOT = os.environ.get("SFTP_ROOT", str(INSTANCE / "sftp"))
    SFTP_HOST_KEY = os.environ.get("SFTP_HOST_KEY", str(INSTANCE / "sftp_host_key"))
    SFTP_MAX_FILE_BYTES = int(os.environ.get("SFTP_MAX_FILE_BYTES", str(512 * 1024 * 1024)))
    SFTP_MAX_CONNECTIONS = int(os.environ.get("SFTP_MAX_CONNECTIONS", "32"))
    SFTP_MAX_AUTH_FAILURES = int(os.environ.get("SFTP_MAX_AUTH_FAILURES", "5"))  # per IP+user
    SFTP_LOCKOUT_SECONDS = int(os.environ.get("SFTP_LOCKOUT_SECONDS", "300"))
    FEEDS_DIR = os.environ.get("FEEDS_DIR", str(INSTANCE / "feeds"))
    FEED_MAX_BYTES = int(os.environ.get("FEED_MAX_BYTES", str(512 * 1024 * 1024)))
    FEED_BATCH_SIZE = 1000
    # Mail (app/integrations/mail.py): SMTP when SMTP_URL is set, else emails stay in the outbox
    SMTP_URL = os.environ.get("SMTP_URL") or None  # smtp://user:pass@host:587?starttls=1
    MAIL_FROM = os.environ.get("MAIL_FROM", "Perennial <no-reply@localhost>")
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", "30"))  # seconds per network step

    SESSION_COOKIE_NAME = "perennial_console"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Secure cookies everywhere but plain-http development on loopback.
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    # Flask-Limiter (storage: REDIS_URL, set by create_app). When Redis is unreachable, count in
    # each process's memory until it is back: limits stay roughly in force and logins still work.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True  # a storage error in mid-request is logged, not a 500
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}

    # The REST API: every endpoint together, per client address (app/views/ratelimits.py).
    API_RATE_LIMIT = _rate_limit("API_RATE_LIMIT", "6000 per minute")
    # Console login: only refused attempts count (app/views/console/throttle.py).
    LOGIN_LIMIT_PER_ADDRESS = _rate_limit("LOGIN_LIMIT_PER_ADDRESS", "10 per minute; 100 per hour")
    LOGIN_LIMIT_PER_ACCOUNT = _rate_limit("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_DEVICE_COOKIE_DAYS = int(os.environ.get("LOGIN_DEVICE_COOKIE_DAYS", "180"))
    HEARTBEAT_INTERVAL_SECONDS = 15
    ASSETS_DEBUG = False
    ASSETS_AUTO_BUILD = True


class TestConfig(Config):
    """Settings for the test suite: its own database and Redis db, no CSRF shortcuts."""

    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "TEST_DATABASE_URL", f"sqlite:///{INSTANCE / 'test.db'}"
    )
    REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    SERVER_NAME = None
    SMTP_URL = None  # a developer's SMTP_URL must never mail anyone from the tests
    # The generated-input sweep alone sends thousands of API requests a minute from one address;
    # tests of the limit set their own (tests/web/test_api_rate_limit.py).
    API_RATE_LIMIT = "1000000 per minute"
