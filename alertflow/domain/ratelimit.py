"""Token buckets: `rate` per second sustained, up to `burst` at once.

Implemented as GCRA (the generic cell rate algorithm): one float per bucket, no timer and no
background task, exact `retry after` answers. The caller passes the clock, so this stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass

_EPSILON = 1e-9  # repeated float additions of 1/rate must not cost the burst its last token


@dataclass(slots=True)
class TokenBucket:
    rate: float  # tokens per second; must be > 0
    burst: int  # tokens available at once; must be >= 1
    _tat: float = float("-inf")  # "theoretical arrival time": when the bucket is full again

    def take(self, now: float, cost: int = 1) -> float:
        """Take `cost` tokens at time `now` (seconds): 0.0 when granted, otherwise the seconds
        to wait before the same request would be granted (nothing is taken then)."""
        interval = 1.0 / self.rate
        tat = max(self._tat, now)
        new_tat = tat + cost * interval
        allowed_at = new_tat - self.burst * interval
        if allowed_at > now + _EPSILON:
            return allowed_at - now
        self._tat = new_tat
        return 0.0


def parse_rate_limit(text: str) -> tuple[float, int] | None:
    """`RATE` or `RATE:BURST` (per second; BURST defaults to max(1, RATE)); `0` or `` is off."""
    rate_text, _, burst_text = text.strip().partition(":")
    if rate_text in ("", "off"):
        return None
    try:
        rate = float(rate_text)
        burst = int(burst_text) if burst_text else max(1, round(rate))
    except (ValueError, OverflowError):
        raise ValueError(f"{text!r}: expected RATE or RATE:BURST, e.g. 50:100") from None
    if rate == 0 and not burst_text:
        return None
    if not 0 < rate < float("inf") or burst < 1:
        raise ValueError(f"{text!r}: RATE must be > 0 and BURST >= 1")
    return rate, burst
