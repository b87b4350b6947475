"""The REST API's rate limit holds across web processes (contracts §8.3): two real servers on
the same Redis count one client's requests together."""

from __future__ import annotations

import socket
import time

import requests

from tests.factories import make_api_key, make_merchant


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(fleet, n: int) -> list[str]:
    """``n`` web processes (``flask run``, one process each), answering."""
    urls = []
    for i in range(n):
        port = free_port()
        fleet.start("run", "--port", str(port), "--no-reload", name=f"web{i}")
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    for url in urls:
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, fleet.logs()
                time.sleep(0.1)
    return urls


def test_two_web_processes_count_one_clients_requests_together(app, fleet, figures):
    fleet.env["PERENNIAL_API_RATE_LIMIT"] = "10 per minute"
    key = make_api_key(make_merchant())
    urls = serve(fleet, 2)
    statuses = [
        requests.get(f"{urls[i % 2]}/products/", headers={"x-api-key": key}, timeout=5)
        for i in range(16)
    ]
    codes = [r.status_code for r in statuses]
    assert codes.count(200) == 10 and codes.count(429) == 6, codes
    assert codes[:10] == [200] * 10  # in order: the 11th request, whichever process got it
    assert all(1 <= int(r.headers["Retry-After"]) <= 60 for r in statuses if r.status_code == 429)
    figures(processes=2, limit="10 per minute", requests=16, ok=10, throttled=6)
