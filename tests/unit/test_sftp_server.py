"""The SFTP drop site over real TCP with a real paramiko client: auth, chroot, atomic uploads."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import logging
import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.integrations.sftp import SftpServer, SftpSettings, is_published
from app.integrations.sftp.paths import resolve
from app.integrations.sftp.throttle import LoginThrottle

PASSWORDS = {"merchant1": "s3cret-1", "merchant10": "s3cret-10", "merchant2": "s3cret-2"}
KEY_USER = "keyed.merchant"
DEADLINE_SECONDS = 5.0


def make_ed25519() -> paramiko.Ed25519Key:
    """Return a fresh Ed25519 key (paramiko itself cannot generate one)."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return paramiko.Ed25519Key(file_obj=io.StringIO(pem.decode()))


CLIENT_KEY = make_ed25519()
STRANGER_KEY = make_ed25519()


class DictAuth:
    """Check passwords from a dict and one user's public key, noting who was asked about."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def check_password(self, username: str, password: str) -> bool:
        self.asked.append(username)
        expected = PASSWORDS.get(username, "")
        return hmac.compare_digest(expected.encode(), password.encode()) and bool(expected)

    def authorized_keys(self, username: str) -> list[paramiko.PKey]:
        self.asked.append(username)
        if username != KEY_USER:
            return []
        return [paramiko.PKey.from_type_string(CLIENT_KEY.get_name(), CLIENT_KEY.asbytes())]


@dataclass
class Site:
    """A running drop site plus what it reported."""

    server: SftpServer
    root: Path
    host_key: paramiko.PKey
    auth: DictAuth
    events: list[tuple[str, dict]]

    def events_of(self, kind: str) -> list[dict]:
        return [data for name, data in self.events if name == kind]

    @contextlib.contextmanager
    def ssh(
        self, username: str, *, password: str | None = None, pkey: paramiko.PKey | None = None
    ) -> Iterator[paramiko.SSHClient]:
        with paramiko.SSHClient() as client:
            host = f"[127.0.0.1]:{self.server.port}"
            client.get_host_keys().add(host, self.host_key.get_name(), self.host_key)
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            client.connect(
                "127.0.0.1",
                port=self.server.port,
                username=username,
                password=password,
                pkey=pkey,
                look_for_keys=False,
                allow_agent=False,
                timeout=5,
                banner_timeout=5,
                auth_timeout=5,
            )
            yield client

    @contextlib.contextmanager
    def sftp(
        self, username: str = "merchant1", *, pkey: paramiko.PKey | None = None
    ) -> Iterator[paramiko.SFTPClient]:
        password = None if pkey else PASSWORDS[username]
        with self.ssh(username, password=password, pkey=pkey) as client, client.open_sftp() as sftp:
            yield sftp


@contextlib.contextmanager
def serve(tmp_path: Path, host_key_path: Path, **limits) -> Iterator[Site]:
    """Run a drop site on a free port under ``tmp_path`` until the block ends."""
    events: list[tuple[str, dict]] = []
    auth = DictAuth()
    settings = SftpSettings(port=0, root=tmp_path / "drop", host_key_path=host_key_path, **limits)
    server = SftpServer(settings, auth, on_event=lambda kind, data: events.append((kind, data)))
    server.start_background()
    try:
        yield Site(server, tmp_path / "drop", paramiko.PKey.from_path(host_key_path), auth, events)
    finally:
        server.shutdown()


def wait_for(condition: Callable[[], bool]) -> None:
    """Poll until ``condition`` holds, failing after a deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.02)


def read_until_closed(sock: socket.socket) -> bytes:
    """Return everything the server sends before it closes the connection."""
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(4096):
            received += chunk
    return received


def refused(site: Site, username: str, password: str) -> None:
    with pytest.raises(paramiko.AuthenticationException), site.ssh(username, password=password):
        pass


@pytest.fixture(scope="module")
def host_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # An existing key of any type is reused; ECDSA loads much faster than RSA 3072, which
    # cryptography validates on every load.
    path = tmp_path_factory.mktemp("sftp-key") / "host_key"
    paramiko.ECDSAKey.generate().write_private_key_file(str(path))
    path.chmod(0o600)
    return path


