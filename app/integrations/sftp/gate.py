"""Authenticate one SSH connection and allow nothing but an sftp session."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import paramiko

from .paths import prepare_home, valid_username
from .throttle import LoginThrottle

if TYPE_CHECKING:
    from .server import Authenticator

log = logging.getLogger("perennial.sftp")

MAX_CHANNELS = 16  # per connection, over its lifetime: each sftp channel costs a thread
_DENIED = paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class SessionGate(paramiko.ServerInterface):
    """Check credentials for one connection and set up the user's home on first use."""

    def __init__(
        self,
        ip: str,
        *,
        root: str,
        auth: Authenticator,
        throttle: LoginThrottle,
        emit: Callable[[str, dict], None],
        max_file_bytes: int,
    ) -> None:
        self.ip = ip
        self.max_file_bytes = max_file_bytes
        self.emit = emit
        self.username: str | None = None
        self.home: str | None = None
        self.last_activity = time.monotonic()
        self._root = root
        self._auth = auth
        self._throttle = throttle
        self._method: str | None = None
        self._channels = 0
        self._lock = threading.Lock()

    def touch(self) -> None:
        """Note client activity, for the idle timeout."""
        self.last_activity = time.monotonic()

    def get_allowed_auths(self, username: str) -> str:
        """Offer both methods to everyone, so the list reveals nothing about the user."""
        return "password,publickey"

    def check_auth_password(self, username: str, password: str) -> int:
        """Accept the password if the user is admissible and the Authenticator agrees."""
        if not self._admissible(username):
            return paramiko.AUTH_FAILED
        try:
            ok = isinstance(password, str) and self._auth.check_password(username, password)
        except Exception:
            log.exception("authenticator failed for %r from %s", username, self.ip)
            return paramiko.AUTH_FAILED
        if not ok:
            self._fail(username, locked=self._throttle.failed((self.ip, username)))
            return paramiko.AUTH_FAILED
        self._throttle.succeeded((self.ip, username))
        self.username, self._method = username, "password"
        return paramiko.AUTH_SUCCESSFUL

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        """Accept the key if it is one of the user's authorized keys.

        paramiko asks before checking the signature (and for key probes without one), so
        the login only counts once a channel opens, see ``check_channel_request``.
        Rejected keys are not counted as failures: clients routinely offer several.
        """
        if not self._admissible(username):
            return paramiko.AUTH_FAILED
        try:
            authorized = self._auth.authorized_keys(username)
        except Exception:
            log.exception("authenticator failed for %r from %s", username, self.ip)
            return paramiko.AUTH_FAILED
        if not any(key == candidate for candidate in authorized):
            return paramiko.AUTH_FAILED
        self.username, self._method = username, "publickey"
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        """Open session channels only, for an authenticated user whose home is ready."""
        with self._lock:
            if kind != "session" or self._channels >= MAX_CHANNELS or not self._establish():
                return _DENIED
            self._channels += 1
        return paramiko.OPEN_SUCCEEDED

    def check_channel_subsystem_request(self, channel: paramiko.Channel, name: str) -> bool:
        """Start the sftp subsystem and nothing else."""
        return name == "sftp" and super().check_channel_subsystem_request(channel, name)

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        """Refuse shells: this is a drop site."""
        return False

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        """Refuse remote commands: this is a drop site."""
        return False

    def check_channel_direct_tcpip_request(
        self, chanid: int, origin: tuple, destination: tuple
    ) -> int:
        """Refuse local port forwarding."""
        return _DENIED

    def check_port_forward_request(self, address: str, port: int) -> bool:
        """Refuse remote port forwarding."""
        return False

    def _admissible(self, username: str) -> bool:
        if not valid_username(username):
            self._fail(username, locked=False)
            return False
        if self._throttle.locked((self.ip, username)):
            self._fail(username, locked=True)
            return False
        return True

    def _fail(self, username: str, *, locked: bool) -> None:
        shown = username[:64]
        log.warning(
            "sftp login failed for %r from %s%s", shown, self.ip, " (locked out)" if locked else ""
        )
        self.emit("auth_failed", {"username": shown, "ip": self.ip, "locked": locked})

    def _establish(self) -> bool:
        # paramiko opens channels only after authentication succeeded, so this is the
        # first point where a public key login is known to be complete.
        if self.home is not None:
            return True
        if self.username is None:
            return False
        try:
            self.home = prepare_home(self._root, self.username)
        except OSError:
            log.exception("cannot prepare the sftp home of %r", self.username)
            return False
        self._throttle.succeeded((self.ip, self.username))
        log.info("sftp login by %r from %s (%s)", self.username, self.ip, self._method)
        self.emit("login", {"username": self.username, "ip": self.ip, "method": self._method})
        return True
