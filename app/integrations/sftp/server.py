"""The SFTP drop site: merchants upload feeds to incoming/ and fetch reports from outgoing/.

Pure integration code: no Flask, no ``app.*`` imports. Settings and the Authenticator (which
the platform backs with hashed passwords) come in as arguments.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import paramiko

from .filesystem import ChrootSftp
from .gate import SessionGate
from .throttle import LoginThrottle

log = logging.getLogger("perennial.sftp")

ACCEPT_POLL_SECONDS = 0.25
CONNECTION_POLL_SECONDS = 0.1
BANNER_TIMEOUT = 10
HANDSHAKE_TIMEOUT = 15
AUTH_TIMEOUT = 30
CHANNEL_TIMEOUT = 30  # an authenticated client must open its sftp channel by then
SERVER_VERSION = "SSH-2.0-Perennial"
JOIN_TIMEOUT = 5


@dataclass(frozen=True, kw_only=True)
class SftpSettings:
    """Where and how the drop site listens, and the limits it enforces."""

    host: str = "127.0.0.1"
    port: int = 2222
    root: Path  # homes live at root/<username>/ with incoming/ and outgoing/
    host_key_path: Path  # generated once (RSA 3072, mode 0600) if missing, then reused
    max_file_bytes: int = 512 * 1024 * 1024
    max_connections: int = 32
    max_auth_failures: int = 5  # per (remote ip, username) ...
    lockout_seconds: int = 300  # ... then refused for this long
    idle_timeout: float = 600


class Authenticator(Protocol):
    """Decide who may log in; the platform checks hashed passwords in constant time."""

    def check_password(self, username: str, password: str) -> bool: ...

    def authorized_keys(self, username: str) -> list[paramiko.PKey]: ...


def load_host_key(path: Path) -> paramiko.PKey:
    """Load the server's host key, creating it (RSA 3072, mode 0600) on first start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        key = paramiko.RSAKey.generate(3072)
        staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                key.write_private_key(fh)
            # link() never replaces: a key another process just created wins, so clients
            # that pinned it keep working.
            with contextlib.suppress(FileExistsError):
                os.link(staging, path)
        finally:
            os.unlink(staging)
        log.info("generated sftp host key %s", path)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        log.warning("sftp host key %s was readable by others; restricting it to 0600", path)
        path.chmod(0o600)
    return paramiko.PKey.from_path(path)


class _SftpSubsystem(paramiko.SFTPServer):
    """paramiko's SFTP subsystem that reports exit status 0 when the client ends the session.

    OpenSSH's scp (SFTP underneath) exits 1 when the channel closes without an exit status.
    """

    def start_subsystem(self, name, transport, channel) -> None:
        super().start_subsystem(name, transport, channel)
        with contextlib.suppress(Exception):  # the client may already be gone
            channel.send_exit_status(0)


