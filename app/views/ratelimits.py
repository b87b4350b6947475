"""Who a client is for rate limits, and the REST API's limit (contracts §8.3).

Every limit lives in Flask-Limiter with Redis as its storage (``RATELIMIT_*`` in ``Config``),
so it holds across every web process and machine. The API's: ``API_RATE_LIMIT`` (default
6,000 requests a minute) from one client address, over every endpoint of the ``api``
blueprint together; over it, 429 ``{"detail": "Request was throttled. Expected available in
N seconds."}`` with ``Retry-After: N``. An IPv6 client counts by its /64.
"""

from __future__ import annotations

import ipaddress
import math
import time

from flask import Blueprint, Response, current_app, jsonify, request
from flask_limiter import RequestLimit

from app.extensions import limiter


def client_network() -> str:
    """The client's address; an IPv6 client by its /64, which one host usually holds whole."""
    raw = request.remote_addr or "127.0.0.1"
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def throttled(limit: RequestLimit) -> Response:
    window = limit.limit.get_expiry()  # a window's whole length, the most anyone waits
    seconds = min(window, max(1, math.ceil(limit.reset_at - time.time())))
    response = jsonify(
        {"detail": f"Request was throttled. Expected available in {seconds} seconds."}
    )
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    return response


def limit_api(bp: Blueprint) -> None:
    """Put ``API_RATE_LIMIT`` on every view of ``bp``, counted together per client."""
    limiter.shared_limit(  # shared: one count for all its endpoints, not one each
        lambda: current_app.config["API_RATE_LIMIT"],
        key_func=client_network,
        scope="api",
        on_breach=throttled,
    )(bp)
