"""POST one order to a store and say precisely what happened (contracts §6.2, T6, T7).

``post_order`` sends the body with ``Content-Type: application/xml`` exactly (Magento refuses a
charset parameter) and the ``Authorization`` header as given, and returns a Delivery whose
``outcome`` is one of:

* ``replied``: the store answered with a status line. ``status``, ``content_type``, ``body``
  (at most ``max_body`` bytes; ``truncated`` says more came and was not read) and
  ``elapsed_ms`` are set. Any status counts, 3xx included: redirects are never followed, since
  re-sending a POST elsewhere is not ours to decide. What the body means is
  ``xml.order_reply.parse_reply``'s business; what a status means is the service's.
* ``not_sent``: no byte of the request reached the store, so sending again cannot place the
  order twice. Always safe to retry.
* ``unknown``: the request may have reached the store and the order may be placed, but no
  complete answer came back. Retrying could place it twice (neither official store integration
  deduplicates, contracts §11).

Which exception means which, with requests 2.34 and urllib3 2.8 (an error is judged by the
chain of exceptions it wraps: ``args``, ``reason``, ``__cause__``):

* not_sent: urllib3 ``ConnectTimeoutError`` and its subclass ``NewConnectionError``
  (``NameResolutionError``: DNS; refused; unreachable), which urllib3 raises only while
  opening the TCP connection and itself counts as "the server did not receive the request"
  (requests ``ConnectTimeout``, or ``ConnectionError`` wrapping them). TLS failures before
  the handshake completes: ``ssl.SSLCertVerificationError``, urllib3's ``CertificateError``,
  and any error (requests ``SSLError``, or the ``ReadTimeout`` urllib3 raises when the
  handshake stalls) raised inside ``ssl.SSLSocket.do_handshake``: the HTTP request is only
  written once the handshake has returned. Also a URL requests cannot use at all
  (``InvalidURL``, ``MissingSchema``, ``InvalidSchema``).
* unknown: everything else, notably requests ``ReadTimeout`` (urllib3 ``ReadTimeoutError``:
  sent, no status line within ``read_timeout``); ``ConnectionError`` wrapping urllib3
  ``ProtocolError`` ("Connection aborted": closed without a reply, reset, or a send that
  timed out); ``SSLError`` outside the handshake; and, once the status line has come (the
  Delivery keeps ``status``), a body cut short or broken (urllib3 ``ProtocolError`` for an
  ``IncompleteRead``, ``ReadTimeoutError``, ``SSLError``, ``DecodeError``) or one still
  arriving ``read_timeout`` after the headers. Anything not listed is unknown: guessing "not
  sent" is the one mistake that places an order twice.

What the real servers in the tests show: a listener that never accepts still completes the
first TCP handshake (the kernel queues it), so that POST is written into its buffers and ends
``unknown`` on the read timeout; once the accept queue is full the SYN is dropped and the next
POST ends ``not_sent`` on the connect timeout. A body larger than the socket buffers sent to a
store that never reads blocks for ``connect_timeout`` (urllib3 sets the read timeout only after
sending) and ends ``unknown``.

Every POST closes its connection afterwards (and asks the store to, with ``Connection:
close``), so no request goes out on a kept-alive connection the store may already have
dropped: that race would turn a "not sent" into an "unknown". The body is asked for with
``Accept-Encoding: identity`` and read with ``read1``, so a store dripping bytes meets the
deadline. Without a ``session`` a fresh one is used that ignores the environment (proxies);
with or without, a ``.netrc`` entry or a session's ``auth`` can never replace the
Authorization header. A given session must not retry reads or statuses (requests' default
adapter retries nothing). Nothing here logs; ``reason`` names the failure and the innermost
exception class, never the URL, a header or the body.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import requests
from requests.auth import AuthBase
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.ssl_match_hostname import CertificateError

MAX_BODY = 1024 * 1024
CHUNK = 64 * 1024
USER_AGENT = "Perennial order placement"
_UNUSABLE_URL = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
)

Outcome = Literal["replied", "not_sent", "unknown"]


class _KeepAuthorization(AuthBase):
    """An explicit auth that changes nothing, so requests never looks for .netrc credentials."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


@dataclass(frozen=True)
class Delivery:
    """What became of one POST; see the module docstring for the three outcomes."""

    outcome: Outcome
    reason: str | None = None  # why not replied, or why the reply is incomplete
    status: int | None = None  # also set for an unknown outcome whose body was cut short
    body: bytes = field(default=b"", repr=False)
    content_type: str | None = None
    elapsed_ms: int = 0
    truncated: bool = False  # the store sent more than max_body bytes; only those were read

    @property
    def safe_to_retry(self) -> bool:
        """True only when the store cannot have received the order."""
        return self.outcome == "not_sent"


