"""Count failed logins per (ip, username) and lock the pair out after too many."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Key = tuple[str, str]


@dataclass
class _Entry:
    failures: int
    first_failure: float
    locked_until: float = 0.0


class LoginThrottle:
    """Lock an (ip, username) pair for ``lockout_seconds`` after ``max_failures`` failures."""

    def __init__(
        self,
        max_failures: int,
        lockout_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._max_failures = max_failures
        self._lockout = lockout_seconds
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[Key, _Entry] = {}
        self._lock = threading.Lock()

    def locked(self, key: Key) -> bool:
        """Tell whether the pair is locked out right now."""
        with self._lock:
            entry = self._current(key)
            return entry is not None and entry.locked_until > self._clock()

    def failed(self, key: Key) -> bool:
        """Record a failed attempt and tell whether it locked the pair out."""
        now = self._clock()
        with self._lock:
            entry = self._current(key)
            if entry is None:
                self._make_room()
                entry = self._entries[key] = _Entry(failures=0, first_failure=now)
            entry.failures += 1
            if entry.failures >= self._max_failures and entry.locked_until <= now:
                entry.locked_until = now + self._lockout
                return True
            return False

    def succeeded(self, key: Key) -> None:
        """Forget the pair's failures after a successful login."""
        with self._lock:
            self._entries.pop(key, None)

    def _current(self, key: Key) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and self._expired(entry, self._clock()):
            del self._entries[key]
            return None
        return entry

    def _expired(self, entry: _Entry, now: float) -> bool:
        # Failures count within one lockout-long window; a lock lasts its full term.
        return entry.locked_until <= now and now - entry.first_failure >= self._lockout

    def _make_room(self) -> None:
        if len(self._entries) < self._max_entries:
            return
        now = self._clock()
        for key in [k for k, e in self._entries.items() if self._expired(e, now)]:
            del self._entries[key]
        if len(self._entries) < self._max_entries:
            return
        # Evict the oldest unlocked pair so a flood of new names cannot lift a real lockout.
        victim = next((k for k, e in self._entries.items() if e.locked_until <= now), None)
        del self._entries[victim if victim is not None else next(iter(self._entries))]
