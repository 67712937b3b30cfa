"""In-process token bucket used by the webhook dispatcher."""

import threading
import time


class TokenBucket:
    """A token bucket refilled continuously at `rate` tokens per second."""

    def __init__(self, rate, capacity, clock=time.monotonic):
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate = float(rate)
        self.capacity = float(capacity)
        self._tokens = float(capacity)
        self._clock = clock
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self):
        now = self._clock()
        elapsed = now - self._stamp
        if elapsed > 0:
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
            self._stamp = now

    def take(self, n=1):
        """Take n tokens if available; return True when they were taken."""
        with self._lock:
            self._refill()
            if self._tokens >= n:
                self._tokens -= n
                return True
            return False

    def wait_time(self, n=1):
        """Seconds until n tokens will be available."""
        with self._lock:
            self._refill()
            missing = n - self._tokens
            return max(0.0, missing / self.rate)

    def acquire(self, n=1, timeout=None):
        """Block until n tokens are taken or the timeout passes."""
        deadline = None if timeout is None else self._clock() + timeout
        while True:
            if self.take(n):
                return True
            delay = self.wait_time(n)
            if deadline is not None:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return False
                delay = min(delay, remaining)
            time.sleep(delay)


def per_host_buckets(hosts, rate, capacity):
    """One bucket per destination host."""
    buckets = {}
    for host in hosts:
        buckets[host.lower()] = TokenBucket(rate, capacity)
    return buckets
