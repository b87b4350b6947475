"""Every webassets bundle: the console's CSS and JS, and the storefront loader (``main.js``).

The storefront loader is one IIFE: ``widgets/_open.js``, our scoped copy of htmx, the widget
sources (``offers.css`` becomes a JS string), ``widgets/_close.js``. htmx lives in a stranger's
page there, so ``scope_htmx`` rewrites the vendored file at build time (see its docstring); a
test checks that both rewrites applied.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

from flask import Flask
from flask_assets import Bundle, Environment
from webassets.filter import Filter

HTMX = "vendor/htmx-2.0.11.min.js"
WIDGETS = Path(__file__).resolve().parent.parent / "widgets"
HX_PREFIX = "og-hx-"

# htmx's start-up block: on DOM ready it reads <meta name="htmx-config">, injects its indicator
# <style>, processes document.body and takes over window.onpopstate.
_HTMX_START = re.compile(
    r"\w+\(function\(\)\{\w+\(\);\w+\(\);let \w+=\w+\(\)\.body;.*?\},0\)\}\);(return \w+\}\(\);)",
    re.S,
)
_HX_ATTRIBUTE = re.compile(r"(?<![\w-])hx-|(?<=data-)hx-")


def scope_htmx(source: str) -> str:
    """Make htmx a private library of our loader instead of a page-wide framework.

    1. Drop its start-up block, so it never touches the host page: it only processes the
       elements we hand to ``htmx.process``.
    2. Rename its attributes from ``hx-*`` to ``og-hx-*`` (and ``data-og-hx-*``), so it never
       drives the host's own htmx markup and the host's htmx never drives ours.

    :raises RuntimeError: if the vendored htmx no longer has the expected shape.
    """
    source, started = _HTMX_START.subn(r"\1", source)
    if started != 1:
        raise RuntimeError("htmx start-up block not found: review app.assets.scope_htmx")
    source, renamed = _HX_ATTRIBUTE.subn(HX_PREFIX, source)
    if renamed < 50:
        raise RuntimeError("htmx attribute names not found: review app.assets.scope_htmx")
    return source


class CssAsJs(Filter):
    """Turn a (minified) stylesheet into ``var OG_CSS = "...";`` for the loader to inject."""

    name = "css_as_js"

    def output(self, _in, out, **kw):
        out.write(f"var OG_CSS = {json.dumps(_in.read().strip())};\n")


class ScopedHtmx(Filter):
    name = "scoped_htmx"

    def output(self, _in, out, **kw):
        out.write(scope_htmx(_in.read()))


BUNDLES = {
    "console_css": Bundle(
        "css/console.css",
        str(WIDGETS / "offers.css"),
        filters="rcssmin",
        output="gen/console.%(version)s.css",
    ),
    "console_js": Bundle(
        HTMX, Bundle("js/console.js", filters="rjsmin"), output="gen/console.%(version)s.js"
    ),
    "storefront_js": Bundle(
        str(WIDGETS / "_open.js"),
        Bundle(HTMX, filters=(ScopedHtmx(),)),
        Bundle(str(WIDGETS / "offers.css"), filters=("rcssmin", CssAsJs())),
        Bundle(str(WIDGETS / "offers.js"), filters="rjsmin"),
        str(WIDGETS / "_close.js"),
        output="gen/storefront.%(version)s.js",
    ),
}


def init_app(app: Flask) -> None:
    env = Environment(app)
    env.url_expire = False
    env.cache = False
    env.manifest = "file"
    for name, bundle in BUNDLES.items():
        env.register(name, bundle)


def storefront_loader(app: Flask) -> tuple[bytes, str]:
    """The built ``main.js`` and its ETag, built in memory once per process (each time when
    debugging), so concurrent workers never race on a file."""
    cached = app.extensions.get("storefront_loader")
    if cached is not None and not app.debug:
        return cached
    out = io.StringIO()
    app.jinja_env.assets_environment["storefront_js"].build(force=True, output=out)
    body = out.getvalue().encode("utf-8")
    loader = (body, hashlib.sha256(body).hexdigest()[:20])
    app.extensions["storefront_loader"] = loader
    return loader