class SftpServer:
    """Accept SFTP connections, one thread each, up to ``max_connections`` at a time."""

    def __init__(
        self,
        settings: SftpSettings,
        auth: Authenticator,
        *,
        on_event: Callable[[str, dict], None] | None = None,
    ) -> None:
        self.settings = settings
        self._auth = auth
        self._on_event = on_event
        os.makedirs(settings.root, mode=0o750, exist_ok=True)
        self._root = os.path.realpath(settings.root)
        self._host_key = load_host_key(settings.host_key_path)
        self._throttle = LoginThrottle(settings.max_auth_failures, settings.lockout_seconds)
        self._listener: socket.socket | None = None
        self._port = settings.port
        self._accept_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._connections: dict[threading.Thread, paramiko.Transport | None] = {}

    @property
    def port(self) -> int:
        """Return the bound port (the picked one when configured with port 0)."""
        return self._port

    def serve_forever(self) -> None:
        """Accept connections until ``shutdown`` (or Ctrl-C, which still closes everything)."""
        self._bind()
        try:
            self._accept_loop()
        finally:
            self.shutdown()

    def start_background(self) -> None:
        """Bind now and serve from a daemon thread (for tests and embedding)."""
        self._bind()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name="sftp-accept", daemon=True
        )
        self._accept_thread.start()

    def shutdown(self) -> None:
        """Stop accepting, close every connection (aborting open uploads) and join threads."""
        self._stop.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() on Linux
        accept_thread = self._accept_thread
        if accept_thread is not None and accept_thread is not threading.current_thread():
            accept_thread.join(JOIN_TIMEOUT)
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            connections = list(self._connections.items())
        for _thread, transport in connections:
            if transport is not None:
                transport.close()
        for thread, _transport in connections:
            thread.join(JOIN_TIMEOUT)

    def _bind(self) -> socket.socket:
        if self._listener is None:
            self._listener = socket.create_server((self.settings.host, self.settings.port))
            self._listener.settimeout(ACCEPT_POLL_SECONDS)
            self._port = self._listener.getsockname()[1]
            log.info("sftp drop site listening on %s:%d", self.settings.host, self.port)
        return self._listener

    def _accept_loop(self) -> None:
        listener = self._bind()
        while not self._stop.is_set():
            try:
                conn, addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    break
                log.exception("sftp accept failed")
                self._stop.wait(ACCEPT_POLL_SECONDS)  # e.g. out of file descriptors
                continue
            self._admit(conn, addr[0])

    def _admit(self, conn: socket.socket, ip: str) -> None:
        with self._lock:
            if len(self._connections) >= self.settings.max_connections or self._stop.is_set():
                conn.close()
                log.warning(
                    "sftp connection from %s refused: %d connections open",
                    ip,
                    len(self._connections),
                )
                return
            thread = threading.Thread(
                target=self._serve_connection, args=(conn, ip), name=f"sftp-{ip}", daemon=True
            )
            self._connections[thread] = None
        thread.start()

    def _serve_connection(self, conn: socket.socket, ip: str) -> None:
        transport = None
        try:
            conn.settimeout(None)
            transport = paramiko.Transport(conn)
            if not self._register(transport):
                return
            self._run_transport(transport, ip)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.info("sftp connection from %s ended: %s", ip, exc or type(exc).__name__)
        except Exception:
            log.exception("sftp connection from %s failed", ip)
        finally:
            if transport is not None:
                transport.close()
            conn.close()
            with self._lock:
                self._connections.pop(threading.current_thread(), None)

    def _register(self, transport: paramiko.Transport) -> bool:
        with self._lock:
            if self._stop.is_set():
                return False
            self._connections[threading.current_thread()] = transport
            return True

    def _run_transport(self, transport: paramiko.Transport, ip: str) -> None:
        transport.set_log_channel("perennial.sftp.transport")
        transport.local_version = SERVER_VERSION
        transport.banner_timeout = BANNER_TIMEOUT
        transport.handshake_timeout = HANDSHAKE_TIMEOUT
        transport.auth_timeout = AUTH_TIMEOUT
        transport.add_server_key(self._host_key)
        transport.set_subsystem_handler("sftp", _SftpSubsystem, ChrootSftp)
        gate = SessionGate(
            ip,
            root=self._root,
            auth=self._auth,
            throttle=self._throttle,
            emit=self._emit,
            max_file_bytes=self.settings.max_file_bytes,
        )
        transport.start_server(server=gate)
        # Accepted channels must stay referenced: paramiko closes a Channel when it is collected.
        channels: list[paramiko.Channel] = []
        started = time.monotonic()
        # The transport runs in its own thread; this one keeps it company until it ends.
        while transport.is_active() and not self._stop.is_set():
            channel = transport.accept(CONNECTION_POLL_SECONDS)
            if channel is not None:
                channels = [c for c in channels if not c.closed] + [channel]
            now = time.monotonic()
            if not channels and now - started > CHANNEL_TIMEOUT:
                log.info("sftp connection from %s opened no channel; closing", ip)
                break
            if now - gate.last_activity > self.settings.idle_timeout:
                log.info("sftp connection from %s (%r) idle; closing", ip, gate.username)
                break

    def _emit(self, kind: str, data: dict) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(kind, data)
        except Exception:
            log.exception("sftp on_event(%r) handler failed", kind)
