"""Shared fixtures: an app on a real, migrated database (SQLite or PostgreSQL) and Redis.

``TEST_DATABASE_URL`` selects PostgreSQL; without it a SQLite file in a temp folder is used.
``TEST_REDIS_URL`` (default db 15 of the local Redis) is flushed between tests.
"""

from __future__ import annotations

import contextvars
import os
import secrets
import shutil
import tempfile

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.config import TestConfig
from app.extensions import db

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def make_config(database_url: str, **extra) -> type[TestConfig]:
    scratch = tempfile.mkdtemp(prefix="perennial-test-")
    attrs = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": secrets.token_hex(16),
        "SFTP_ROOT": os.path.join(scratch, "sftp"),
        "FEEDS_DIR": os.path.join(scratch, "feeds"),
        "SFTP_HOST_KEY": os.path.join(scratch, "sftp_host_key"),
        **extra,
    }
    return type("RunConfig", (TestConfig,), attrs)


def reset_schema(app) -> None:
    """Drop everything and rebuild the schema through the migrations, as production does."""
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def _session_app(database_url):
    app = create_app(make_config(database_url))
    reset_schema(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_session_app):
    """The app with a pushed context; every table emptied and Redis flushed afterwards."""
    ctx = _session_app.app_context()
    ctx.push()
    _session_app.extensions["rq"]["redis"].flushdb()
    try:
        yield _session_app
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.session.remove()
        ctx.pop()


class IsolatedClient(FlaskClient):
    """Run each request in a fresh context, as production does.

    Otherwise requests would share the test's app context: its ``g``, its database
    session and its identity map. Afterwards the test's session forgets what it loaded,
    so it reads what the request committed.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive Debian's chromium: Playwright cannot download its own browsers here."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM}
