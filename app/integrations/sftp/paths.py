"""Map client paths into a merchant's home and tell finished uploads from partial ones."""

from __future__ import annotations

import errno
import os
import posixpath
import re
import secrets

WRITABLE_DIR = "incoming"
HOME_DIRS = ("incoming", "outgoing")
PARTIAL_SUFFIXES = (".part", ".tmp", ".filepart")

_USERNAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{16}\.part", re.DOTALL)
_TEMP_STEM_CHARS = 200  # keeps ".<stem>.<16 hex>.part" under NAME_MAX (255)


def valid_username(username: str) -> bool:
    """Tell whether a login name may become a directory under the drop site root."""
    return bool(_USERNAME.fullmatch(username)) and username not in {".", ".."}


def is_published(name: str) -> bool:
    """Tell whether a file (name or path) in incoming/ is complete and ready for ingestion."""
    base = name.rsplit("/", 1)[-1]
    if not base or base.startswith("."):
        return False
    return not base.lower().endswith(PARTIAL_SUFFIXES)


def temp_name(name: str) -> str:
    """Return a fresh hidden name to stage an upload of ``name`` in the same directory."""
    return f".{name[:_TEMP_STEM_CHARS]}.{secrets.token_hex(8)}.part"


def is_temp_name(name: str) -> bool:
    """Tell whether a directory entry is one of our staged, unpublished uploads."""
    return bool(_TEMP_NAME.fullmatch(name))


def virtual_path(path: str) -> str:
    """Normalise a client path against the virtual root "/" of the home."""
    return "/" + posixpath.normpath("/" + path).lstrip("/")


def resolve(home: str, path: str) -> str:
    """Return the real path of a client path, refusing escapes, symlinks and staged uploads.

    :param home: the canonical (``realpath``) home directory of the user.
    :raises PermissionError: the path leaves the home or passes through a symlink.
    :raises FileNotFoundError: the path names one of our staged uploads.
    """
    parts = [part for part in virtual_path(path).split("/") if part]
    if any(is_temp_name(part) for part in parts):
        raise FileNotFoundError(errno.ENOENT, "no such file", path)
    lexical = os.path.join(home, *parts)
    real = os.path.realpath(lexical)
    # Any difference means a symlink somewhere on the way: never follow one, wherever it points.
    inside = real == home or real.startswith(home + os.sep)
    if real != lexical or not inside or os.path.islink(real):
        raise PermissionError(errno.EACCES, "permission denied", path)
    return real


def is_writable(home: str, real: str) -> bool:
    """Tell whether a resolved path lies strictly inside the home's incoming/ directory."""
    return real.startswith(os.path.join(home, WRITABLE_DIR) + os.sep)


def prepare_home(root: str, username: str) -> str:
    """Create the user's home with incoming/ and outgoing/ and return its canonical path.

    :raises PermissionError: the home or one of its folders is a symlink or not a directory.
    """
    home = os.path.join(root, username)
    for folder in (home, *(os.path.join(home, sub) for sub in HOME_DIRS)):
        os.makedirs(folder, mode=0o750, exist_ok=True)
        if os.path.islink(folder) or not os.path.isdir(folder):
            raise PermissionError(errno.EACCES, "not a plain directory", folder)
    return home
