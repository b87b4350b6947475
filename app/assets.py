"""Every webassets bundle: the console's CSS and JS (storefront widgets join later)."""

from __future__ import annotations

from flask import Flask
from flask_assets import Bundle, Environment

HTMX = "vendor/htmx-2.0.11.min.js"

BUNDLES = {
    "console_css": Bundle(
        "css/console.css", filters="rcssmin", output="gen/console.%(version)s.css"
    ),
    "console_js": Bundle(
        HTMX, Bundle("js/console.js", filters="rjsmin"), output="gen/console.%(version)s.js"
    ),
}


def init_app(app: Flask) -> None:
    env = Environment(app)
    env.url_expire = False
    env.cache = False
    env.manifest = "file"
    for name, bundle in BUNDLES.items():
        env.register(name, bundle)
