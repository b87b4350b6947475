"""Fern & Fable: a small merchant store that integrates with Perennial like a real one would."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from demo import db, platform, views
from demo.config import load_config


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the store: settings from the environment, overridden by ``config`` (tests)."""
    app = Flask(__name__)
    app.config.update(load_config(os.environ))
    app.config.update(config or {})
    platform.init_app(app)
    db.init_app(app)
    views.register_blueprints(app)
    return app
