"""POST one webhook and say how it went (contracts §8.4): JSON, the signature header, a bounded
timeout, no redirects followed, nothing read beyond a little of the reply. Pure: no database,
no logging of the URL or the body."""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

TIMEOUT_SECONDS = 5.0
USER_AGENT = "Perennial webhooks"


@dataclass(frozen=True)
class Result:
    status: int | None  # the HTTP status, None when no answer came
    latency_ms: int
    error: str | None = None  # why it failed, for the console

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, body: bytes, signature: str, *, timeout: float = TIMEOUT_SECONDS) -> Result:
    started = time.monotonic()
    try:
        with requests.Session() as session:
            session.trust_env = False  # no proxies or .netrc from the environment
            response = session.post(
                url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "OrderGroove-Signature": signature,
                    "User-Agent": USER_AGENT,
                },
                timeout=(timeout, timeout),
                allow_redirects=False,
                stream=True,
            )
            response.raw.read(4096, decode_content=False)  # a little: the status is what counts
            response.close()
    except requests.RequestException as exc:
        return Result(None, _since(started), type(exc).__name__)
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Result(response.status_code, _since(started), error)


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
