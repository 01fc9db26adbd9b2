"""Failed logins counted per client address and per user name over a sliding window: past the
allowance, logins from that address or for that name wait (429 with Retry-After) until the
oldest failure leaves the window. So a guesser gets a few tries a window, and the real user of
a name under attack waits at most one window."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from app.interfaces.sessions import Clock


class LoginThrottle:
    """`attempts` failures per key within `window` seconds. At most `keep` keys are tracked
    (the least recently failed is forgotten first), so made-up names cannot fill the memory."""

    def __init__(
        self, attempts: int, window: float, clock: Clock = time.monotonic, keep: int = 10_000
    ) -> None:
        self.attempts, self.window, self.clock, self.keep = attempts, window, clock, keep
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, *keys: str) -> float:
        """Seconds until a login with these keys may be tried; 0 when it may be now."""
        now = self.clock()
        with self._lock:
            return max((self._wait(key, now) for key in keys), default=0.0)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                times = self._failures.pop(key, None) or deque(maxlen=self.attempts)
                times.append(now)
                self._failures[key] = times  # now the most recently failed
            while len(self._failures) > self.keep:
                self._failures.popitem(last=False)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _wait(self, key: str, now: float) -> float:
        times = self._failures.get(key)
        if times is None:
            return 0.0
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return 0.0
        return times[0] + self.window - now if len(times) >= self.attempts else 0.0


def client_key(host: str) -> str:
    return f"client:{host}"


def user_key(user: str) -> str:
    return f"user:{user.casefold()}"