@pytest.fixture
def site(tmp_path: Path, host_key_file: Path) -> Iterator[Site]:
    with serve(tmp_path, host_key_file) as running:
        yield running


def test_upload_is_published_only_when_the_client_closes_it(site):
    data = os.urandom(300_000)
    incoming = site.root / "merchant1" / "incoming"
    with site.sftp() as sftp:
        with sftp.open("/incoming/M1.Products.xml", "wb") as remote:
            remote.write(data[:100_000])
            remote.flush()
            assert sftp.listdir("incoming") == []
            staged = os.listdir(incoming)
            assert len(staged) == 1 and staged[0].startswith(".M1.Products.xml.")
            assert not is_published(staged[0])
            assert site.events_of("upload") == []
            remote.write(data[100_000:])
        assert sftp.listdir("incoming") == ["M1.Products.xml"]
        assert sftp.stat("incoming/M1.Products.xml").st_size == len(data)
    published = (incoming / "M1.Products.xml").read_bytes()
    assert hashlib.sha256(published).digest() == hashlib.sha256(data).digest()
    assert os.listdir(incoming) == ["M1.Products.xml"]
    assert site.events_of("upload") == [
        {"username": "merchant1", "path": "/incoming/M1.Products.xml", "bytes": len(data)}
    ]
    assert site.events_of("login") == [
        {"username": "merchant1", "ip": "127.0.0.1", "method": "password"}
    ]


def test_part_file_then_rename_publishes_the_final_name(site):
    with site.sftp() as sftp:
        sftp.putfo(io.BytesIO(b"<products/>"), "incoming/M1.Products.xml.part")
        assert site.events_of("upload") == []
        sftp.posix_rename("incoming/M1.Products.xml.part", "incoming/M1.Products.xml")
        assert sftp.listdir("incoming") == ["M1.Products.xml"]
    assert site.events_of("upload") == [
        {"username": "merchant1", "path": "/incoming/M1.Products.xml", "bytes": 11}
    ]


@pytest.mark.parametrize(
    ("name", "published"),
    [
        ("M1.Products.xml", True),
        ("/incoming/M1.Products.xml", True),
        (".hidden.xml", False),
        (".M1.Products.xml.0123456789abcdef.part", False),
        ("feed.xml.part", False),
        ("feed.xml.tmp", False),
        ("feed.xml.filepart", False),
        ("FEED.XML.PART", False),
        ("", False),
    ],
)
def test_is_published_skips_hidden_and_partial_names(name, published):
    assert is_published(name) is published


def test_publickey_login(site):
    with site.sftp(KEY_USER, pkey=CLIENT_KEY) as sftp:
        assert sorted(sftp.listdir("/")) == ["incoming", "outgoing"]
    assert site.events_of("login") == [
        {"username": KEY_USER, "ip": "127.0.0.1", "method": "publickey"}
    ]
    with pytest.raises(paramiko.AuthenticationException), site.ssh(KEY_USER, pkey=STRANGER_KEY):
        pass


def test_wrong_password_is_refused_reported_and_never_logged(site, caplog):
    caplog.set_level(logging.DEBUG)
    refused(site, "merchant1", "hunter2-wrong")
    assert site.events_of("auth_failed") == [
        {"username": "merchant1", "ip": "127.0.0.1", "locked": False}
    ]
    assert "merchant1" in caplog.text
    assert "hunter2-wrong" not in caplog.text
    assert not (site.root / "merchant1").exists()


def test_lockout_refuses_even_the_right_password(tmp_path, host_key_file):
    with serve(tmp_path, host_key_file, max_auth_failures=3) as site:
        for _ in range(3):
            refused(site, "merchant1", "wrong")
        refused(site, "merchant1", PASSWORDS["merchant1"])
        assert [e["locked"] for e in site.events_of("auth_failed")] == [False, False, True, True]
        assert site.auth.asked.count("merchant1") == 3
        with site.sftp("merchant2"):
            pass


