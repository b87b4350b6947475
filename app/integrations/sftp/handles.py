"""SFTP file handles: plain reads, and uploads staged in a hidden file until a clean close."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from typing import BinaryIO

import paramiko

log = logging.getLogger("perennial.sftp")


def _status(exc: OSError) -> int:
    return paramiko.SFTPServer.convert_errno(exc.errno)


class ReadHandle(paramiko.SFTPHandle):
    """Serve reads from a regular file opened without following symlinks."""

    def __init__(self, file: BinaryIO, flags: int, touch: Callable[[], None]) -> None:
        super().__init__(flags)
        self.readfile = file
        self._touch = touch

    def read(self, offset: int, length: int) -> bytes | int:
        """Read a chunk of the file for the client."""
        self._touch()
        return super().read(offset, length)

    def stat(self) -> paramiko.SFTPAttributes | int:
        """Describe the open file."""
        try:
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as exc:
            return _status(exc)

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        """Refuse attribute changes through a read-only handle."""
        return paramiko.SFTP_PERMISSION_DENIED


class UploadHandle(paramiko.SFTPHandle):
    """Write to a hidden temp file and publish it under its final name only on a clean close.

    ``close`` is what paramiko calls for the client's CLOSE request: it publishes. ``abort``
    is for everything else (oversize, write error, connection lost): it deletes the temp file.
    """

    def __init__(
        self,
        file: BinaryIO,
        *,
        flags: int,
        temp: str,
        final: str,
        max_bytes: int,
        on_publish: Callable[[str, int], None],
        touch: Callable[[], None],
    ) -> None:
        super().__init__(flags)
        self._file = file
        self._append = bool(flags & os.O_APPEND)
        self._readable = bool(flags & os.O_RDWR)
        self._temp = temp
        self._final = final
        self._max_bytes = max_bytes
        self._on_publish = on_publish
        self._touch = touch
        self._open = True

    def read(self, offset: int, length: int) -> bytes | int:
        """Read back what was written so far, if the client opened the file read-write."""
        if not (self._open and self._readable):
            return paramiko.SFTP_PERMISSION_DENIED if self._open else paramiko.SFTP_FAILURE
        self._touch()
        try:
            self._file.seek(offset)
            return self._file.read(length)
        except OSError as exc:
            return _status(exc)

    def write(self, offset: int, data: bytes) -> int:
        """Write a chunk into the temp file, failing the upload if it grows past the limit."""
        if not self._open:
            return paramiko.SFTP_FAILURE
        self._touch()
        try:
            start = self._file.seek(0, os.SEEK_END) if self._append else offset
            if start + len(data) > self._max_bytes:
                log.warning(
                    "upload to %s refused: larger than %d bytes", self._final, self._max_bytes
                )
                self.abort()
                return paramiko.SFTP_FAILURE
            self._file.seek(start)
            self._file.write(data)
        except OSError as exc:
            self.abort()
            return _status(exc)
        return paramiko.SFTP_OK

    def stat(self) -> paramiko.SFTPAttributes | int:
        """Describe the upload as written so far."""
        if not self._open:
            return paramiko.SFTP_FAILURE
        try:
            self._file.flush()
            return paramiko.SFTPAttributes.from_stat(os.fstat(self._file.fileno()))
        except OSError as exc:
            return _status(exc)

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        """Keep the client's timestamps (they survive the rename); ignore modes and owners."""
        if not self._open:
            return paramiko.SFTP_FAILURE
        if attr.st_size is not None:
            # scp sets the final size once it has written everything: a no-op we accept.
            # Truncating or extending an upload is refused.
            self._file.flush()
            if attr.st_size != os.fstat(self._file.fileno()).st_size:
                return paramiko.SFTP_OP_UNSUPPORTED
        if attr.st_atime is not None and attr.st_mtime is not None:
            try:
                self._file.flush()
                os.utime(self._file.fileno(), (attr.st_atime, attr.st_mtime))
            except OSError as exc:
                return _status(exc)
        return paramiko.SFTP_OK

    def close(self) -> None:
        """Publish the upload under its final name: the client closed the handle cleanly."""
        if not self._open:
            return
        self._open = False
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            size = os.fstat(self._file.fileno()).st_size
            self._file.close()
            os.replace(self._temp, self._final)
        except OSError:
            log.exception("could not publish upload %s", self._final)
            self._discard()
            return
        self._on_publish(self._final, size)

    def abort(self) -> None:
        """Drop the upload without publishing it."""
        if self._open:
            self._open = False
            self._discard()

    def _discard(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(OSError):
            os.unlink(self._temp)
