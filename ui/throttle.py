"""Throttles for the app: exponential back-off for logins (per client and per user name) and a sliding-window
rate limit (e.g. feedback per client). In memory, per process; bounded in size.

Logins: a client's own failures make that client wait (1 s, 2 s, 4 s … up to 15 min after `client_free`
free tries). Failures for one user name from anywhere make that name wait for clients that have not logged
in as it before (a distributed guess is slowed down), while a client that logged in as that user earlier
is never held back by someone else's failures.

>>> t = LoginThrottle(clock=lambda: 0.0, client_free=2)
>>> t.failed("1.2.3.4", "anna")
1
>>> t.wait("1.2.3.4", "anna"), t.wait("5.6.7.8", "anna")
(0.0, 0.0)
>>> t.failed("1.2.3.4", "anna")
2
>>> t.wait("1.2.3.4", "anna") > 0, t.wait("5.6.7.8", "anna")
(True, 0.0)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]
MAX_KEYS = 100_000  # entries kept per table; the oldest go first (an attacker with many addresses)


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


@dataclass
class Backoff:
    """Failures per key; after `free` failures each further one doubles the wait, from `base` to `cap` seconds.
    A key is forgotten `forget` seconds after its last failure."""

    free: int = 3
    base: float = 1.0
    cap: float = 900.0
    forget: float = 3600.0
    clock: Clock = time.monotonic
    _table: dict[str, _Failures] = field(default_factory=dict)

    def wait(self, key: str) -> float:
        f = self._table.get(key)
        if f is None:
            return 0.0
        now = self.clock()
        if now - f.last > self.forget:
            del self._table[key]
            return 0.0
        if f.count < self.free:
            return 0.0
        delay = min(self.cap, self.base * 2 ** (f.count - self.free))
        return max(0.0, f.last + delay - now)

    def fail(self, key: str) -> int:
        now = self.clock()
        f = self._table.pop(key, None) or _Failures()
        if now - f.last > self.forget:
            f = _Failures()
        f.count += 1
        f.last = now
        self._table[key] = f  # re-inserted: the dict's order is the order of last failure
        while len(self._table) > MAX_KEYS:
            del self._table[next(iter(self._table))]
        return f.count

    def reset(self, key: str) -> None:
        self._table.pop(key, None)


class LoginThrottle:
    """Per-client and per-user-name back-off for a login form; thread-safe."""

    def __init__(self, clock: Clock = time.monotonic, client_free: int = 3, user_free: int = 10,
                 base: float = 1.0, cap: float = 900.0, forget: float = 3600.0,
                 trust_for: float = 30 * 24 * 3600.0) -> None:
        self.clients = Backoff(client_free, base, cap, forget, clock)
        self.users = Backoff(user_free, base, cap, forget, clock)
        self.clock = clock
        self.trust_for = trust_for
        self._known: dict[tuple[str, str], float] = {}  # (user, client) -> last successful login
        self._lock = threading.Lock()

    def wait(self, client: str, user: str) -> float:
        """Seconds this client must wait before trying this user name (0: may try now)."""
        user = _norm(user)
        with self._lock:
            own = self.clients.wait(client)
            if own > 0:
                return own
            seen = self._known.get((user, client))
            if seen is not None and self.clock() - seen < self.trust_for:
                return 0.0  # someone else's failures never lock out a client this user logged in from
            return self.users.wait(user)

    def failed(self, client: str, user: str) -> int:
        """Count a failure; returns the client's failures so far (for logging)."""
        with self._lock:
            self.users.fail(_norm(user))
            return self.clients.fail(client)

    def succeeded(self, client: str, user: str) -> None:
        with self._lock:
            self.clients.reset(client)
            key = (_norm(user), client)
            self._known.pop(key, None)
            self._known[key] = self.clock()
            while len(self._known) > MAX_KEYS:
                del self._known[next(iter(self._known))]


def _norm(user: str) -> str:
    return (user or "").strip().casefold()[:200]


class RateLimit:
    """At most `limit` events per key within `window` seconds (sliding window); thread-safe.

    >>> r = RateLimit(2, 60.0, clock=lambda: 0.0)
    >>> r.allow("a"), r.allow("a"), r.allow("a"), r.allow("b")
    (True, True, False, True)
    """

    def __init__(self, limit: int, window: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            q = self._events.pop(key, None) or deque()
            while q and now - q[0] >= self.window:
                q.popleft()
            ok = len(q) < self.limit
            if ok:
                q.append(now)
            self._events[key] = q
            while len(self._events) > MAX_KEYS:
                del self._events[next(iter(self._events))]
            return ok


def wait_text(seconds: float) -> str:
    """German 'how long': '3 Sekunden', '2 Minuten'.

    >>> wait_text(2.2), wait_text(61), wait_text(1)
    ('3 Sekunden', '2 Minuten', '1 Sekunde')
    """
    s = max(1, int(seconds + 0.999))
    if s < 60:
        return "1 Sekunde" if s == 1 else f"{s} Sekunden"
    m = (s + 59) // 60
    return "1 Minute" if m == 1 else f"{m} Minuten"