def test_throttle_lifts_the_lockout_after_its_term():
    now = [0.0]
    throttle = LoginThrottle(2, 300, clock=lambda: now[0])
    key = ("10.0.0.1", "merchant1")
    assert throttle.failed(key) is False
    assert throttle.failed(key) is True
    assert throttle.locked(key)
    assert not throttle.locked(("10.0.0.2", "merchant1"))
    now[0] = 299.0
    assert throttle.locked(key)
    now[0] = 300.0
    assert not throttle.locked(key)
    assert throttle.failed(key) is False


@pytest.mark.parametrize("username", ["../x", "", "a" * 65, "..", ".", "m1/../m2", "m 1"])
def test_invalid_usernames_fail_without_touching_the_filesystem(site, username):
    refused(site, username, "anything")
    assert site.auth.asked == []
    assert list(site.root.iterdir()) == []
    assert site.events_of("auth_failed")[0]["ip"] == "127.0.0.1"


@pytest.mark.parametrize(
    "path",
    [
        "../merchant10/incoming/secret.xml",
        "/../merchant10/incoming/secret.xml",
        "/../../etc/passwd",
        "incoming/../../../etc/passwd",
        "../../../../../etc/passwd",
    ],
)
def test_traversal_stays_inside_the_home(site, path):
    secret = site.root / "merchant10" / "incoming" / "secret.xml"
    secret.parent.mkdir(parents=True)
    secret.write_text("theirs")
    with site.sftp() as sftp:
        with pytest.raises(FileNotFoundError):
            sftp.stat(path)
        with pytest.raises(FileNotFoundError):
            sftp.open(path)
        with pytest.raises(PermissionError):
            sftp.putfo(io.BytesIO(b"x"), path)
        assert sftp.normalize(path).startswith(("/merchant10/", "/etc/"))
    assert secret.read_text() == "theirs"
    assert sorted(p.name for p in site.root.iterdir()) == ["merchant1", "merchant10"]


def test_relative_climbs_land_back_in_the_own_home(site):
    with site.sftp() as sftp:
        sftp.putfo(io.BytesIO(b"mine"), "../../incoming/../incoming/ok.xml")
    assert (site.root / "merchant1" / "incoming" / "ok.xml").read_bytes() == b"mine"


def test_resolver_refuses_a_sibling_home_sharing_the_name_prefix(tmp_path):
    root = tmp_path.resolve()
    (root / "merchant1").mkdir()
    (root / "merchant10" / "incoming").mkdir(parents=True)
    (root / "merchant1" / "next").symlink_to(root / "merchant10")
    home = str(root / "merchant1")
    for path in ["next", "next/incoming", "/next/../next/incoming/x"]:
        with pytest.raises(PermissionError):
            resolve(home, path)
    assert resolve(home, "../merchant10") == str(root / "merchant1" / "merchant10")


def test_planted_symlinks_are_not_followed(site):
    home = site.root / "merchant1"
    theirs = site.root / "merchant2" / "incoming"
    theirs.mkdir(parents=True)
    (theirs / "feed.xml").write_text("theirs")
    (home / "incoming").mkdir(parents=True)
    (home / "etc").symlink_to("/etc")
    (home / "neighbour").symlink_to(site.root / "merchant2")
    (home / "incoming" / "passwd").symlink_to("/etc/passwd")
    (home / "incoming" / "theirs").symlink_to(theirs)
    with site.sftp() as sftp:
        for path in [
            "etc/passwd",
            "incoming/passwd",
            "neighbour/incoming/feed.xml",
            "incoming/theirs/feed.xml",
        ]:
            with pytest.raises(PermissionError):
                sftp.open(path)
        for path in ["etc", "neighbour/incoming", "incoming/theirs"]:
            with pytest.raises(PermissionError):
                sftp.listdir(path)
        for path in ["etc", "etc/passwd", "neighbour", "incoming/passwd"]:
            with pytest.raises(PermissionError):
                sftp.stat(path)
            with pytest.raises(PermissionError):
                sftp.lstat(path)
        with pytest.raises(PermissionError):
            sftp.putfo(io.BytesIO(b"x"), "incoming/theirs/new.xml")
        with pytest.raises(PermissionError):
            sftp.posix_rename("incoming/passwd", "incoming/passwd.xml")
        with pytest.raises(PermissionError):
            sftp.remove("incoming/theirs")
        listing = {attr.filename: attr for attr in sftp.listdir_attr("/")}
        assert stat.S_ISLNK(listing["etc"].st_mode)
    assert os.listdir(theirs) == ["feed.xml"]
    assert (home / "incoming" / "passwd").is_symlink()


