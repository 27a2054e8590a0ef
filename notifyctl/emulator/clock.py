"""The emulator's ONE clock: how long an AWS duration lasts on this machine.

AWS's timings are minutes and hours (a 1-minute Lambda retry wait, a 5-minute
canary, a 1-hour hook timeout, 60-second alarm periods). The emulator keeps their
proportions and shrinks them all by one factor, the time scale:

    real seconds = AWS seconds x scale          (default scale 0.01)

    AWS                          | at 0.01      | at 0.001 (the integration tests)
    -----------------------------|--------------|---------------------------------
    Lambda async retry wait 60 s | 0.6 s        | 60 ms
    alarm Period 60 s            | 0.6 s        | 60 ms
    Canary10Percent5Minutes      | 3 s + steps  | 0.3 s + steps
    lifecycle hook timeout 1 h   | 36 s         | 3.6 s

Every part that waits asks this module, never a constant of its own:

    from notifyctl.emulator import clock
    time.sleep(clock.scale(60))          # what "1 minute on AWS" is here, in real seconds
    clock.now()                          # emulated epoch seconds (only if you need a date)

Set it with `notifyctl local start --time-scale S`, `python -m notifyctl.emulator
--time-scale S`, or NOTIFYCTL_EMULATOR_TIME_SCALE. The former names
(`--retry-scale`, NOTIFYCTL_EMULATOR_RETRY_SCALE) still work as deprecated aliases.

Emulated time (`now()`) runs 1/scale times faster than the wall clock from the
moment the clock was configured (the emulator's start): one real second at 0.01 is
100 emulated seconds. Timestamps the emulator stores (metrics, log events) stay
real wall-clock times, because clients compare them with their own clock; only
durations are scaled.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

DEFAULT_TIME_SCALE = 0.01
ENV_TIME_SCALE = "NOTIFYCTL_EMULATOR_TIME_SCALE"
ENV_RETRY_SCALE = "NOTIFYCTL_EMULATOR_RETRY_SCALE"  # deprecated alias of ENV_TIME_SCALE


@dataclass(frozen=True)
class Clock:
    """A time scale plus the wall clock it applies to (injectable for tests)."""

    factor: float = DEFAULT_TIME_SCALE
    wall: Callable[[], float] = time.time
    origin: float = field(default_factory=time.time)  # real epoch where emulated time starts

    def __post_init__(self) -> None:
        if not self.factor > 0:
            raise ValueError(f"the time scale must be > 0, got {self.factor}")

    def scale(self, aws_seconds: float) -> float:
        """Real seconds that `aws_seconds` of AWS time last here."""
        return aws_seconds * self.factor

    def aws_seconds(self, real_seconds: float) -> float:
        """The AWS duration that `real_seconds` here stand for."""
        return real_seconds / self.factor

    def now(self) -> float:
        """Emulated epoch seconds: the origin, then time running 1/factor times faster."""
        return self.origin + (self.wall() - self.origin) / self.factor


def resolve(cli_value: float | None = None, environ: Mapping[str, str] | None = None) -> float:
    """The time scale from (in order) the command line, NOTIFYCTL_EMULATOR_TIME_SCALE,
    the deprecated NOTIFYCTL_EMULATOR_RETRY_SCALE, or the default."""
    if cli_value is not None:
        return float(cli_value)
    env = os.environ if environ is None else environ
    for name in (ENV_TIME_SCALE, ENV_RETRY_SCALE):
        text = (env.get(name) or "").strip()
        if text:
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"{name}={text!r}: expected a number such as 0.01") from None
    return DEFAULT_TIME_SCALE


_current = Clock()


def configure(factor: float, *, wall: Callable[[], float] = time.time) -> Clock:
    """Set the process-wide clock (the emulator server does this once at start)."""
    global _current
    _current = Clock(factor=factor, wall=wall, origin=wall())
    return _current


def current() -> Clock:
    """The process-wide clock (pass it to engines; they never read globals themselves)."""
    return _current


def scale(aws_seconds: float) -> float:
    """Real seconds that `aws_seconds` of AWS time last in this emulator."""
    return _current.scale(aws_seconds)


def now() -> float:
    """Emulated epoch seconds (see the module docstring)."""
    return _current.now()
