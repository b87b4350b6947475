"""A third origin for browser tests: merchant pages we write ourselves, that load a widget.

``host_site(platform, pages)`` serves each page of ``pages`` (name -> body HTML) at ``/<name>``
with the Perennial scripts of the page's ``scripts`` in its head, and the hostile theme
(``tests/fixtures/host/hostile-theme.css``) at ``/hostile-theme.css`` for pages that link it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, Response
from werkzeug.serving import make_server

from tests.e2e.conftest import allow_origin

HOSTILE_THEME = Path(__file__).resolve().parents[1] / "fixtures" / "host" / "hostile-theme.css"
HOSTILE_LINK = '<link rel="stylesheet" href="/hostile-theme.css">'


@contextmanager
def host_site(platform, pages: Mapping[str, str], scripts: tuple[str, ...]) -> Iterator[str]:
    """Serve ``pages`` on a free port of localhost, an origin the merchant registered; yield
    its URL. ``scripts`` are the Perennial script URLs every page loads in its head."""
    app = Flask("host")
    head = "".join(f'<script src="{src}"></script>' for src in scripts)

    @app.get("/hostile-theme.css")
    def theme():
        return Response(HOSTILE_THEME.read_text(), mimetype="text/css")

    @app.get("/<name>")
    def page(name):
        if name not in pages:
            return Response("Not found", status=404)
        return (
            f"<!doctype html><html><head><meta charset=utf-8>{head}</head>"
            f"<body>{pages[name]}</body></html>"
        )

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://localhost:{server.server_port}"
    allow_origin(platform, url)
    try:
        yield url
    finally:
        server.shutdown()