def post_order(
    url: str,
    body: bytes,
    authorization: str,
    *,
    connect_timeout: float,
    read_timeout: float,
    session: requests.Session | None = None,
    max_body: int = MAX_BODY,
) -> Delivery:
    """POST an order's XML to the store's endpoint and classify the outcome.

    :param authorization: the JSON header from ``signing.build_auth_header``, sent as is.
    :param read_timeout: the wait for the status line, for each read of the body, and for the
        whole body after the headers.
    :raises ValueError: ``authorization`` holds a line break or NUL (a bug, not a delivery).
    """
    if any(char in authorization for char in "\r\n\x00"):
        raise ValueError("the Authorization header must be one line")
    headers = {
        "Content-Type": "application/xml",
        "Authorization": authorization,
        "Accept": "application/xml, text/xml, */*",
        "Accept-Encoding": "identity",
        "Connection": "close",
        "User-Agent": USER_AGENT,
    }
    started = time.monotonic()
    own = session is None
    if session is None:
        session = requests.Session()
        session.trust_env = False
    try:
        try:
            response = session.post(
                url,
                data=body,
                headers=headers,
                timeout=(connect_timeout, read_timeout),
                allow_redirects=False,
                stream=True,
                auth=_KeepAuthorization(),
            )
        except _UNUSABLE_URL as error:
            return Delivery("not_sent", reason=f"unusable URL ({type(error).__name__})")
        except requests.RequestException as error:
            return _failed(error, started)
        try:
            return _read(response, started, read_timeout, max_body)
        finally:
            response.close()  # closes the connection too: it is never reused
    finally:
        if own:
            session.close()


def _read(
    response: requests.Response, started: float, read_timeout: float, max_body: int
) -> Delivery:
    """Read at most ``max_body`` bytes of the reply within ``read_timeout``."""
    status, content_type = response.status_code, response.headers.get("Content-Type")
    deadline = time.monotonic() + read_timeout
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := response.raw.read1(CHUNK) or b"":
            if len(chunk) > max_body - size:
                chunks.append(chunk[: max_body - size])
                return Delivery(
                    "replied",
                    status=status,
                    body=b"".join(chunks),
                    content_type=content_type,
                    elapsed_ms=_since(started),
                    truncated=True,
                )
            chunks.append(chunk)
            size += len(chunk)
            if time.monotonic() > deadline:
                return Delivery(
                    "unknown",
                    reason="the reply's body took longer than the read timeout",
                    status=status,
                    content_type=content_type,
                    elapsed_ms=_since(started),
                )
    except (HTTPError, OSError) as error:
        return Delivery(
            "unknown",
            reason=f"the reply's body was cut short ({_root(error)})",
            status=status,
            content_type=content_type,
            elapsed_ms=_since(started),
        )
    return Delivery(
        "replied",
        status=status,
        body=b"".join(chunks),
        content_type=content_type,
        elapsed_ms=_since(started),
    )


def _failed(error: requests.RequestException, started: float) -> Delivery:
    """Classify a POST that produced no status line."""
    chain = list(_chain(error))
    if any(isinstance(link, ConnectTimeoutError) for link in chain):
        if any(isinstance(link, NameResolutionError) for link in chain):
            reason = "the store's host name did not resolve"
        elif any(isinstance(link, ConnectionRefusedError) for link in chain):
            reason = "connection refused"
        elif any(isinstance(link, NewConnectionError) for link in chain):
            reason = "could not connect"
        else:
            reason = "no connection within the connect timeout"
        outcome: Outcome = "not_sent"
    elif _in_tls_handshake(chain):
        outcome, reason = "not_sent", "the TLS handshake failed"
    elif any(isinstance(link, ReadTimeoutError) for link in chain):
        outcome, reason = "unknown", "sent, but no reply within the read timeout"
    else:
        outcome, reason = "unknown", "sent, but the connection failed before a reply"
    return Delivery(outcome, reason=f"{reason} ({_root(error)})", elapsed_ms=_since(started))


def _chain(error: BaseException) -> Iterator[BaseException]:
    """Yield ``error`` and every exception it wraps (args, reason, cause), outermost first."""
    pending, seen = [error], set()
    while pending:
        link = pending.pop(0)
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        wrapped = [*link.args, getattr(link, "reason", None), link.__cause__]
        pending.extend(item for item in wrapped if isinstance(item, BaseException))


def _in_tls_handshake(chain: list[BaseException]) -> bool:
    """Whether the failure happened before the TLS handshake completed."""
    for link in chain:
        if isinstance(link, ssl.SSLCertVerificationError | CertificateError):
            return True
        trace = link.__traceback__
        while trace is not None:
            code = trace.tb_frame.f_code
            if code.co_name == "do_handshake" and code.co_filename.endswith("ssl.py"):
                return True
            trace = trace.tb_next
    return False


def _root(error: BaseException) -> str:
    """The class name of the innermost exception: enough to diagnose, nothing sensitive."""
    return type(list(_chain(error))[-1]).__name__


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
