"""The SFTP view of one merchant's home: "/" is the home, only incoming/ is writable."""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import shutil
import stat
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

import paramiko

from .handles import ReadHandle, UploadHandle
from .paths import (
    HOME_DIRS,
    is_published,
    is_temp_name,
    is_writable,
    resolve,
    temp_name,
    virtual_path,
)

if TYPE_CHECKING:
    from .gate import SessionGate

log = logging.getLogger("perennial.sftp")

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_COPY_CHUNK = 1024 * 1024


def _answer(method: Callable[..., Any]) -> Callable[..., Any]:
    """Turn exceptions into SFTP status codes: the interface must never raise."""

    @functools.wraps(method)
    def wrapper(self: ChrootSftp, *args: Any) -> Any:
        self.gate.touch()
        try:
            return method(self, *args)
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)
        except Exception:
            log.exception("sftp %s failed for %s", method.__name__, self.gate.username)
            return paramiko.SFTP_FAILURE

    return wrapper


def _denied(path: str) -> PermissionError:
    return PermissionError(errno.EACCES, "permission denied", path)


class ChrootSftp(paramiko.SFTPServerInterface):
    """Serve one authenticated user's home, chrooted by path resolution."""

    def __init__(self, server: SessionGate, *args: Any, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        self.gate = server
        if server.home is None:
            raise paramiko.SSHException("sftp session without an authenticated home")
        self.home: str = server.home
        self._protected = {self.home, *(os.path.join(self.home, d) for d in HOME_DIRS)}
        self._uploads: weakref.WeakSet[UploadHandle] = weakref.WeakSet()

    def session_ended(self) -> None:
        """Abort uploads whose handle the client never closed (the connection went away).

        paramiko calls this before it closes the handles left in its table, so those
        closes find the uploads already aborted and publish nothing.
        """
        for upload in list(self._uploads):
            upload.abort()

    def canonicalize(self, path: str) -> str:
        """Answer realpath requests with the virtual path, never the server's."""
        return virtual_path(path)

    @_answer
    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes] | int:
        """List a directory without following symlinks and without staged uploads."""
        real = self._resolve(path)
        entries = []
        for name in os.listdir(real):
            if is_temp_name(name):
                continue
            with contextlib.suppress(FileNotFoundError):
                entries.append(
                    paramiko.SFTPAttributes.from_stat(os.lstat(os.path.join(real, name)), name)
                )
        return entries

    @_answer
    def stat(self, path: str) -> paramiko.SFTPAttributes | int:
        """Describe a path (symlinks are refused, so stat and lstat agree)."""
        return paramiko.SFTPAttributes.from_stat(os.lstat(self._resolve(path)))

    lstat = stat

    @_answer
    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes) -> paramiko.SFTPHandle:
        """Open a file for reading, or start an upload if any write flag is set."""
        real = self._resolve(path)
        if flags & _WRITE_FLAGS:
            return self._start_upload(path, real, flags)
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        file = os.fdopen(fd, "rb")
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise IsADirectoryError(errno.EISDIR, "not a regular file", path)
        except OSError:
            file.close()
            raise
        return ReadHandle(file, flags, self.gate.touch)

    @_answer
    def remove(self, path: str) -> int:
        """Delete a file anywhere in the home (merchants clear outgoing/ themselves)."""
        real = self._resolve(path)
        if real in self._protected:
            raise _denied(path)
        os.remove(real)
        return paramiko.SFTP_OK

    @_answer
    def rename(self, oldpath: str, newpath: str) -> int:
        """Rename inside incoming/, refusing to replace an existing name (SFTP v3)."""
        old, new = self._resolve_writable(oldpath), self._resolve_writable(newpath)
        if os.path.lexists(new):
            raise FileExistsError(errno.EEXIST, "file exists", newpath)
        os.rename(old, new)
        self._announce(new)
        return paramiko.SFTP_OK

    @_answer
    def posix_rename(self, oldpath: str, newpath: str) -> int:
        """Rename inside incoming/, replacing the target (the ``*.part`` then rename idiom)."""
        old, new = self._resolve_writable(oldpath), self._resolve_writable(newpath)
        os.replace(old, new)
        self._announce(new)
        return paramiko.SFTP_OK

    @_answer
    def mkdir(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        """Create a directory where uploads are allowed (under incoming/)."""
        os.mkdir(self._resolve_writable(path), 0o750)
        return paramiko.SFTP_OK

    @_answer
    def rmdir(self, path: str) -> int:
        """Remove an empty directory, except the home and its incoming/ and outgoing/."""
        real = self._resolve_writable(path)
        if real in self._protected:
            raise _denied(path)
        os.rmdir(real)
        return paramiko.SFTP_OK

    @_answer
    def chattr(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        """Keep client timestamps on files in incoming/; ignore modes and owners."""
        real = self._resolve_writable(path)
        if attr.st_size is not None:
            return paramiko.SFTP_OP_UNSUPPORTED
        if attr.st_atime is not None and attr.st_mtime is not None:
            os.utime(real, (attr.st_atime, attr.st_mtime), follow_symlinks=False)
        return paramiko.SFTP_OK

    def symlink(self, target_path: str, path: str) -> int:
        """Refuse symlinks: they are the classic way out of a chroot."""
        return paramiko.SFTP_PERMISSION_DENIED

    def readlink(self, path: str) -> int:
        """Refuse to reveal where a (server-side) symlink points."""
        return paramiko.SFTP_PERMISSION_DENIED

    def _start_upload(self, path: str, real: str, flags: int) -> UploadHandle:
        if not is_writable(self.home, real):
            raise _denied(path)
        exists = os.path.lexists(real)
        if exists and not stat.S_ISREG(os.lstat(real).st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file", path)
        if exists and flags & os.O_EXCL:
            raise FileExistsError(errno.EEXIST, "file exists", path)
        if not exists and not flags & os.O_CREAT:
            raise FileNotFoundError(errno.ENOENT, "no such file", path)
        directory, name = os.path.split(real)
        temp = os.path.join(directory, temp_name(name))
        flags_tmp = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        file = os.fdopen(os.open(temp, flags_tmp, 0o640), "r+b")
        try:
            if exists and not flags & os.O_TRUNC:
                self._copy_existing(real, file)
        except OSError:
            file.close()
            os.unlink(temp)
            raise
        upload = UploadHandle(
            file,
            flags=flags,
            temp=temp,
            final=real,
            max_bytes=self.gate.max_file_bytes,
            on_publish=self._published,
            touch=self.gate.touch,
        )
        self._uploads.add(upload)
        return upload

    def _copy_existing(self, real: str, file: BinaryIO) -> None:
        # A resume or in-place edit must start from the current content.
        with os.fdopen(os.open(real, os.O_RDONLY | os.O_NOFOLLOW), "rb") as source:
            if os.fstat(source.fileno()).st_size > self.gate.max_file_bytes:
                raise OSError(errno.EFBIG, "file too large", real)
            shutil.copyfileobj(source, file, _COPY_CHUNK)

    def _published(self, real: str, size: int) -> None:
        log.info("%s uploaded %s (%d bytes)", self.gate.username, self._virtual(real), size)
        self._announce(real, size)

    def _announce(self, real: str, size: int | None = None) -> None:
        if not is_published(real) or not os.path.isfile(real):
            return
        size = os.path.getsize(real) if size is None else size
        self.gate.emit(
            "upload", {"username": self.gate.username, "path": self._virtual(real), "bytes": size}
        )

    def _virtual(self, real: str) -> str:
        return "/" + os.path.relpath(real, self.home)

    def _resolve(self, path: str) -> str:
        return resolve(self.home, path)

    def _resolve_writable(self, path: str) -> str:
        real = self._resolve(path)
        if not is_writable(self.home, real):
            raise _denied(path)
        return real