def test_client_cannot_create_or_read_symlinks(site):
    with site.sftp() as sftp:
        with pytest.raises(PermissionError):
            sftp.symlink("/etc/passwd", "incoming/passwd")
        with pytest.raises(PermissionError):
            sftp.readlink("incoming")
    assert os.listdir(site.root / "merchant1" / "incoming") == []


def test_shell_exec_forwarding_and_other_subsystems_are_refused(site):
    with site.ssh("merchant1", password=PASSWORDS["merchant1"]) as client:
        with pytest.raises(paramiko.SSHException):
            client.exec_command("id")
        with pytest.raises(paramiko.SSHException):
            client.invoke_shell()
        transport = client.get_transport()
        with transport.open_session() as channel, pytest.raises(paramiko.SSHException):
            channel.invoke_subsystem("shell")
        with pytest.raises(paramiko.ChannelException):
            transport.open_channel("direct-tcpip", ("127.0.0.1", 22), ("127.0.0.1", 0))
        with pytest.raises(paramiko.SSHException):
            transport.request_port_forward("127.0.0.1", 0)


@pytest.mark.parametrize(
    "path",
    [
        "feed.xml",
        "/feed.xml",
        "outgoing/feed.xml",
        "/outgoing/../feed.xml",
        "incoming",
    ],
)
def test_uploads_outside_incoming_are_refused(site, path):
    with site.sftp() as sftp, pytest.raises(PermissionError):
        sftp.putfo(io.BytesIO(b"<products/>"), path)
    home = site.root / "merchant1"
    assert sorted(os.listdir(home)) == ["incoming", "outgoing"]
    assert os.listdir(home / "incoming") == os.listdir(home / "outgoing") == []


@pytest.mark.parametrize("path", ["/new", "/outgoing/sub", "/incoming/../x"])
def test_folders_outside_incoming_cannot_be_made_or_removed(site, path):
    with site.sftp() as sftp:
        with pytest.raises(PermissionError):
            sftp.mkdir(path)
        with pytest.raises(PermissionError):
            sftp.rmdir("/outgoing")
        sftp.mkdir("/incoming/batch")
        sftp.rmdir("/incoming/batch")
    home = site.root / "merchant1"
    assert sorted(os.listdir(home)) == ["incoming", "outgoing"]
    assert os.listdir(home / "outgoing") == []


def test_an_sftp_session_ends_with_exit_status_zero_as_scp_expects(site):
    with site.ssh("merchant1", password=PASSWORDS["merchant1"]) as client:
        sftp = paramiko.SFTPClient.from_transport(client.get_transport())
        sftp.listdir("/incoming")
        channel = sftp.get_channel()
        channel.shutdown_write()  # the client is done, as scp is after its last request
        assert channel.status_event.wait(DEADLINE_SECONDS)
        assert channel.exit_status == 0


def test_setting_the_final_size_as_scp_does_is_accepted_but_truncation_is_not(site):
    data = b"<products/>" * 1000
    with site.sftp() as sftp:
        with sftp.open("/incoming/M1.Products.xml", "wb") as remote:
            remote.write(data)
            remote.flush()
            remote.truncate(len(data))  # what OpenSSH scp sends after the last write
            with pytest.raises(OSError):
                remote.truncate(10)
        assert sftp.stat("/incoming/M1.Products.xml").st_size == len(data)


def test_reports_in_outgoing_can_be_fetched_and_deleted_but_not_written(site):
    outgoing = site.root / "merchant1" / "outgoing"
    outgoing.mkdir(parents=True)
    (outgoing / "report.csv").write_bytes(b"a,b\n")
    with site.sftp() as sftp:
        with sftp.open("outgoing/report.csv") as report:
            assert report.read() == b"a,b\n"
        with pytest.raises(PermissionError):
            sftp.open("outgoing/report.csv", "ab")
        with pytest.raises(PermissionError):
            sftp.posix_rename("outgoing/report.csv", "incoming/report.csv")
        sftp.remove("outgoing/report.csv")
        with pytest.raises(PermissionError):
            sftp.rmdir("outgoing")
    assert os.listdir(outgoing) == []


