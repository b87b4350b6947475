"""POSTing an order to real local servers, and what each way of failing is called (T6, T7)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.integrations import signing
from app.integrations.orders_http import post_order
from app.integrations.xml.order_reply import parse_reply

KEY = "Mt!ZQ45q&GHsgiRD8{NB-_h87#rjvbn0"
AUTH = signing.build_auth_header("0e5de2bedc5e11e3a2e4bc764e106cf4", KEY, "DC69410241")
ORDER = b'<?xml version="1.0" encoding="UTF-8"?>\n<order><head/></order>'
SFCC_SUCCESS = (
    b'<?xml version="1.0" encoding="UTF-8"?>\r\n<order>\r\n    <code>SUCCESS</code>'
    b"\r\n    <orderId>1224</orderId>\r\n    <errorMsg />\r\n</order>\r\n"
)
FAST = {"connect_timeout": 0.5, "read_timeout": 0.5}
Behaviour = Callable[[BaseHTTPRequestHandler, threading.Event], None]


@contextmanager
def store(behave: Behaviour, tls: ssl.SSLContext | None = None) -> Iterator[tuple[str, list]]:
    """Run a store on 127.0.0.1 that records each POST, then does ``behave``; yield its URL."""
    received: list[tuple[str, list[tuple[str, str]], bytes]] = []
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append((self.command, self.headers.items(), body))
            behave(self, release)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda *args: None  # a refused TLS handshake is expected here
    if tls is not None:
        server.socket = tls.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    scheme = "https" if tls else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_port}/ordergroove/place", received
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def reply(
    status: int, body: bytes, content_type: str = "text/html;charset=UTF-8", **headers: str
) -> Behaviour:
    def behave(handler, release):
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return behave


def stall(handler, release):
    release.wait(10)  # past any read timeout; let go when the test ends


def close_without_reply(handler, release):
    handler.close_connection = True


def reset_without_reply(handler, release):
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True


def cut_short(handler, release):
    handler.send_response(200)
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    handler.wfile.write(SFCC_SUCCESS[:10])
    handler.close_connection = True


def drip(handler, release):
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    for _ in range(1000):
        if release.wait(0.05):
            return
        handler.wfile.write(b" ")
        handler.wfile.flush()


def post(url: str, **kwargs):
    return post_order(url, ORDER, AUTH, **{**FAST, **kwargs})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_reply_is_returned_with_what_was_sent_exactly_as_given(caplog):
    caplog.set_level(logging.DEBUG)
    with store(reply(200, SFCC_SUCCESS)) as (url, received):
        delivery = post(url)
    assert delivery.outcome == "replied" and delivery.status == 200
    assert delivery.body == SFCC_SUCCESS and not delivery.truncated
    assert delivery.content_type == "text/html;charset=UTF-8"
    assert delivery.elapsed_ms >= 0 and delivery.reason is None
    assert parse_reply(delivery.body, content_type=delivery.content_type).order_id == "1224"
    ((method, headers, body),) = received
    assert method == "POST" and body == ORDER
    assert [value for name, value in headers if name.lower() == "content-type"] == [
        "application/xml"
    ]  # exactly: no charset parameter
    assert [value for name, value in headers if name.lower() == "authorization"] == [AUTH]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert AUTH not in logged and "sig" not in logged and "<order>" not in logged


def test_netrc_credentials_never_replace_the_authorization(tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login store password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with store(reply(200, SFCC_SUCCESS)) as (url, received), requests.Session() as session:
        assert session.trust_env  # the environment is read, .netrc included
        post(url, session=session)
    assert [value for name, value in received[0][1] if name.lower() == "authorization"] == [AUTH]


@pytest.mark.parametrize("status", [302, 500])
def test_any_status_is_a_reply_and_redirects_are_not_followed(status):
    behave = reply(status, b"<html>moved</html>", Location="/elsewhere")
    with store(behave) as (url, received):
        delivery = post(url)
    assert (delivery.outcome, delivery.status) == ("replied", status)
    assert len(received) == 1


def test_stalling_after_reading_the_request_is_unknown():
    with store(stall) as (url, received):
        delivery = post(url)
    assert delivery.outcome == "unknown" and not delivery.safe_to_retry
    assert "read timeout" in delivery.reason
    assert len(received) == 1  # the store did get it: retrying could place it twice


@pytest.mark.parametrize("behave", [close_without_reply, reset_without_reply])
def test_closing_after_reading_the_request_is_unknown(behave):
    with store(behave) as (url, received):
        delivery = post(url)
    assert delivery.outcome == "unknown"
    assert "connection failed before a reply" in delivery.reason
    assert len(received) == 1


def test_a_body_cut_short_is_unknown_but_keeps_the_status():
    with store(cut_short) as (url, _):
        delivery = post(url)
    assert (delivery.outcome, delivery.status) == ("unknown", 200)
    assert "cut short" in delivery.reason


def test_a_body_that_drips_past_the_read_timeout_is_unknown():
    with store(drip) as (url, _):
        delivery = post(url, read_timeout=0.3)
    assert delivery.outcome == "unknown" and "took longer" in delivery.reason


def test_a_body_over_the_limit_is_read_up_to_it():
    with store(reply(200, b"x" * 5000)) as (url, _):
        delivery = post(url, max_body=4096)
    assert delivery.outcome == "replied" and delivery.truncated
    assert delivery.body == b"x" * 4096


def test_a_closed_port_is_not_sent():
    delivery = post(f"http://127.0.0.1:{free_port()}/")
    assert delivery.outcome == "not_sent" and delivery.safe_to_retry
    assert delivery.reason == "connection refused (ConnectionRefusedError)"


def test_an_unknown_host_and_an_unusable_url_are_not_sent():
    assert post("http://no-such-store.invalid/place").outcome == "not_sent"
    assert post("ftp://127.0.0.1/place").outcome == "not_sent"
    assert post("not a url").outcome == "not_sent"


def test_a_multi_line_authorization_is_refused_before_anything_is_sent():
    with pytest.raises(ValueError):
        post_order("http://127.0.0.1:1/", ORDER, AUTH + "\r\nX-Evil: 1", **FAST)


def test_a_listener_that_never_accepts():
    """The kernel completes the first TCP handshake and queues it; the next SYN is dropped."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        first = post(url)  # written into the queued connection's buffers
        second = post(url)  # the accept queue is full
    assert first.outcome == "unknown" and "read timeout" in first.reason
    assert second.outcome == "not_sent" and "connect timeout" in second.reason


