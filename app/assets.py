"""Every webassets bundle: the console's CSS and JS, and the storefront loaders (``LOADERS``).

A storefront loader (``main.js`` for offers, ``msi.js`` for the subscriber dashboard, one
line each in ``LOADERS``) is one IIFE built by ``loader_bundle`` from a list of widgets:

    widgets/_open.js                 the IIFE's head, 'use strict'
    scoped htmx                      as ``function makeHtmx()``: built only if the page has none
    widgets/<widget>.css ...         each as ``var OG_CSS_<WIDGET> = "...";``
    widgets/core.js                  the widget core (see below)
    widgets/<widget>.js ...          each run as ``widget("<widget>", function () {...})``
    widgets/_close.js                the IIFE's tail

Our own code begins at the first ``var OG_CSS``: the loader's size budget (a test, and
``bench/offers.py``) counts from there, htmx not included, so the core is counted.

The core (``widgets/core.js``) holds what every widget needs and no widget owns: our private
htmx and how elements are handed to it (``guard``, then ``htmx.process``), the shopper's
``og_session_id``, the base URL of our routes and the headers our requests may carry, the
one-load-per-page guard (``widget``) and the stylesheet injection (``css``); nothing of ours is
global but ``window.og``.

Several loaders on one page (``main.js`` and ``msi.js``, or ``main.js`` tagged twice): the first
to run builds the core and keeps its shared part (htmx, session id, base URL) on ``window.og``
as a non-enumerable ``perennial`` property. Every later loader finds it there, so it never builds
a second htmx nor a second session, and ``widget`` skips any widget already on the page
(``og.<widget>.perennial``): it only adds its own. Only data is shared, each loader brings its
own functions, so loaders built at different times (each is cached for five minutes) work
together. The first loader decides the host and the merchant: a page's tags must agree on both.

htmx lives in a stranger's page there, so ``scope_htmx`` rewrites the vendored file at build
time (see its docstring); a test checks that both rewrites applied.
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
    """Turn a widget's (minified) stylesheet into ``var OG_CSS_<WIDGET> = "...";``."""

    name = "css_as_js"

    def __init__(self, widget: str):
        super().__init__()
        self.widget = widget

    def unique(self):
        return self.widget

    def output(self, _in, out, **kw):
        out.write(f"var OG_CSS_{self.widget.upper()} = {json.dumps(_in.read().strip())};\n")


class WidgetBody(Filter):
    """Run a widget's (minified) source as ``widget("<name>", function(){...});`` of the core."""

    name = "widget_body"

    def __init__(self, widget: str):
        super().__init__()
        self.widget = widget

    def unique(self):
        return self.widget

    def output(self, _in, out, **kw):
        out.write(f"widget({json.dumps(self.widget)},function(){{{_in.read().strip()}\n}});\n")


class ScopedHtmx(Filter):
    """Our htmx, scoped (see ``scope_htmx``), built only when the core calls ``makeHtmx()``."""

    name = "scoped_htmx"

    def output(self, _in, out, **kw):
        out.write(f"function makeHtmx(){{{scope_htmx(_in.read())};return htmx}}\n")


def loader_bundle(script: str, *widgets: str) -> Bundle:
    """The bundle of a storefront script (``main.js``) that runs these widgets, in this order.

    Each widget is ``widgets/<name>.js`` and, if it has one, ``widgets/<name>.css``. The
    stylesheets come first, right after htmx: where our own code begins in the loader (what
    its size budget counts).
    """
    styles = [
        Bundle(str(WIDGETS / f"{name}.css"), filters=("rcssmin", CssAsJs(name)))
        for name in widgets
        if (WIDGETS / f"{name}.css").exists()
    ]
    sources = [
        Bundle(str(WIDGETS / f"{name}.js"), filters=("rjsmin", WidgetBody(name)))
        for name in widgets
    ]
    return Bundle(
        str(WIDGETS / "_open.js"),
        Bundle(HTMX, filters=(ScopedHtmx(),)),
        *styles,
        Bundle(str(WIDGETS / "core.js"), filters="rjsmin"),
        *sources,
        str(WIDGETS / "_close.js"),
        output=f"gen/loader-{script.removesuffix('.js')}.%(version)s.js",
    )


# The storefront scripts, by the file name in their URL (/<merchant_id>/main.js).
LOADERS = {
    "main.js": loader_bundle("main.js", "offers"),
    "msi.js": loader_bundle("msi.js", "msi"),
}

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
    **{f"loader:{script}": bundle for script, bundle in LOADERS.items()},
}


def init_app(app: Flask) -> None:
    env = Environment(app)
    env.url_expire = False
    env.cache = False
    env.manifest = "file"
    for name, bundle in BUNDLES.items():
        env.register(name, bundle)


def storefront_loader(app: Flask, script: str = "main.js") -> tuple[bytes, str]:
    """A built storefront script (one of ``LOADERS``) and its ETag, built in memory once per
    process (each time when debugging), so concurrent workers never race on a file."""
    built = app.extensions.setdefault("storefront_loaders", {})
    if script in built and not app.debug:
        return built[script]
    out = io.StringIO()
    app.jinja_env.assets_environment[f"loader:{script}"].build(force=True, output=out)
    body = out.getvalue().encode("utf-8")
    built[script] = (body, hashlib.sha256(body).hexdigest()[:20])
    return built[script]