def test_oversize_upload_is_refused_and_nothing_published(tmp_path, host_key_file):
    with serve(tmp_path, host_key_file, max_file_bytes=64 * 1024) as site:
        with site.sftp() as sftp:
            with pytest.raises(OSError):
                sftp.putfo(io.BytesIO(os.urandom(200_000)), "incoming/big.xml")
            sftp.putfo(io.BytesIO(b"x" * 64 * 1024), "incoming/exact.xml")
        assert os.listdir(site.root / "merchant1" / "incoming") == ["exact.xml"]
        assert [e["path"] for e in site.events_of("upload")] == ["/incoming/exact.xml"]


def test_dropped_connection_mid_upload_publishes_nothing(site):
    incoming = site.root / "merchant1" / "incoming"
    with site.ssh("merchant1", password=PASSWORDS["merchant1"]) as client:
        sftp = client.open_sftp()
        remote = sftp.open("incoming/M1.Products.xml", "wb")
        remote.write(os.urandom(100_000))
        remote.flush()
        assert len(os.listdir(incoming)) == 1
        client.get_transport().sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
            remote.close()
        with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
            sftp.close()
    wait_for(lambda: os.listdir(incoming) == [])
    assert site.events_of("upload") == []


def test_host_key_is_generated_once_and_reused_across_restarts(tmp_path):
    key_path = tmp_path / "keys" / "host_key"
    seen = []
    for _ in range(2):
        settings = SftpSettings(port=0, root=tmp_path / "drop", host_key_path=key_path)
        server = SftpServer(settings, DictAuth())
        server.start_background()
        try:
            with paramiko.Transport(("127.0.0.1", server.port)) as transport:
                transport.start_client(timeout=5)
                seen.append(transport.get_remote_server_key())
        finally:
            server.shutdown()
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert seen[0] == seen[1] == paramiko.PKey.from_path(key_path)
    assert seen[0].get_bits() == 3072


def test_serve_forever_returns_after_shutdown(tmp_path, host_key_file):
    settings = SftpSettings(port=0, root=tmp_path / "drop", host_key_path=host_key_file)
    server = SftpServer(settings, DictAuth())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    wait_for(lambda: server.port != 0)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        assert sock.recv(64).startswith(b"SSH-2.0-Perennial")
    server.shutdown()
    thread.join(DEADLINE_SECONDS)
    assert not thread.is_alive()


def test_connections_over_the_limit_are_closed_at_once(tmp_path, host_key_file):
    def can_log_in() -> bool:
        try:
            with site.sftp() as sftp:
                return sftp.listdir("/") != []
        except (paramiko.SSHException, OSError):
            return False

    with serve(tmp_path, host_key_file, max_connections=1) as site:
        with site.sftp() as sftp:
            sftp.listdir("/")
            with socket.create_connection(("127.0.0.1", site.server.port), timeout=5) as extra:
                assert read_until_closed(extra) == b""
        wait_for(can_log_in)


def test_idle_connections_are_closed(tmp_path, host_key_file):
    with serve(tmp_path, host_key_file, idle_timeout=0.3) as site, site.sftp() as sftp:
        sftp.listdir("/")
        wait_for(lambda: not sftp.get_channel().get_transport().is_active())


def test_garbage_on_the_port_does_not_stop_the_server(site):
    for junk in [
        b"",
        b"\x00\xff" * 5000,
        b"GET / HTTP/1.1\r\n\r\n",
        b"SSH-2.0-evil\r\n" + os.urandom(4096),
    ]:
        with socket.create_connection(("127.0.0.1", site.server.port), timeout=5) as sock:
            with contextlib.suppress(OSError):
                sock.sendall(junk)
                sock.shutdown(socket.SHUT_WR)
            read_until_closed(sock)
    with site.sftp() as sftp:
        assert sorted(sftp.listdir("/")) == ["incoming", "outgoing"]