def test_a_store_that_accepts_but_never_reads_is_unknown():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        connections = []
        threading.Thread(target=lambda: connections.append(listener.accept()), daemon=True).start()
        delivery = post(url)
        for connection, _ in connections:
            connection.close()
    assert delivery.outcome == "unknown" and "read timeout" in delivery.reason


def test_a_body_the_store_never_reads_times_out_on_the_connect_timeout():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        started = time.monotonic()
        delivery = post_order(
            url, b"x" * (32 << 20), AUTH, connect_timeout=0.5, read_timeout=30
        )  # more than the socket buffers hold
    assert delivery.outcome == "unknown"
    assert time.monotonic() - started < 10


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and a server context using it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return str(folder / "cert.pem"), context


def trusting(cert_path: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = cert_path
    return session


def test_tls_reply_through_a_given_session(certificate):
    cert_path, context = certificate
    with (
        store(reply(200, SFCC_SUCCESS), tls=context) as (url, received),
        trusting(cert_path) as session,
    ):
        delivery = post(url, session=session)
    assert (delivery.outcome, delivery.status, len(received)) == ("replied", 200, 1)


def test_an_untrusted_certificate_is_not_sent(certificate):
    _, context = certificate
    with store(reply(200, SFCC_SUCCESS), tls=context) as (url, received):
        delivery = post(url)
    assert delivery.outcome == "not_sent" and "TLS handshake" in delivery.reason
    assert received == []


def test_a_tls_handshake_that_stalls_is_not_sent():
    """A store that accepts TCP but never answers the ClientHello has been sent nothing."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        delivery = post(f"https://127.0.0.1:{listener.getsockname()[1]}/")
    assert delivery.outcome == "not_sent"
    assert delivery.reason == "the TLS handshake failed (TimeoutError)"


def test_tls_closed_after_reading_the_request_is_unknown(certificate):
    cert_path, context = certificate
    with store(close_without_reply, tls=context) as (url, received), trusting(cert_path) as session:
        delivery = post(url, session=session)
    assert delivery.outcome == "unknown" and len(received) == 1
