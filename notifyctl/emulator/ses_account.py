"""SES as an account sees it: sandbox, sending quota and rate, sending pause, the
account-level suppression list, identity verification (the engine; moto is patched
to consult it in emulator/patches/ses.py and sesv2.py).

AWS (SES Developer Guide, "Request production access", "Service quotas"):

| rule                        | sandbox                                 | production (emulator)  |
|-----------------------------|-----------------------------------------|------------------------|
| recipients                  | verified identities or the mailbox      | anyone                 |
|                             |   simulator (@simulator.amazonses.com)  |                        |
| sending quota (recipients)  | 200 per 24 h                            | 1,000,000 per 24 h     |
| sending rate (recipients)   | 1 per second                            | 1,000 per second       |
| over quota / rate           | Throttling "Daily message quota exceeded." / "Maximum sending rate       |
|                             |   exceeded." (v2: ThrottlingException)                                   |
| suppression list management | Put/Delete refused ("disabled in the    | allowed                |
|                             |   sandbox")                             |                        |

Both windows (1 s and 24 h) follow the emulator's time scale (emulator/clock.py), as
every AWS duration there does: at the default 0.01 the sandbox allows 200 recipients per
14.4 minutes.

AWS publishes no fixed production quota (it is set per account and grows with its
use); the emulator's production stand-in is large enough not to throttle the pipeline's
own benchmarks, and `NOTIFYCTL_EMULATOR_SES_QUOTA=50000/14` (per 24 h / per second)
rehearses an account's real quota. A send to an address on the
account's suppression list is accepted (a message id) and not delivered.

Identities: `verify-email-identity` / `create-email-identity` leave an identity
`Pending` until `notifyctl local ses verify ADDRESS` when auto-verify is off; the
default (auto-verify on) verifies at once, as the local environment wants.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parseaddr

from notifyctl.emulator import clock

ENV_SANDBOX = "NOTIFYCTL_EMULATOR_SES_SANDBOX"
ENV_AUTO_VERIFY = "NOTIFYCTL_EMULATOR_SES_AUTO_VERIFY"
ENV_QUOTA = "NOTIFYCTL_EMULATOR_SES_QUOTA"  # production "MAX24H/RATE", e.g. 50000/14
SIMULATOR_DOMAIN = "simulator.amazonses.com"
DAY_S = 24 * 3600.0
SUPPRESSION_REASONS = ("BOUNCE", "COMPLAINT")


@dataclass(frozen=True)
class Limits:
    max_24h: int
    max_rate: int


SANDBOX = Limits(max_24h=200, max_rate=1)
PRODUCTION = Limits(max_24h=1_000_000, max_rate=1_000)


def production_limits(text: str | None) -> Limits:
    """`MAX24H/RATE` (NOTIFYCTL_EMULATOR_SES_QUOTA), or the stand-in when unset/invalid."""
    try:
        day, rate = (int(float(p)) for p in (text or "").split("/"))
    except ValueError:
        return PRODUCTION
    return Limits(max_24h=day, max_rate=rate) if day > 0 and rate > 0 else PRODUCTION


class SesRefused(Exception):
    """A send SES refuses: `kind` picks the error code per API version."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "rejected" | "rate" | "quota" | "paused"
        self.message = message


class SuppressionDisabled(Exception):
    """Suppression list management in the sandbox (AWS disables it there)."""


# The error code per (kind, API version): v1 is the query API, v2 the JSON one.
ERROR_CODES = {
    ("rejected", "v1"): "MessageRejected", ("rejected", "v2"): "MessageRejected",
    ("rate", "v1"): "Throttling", ("rate", "v2"): "ThrottlingException",
    ("quota", "v1"): "Throttling", ("quota", "v2"): "ThrottlingException",
    ("paused", "v1"): "AccountSendingPausedException", ("paused", "v2"): "SendingPausedException",
}


@dataclass(frozen=True)
class Suppressed:
    address: str
    reason: str  # BOUNCE | COMPLAINT
    last_update: float
    message_id: str = ""
    feedback_id: str = ""


def is_simulator(address: str) -> bool:
    """The mailbox simulator: always a permitted recipient, also with a +label."""
    return parseaddr(address)[1].lower().endswith("@" + SIMULATOR_DOMAIN)


@dataclass
class SesAccount:
    """One account's SES state in one region. Thread-safe."""

    region: str
    sandbox: bool = False
    clock: Callable[[], float] = time.time
    time_scale: float = 1.0
    production: Limits = PRODUCTION
    sending_enabled: bool = True
    suppressed_reasons: list[str] = field(default_factory=lambda: list(SUPPRESSION_REASONS))
    suppressed: dict[str, Suppressed] = field(default_factory=dict)
    _sends: deque[tuple[float, int]] = field(default_factory=deque)
    _day_total: int = 0  # sum of _sends' counts
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def limits(self) -> Limits:
        return SANDBOX if self.sandbox else self.production

    def sent_last_24h(self) -> int:
        with self._lock:
            return self._count(DAY_S * self.time_scale)

    def _count(self, window_s: float) -> int:
        """Recipients sent in the last window_s (at most a day): the day's running total,
        or the newest sends counted from the right (summing the whole day on every
        send made sending slower as the day filled)."""
        now = self.clock()
        while self._sends and self._sends[0][0] <= now - DAY_S * self.time_scale:
            self._day_total -= self._sends.popleft()[1]
        if window_s >= DAY_S * self.time_scale:
            return self._day_total
        count = 0
        for t, n in reversed(self._sends):
            if t <= now - window_s:
                break
            count += n
        return count

    def admit(self, recipients: list[str], is_verified: Callable[[str], bool]) -> None:
        """Count a send of `recipients`, or raise SesRefused as SES would."""
        if not self.sending_enabled:
            raise SesRefused("paused", "Sending paused for this account.")
        if self.sandbox:
            failed = [r for r in recipients if not is_simulator(r) and not is_verified(r)]
            if failed:
                raise SesRefused("rejected", "Email address is not verified. The following "
                                 f"identities failed the check in region "
                                 f"{self.region.upper()}: {', '.join(failed)}")
        n = len(recipients)
        with self._lock:
            if self._count(1.0 * self.time_scale) + n > self.limits.max_rate:
                raise SesRefused("rate", "Maximum sending rate exceeded.")
            if self._count(DAY_S * self.time_scale) + n > self.limits.max_24h:
                raise SesRefused("quota", "Daily message quota exceeded.")
            self._sends.append((self.clock(), n))
            self._day_total += n

    def deliverable(self, recipients: Iterable[str]) -> list[str]:
        """The recipients not on the account's suppression list."""
        return [r for r in recipients if parseaddr(r)[1].lower() not in self.suppressed]

    # -- the suppression list ---------------------------------------------------------
    def put_suppressed(self, address: str, reason: str) -> None:
        if self.sandbox:
            raise SuppressionDisabled("Suppression list management is disabled while the "
                                      "account is in the sandbox.")
        key = parseaddr(address)[1].lower()
        self.suppressed[key] = Suppressed(key, reason, self.clock())

    def delete_suppressed(self, address: str) -> bool:
        if self.sandbox:
            raise SuppressionDisabled("Suppression list management is disabled while the "
                                      "account is in the sandbox.")
        return self.suppressed.pop(parseaddr(address)[1].lower(), None) is not None

    def get_suppressed(self, address: str) -> Suppressed | None:
        return self.suppressed.get(parseaddr(address)[1].lower())

    def list_suppressed(self, reasons: list[str] | None = None, start: float | None = None,
                        end: float | None = None) -> list[Suppressed]:
        items = sorted(self.suppressed.values(), key=lambda s: (s.last_update, s.address))
        return [s for s in items if (not reasons or s.reason in reasons)
                and (start is None or s.last_update >= start)
                and (end is None or s.last_update <= end)]


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def auto_verify() -> bool:
    return _flag(ENV_AUTO_VERIFY, True)


_accounts: dict[tuple[str, str], SesAccount] = {}
_accounts_lock = threading.Lock()


def account(account_id: str, region: str) -> SesAccount:
    """The SES account state of (account, region), created with the emulator's settings."""
    with _accounts_lock:
        key = (account_id, region)
        if key not in _accounts:
            _accounts[key] = SesAccount(
                region=region, sandbox=_flag(ENV_SANDBOX, False), time_scale=clock.current().factor,
                production=production_limits(os.environ.get(ENV_QUOTA)))
        return _accounts[key]


def saved() -> dict[tuple[str, str], SesAccount]:
    """Every account's SES state, for the emulator's snapshot (state.py)."""
    with _accounts_lock:
        return dict(_accounts)


def restore(accounts: dict[tuple[str, str], SesAccount]) -> None:
    """Accounts from a snapshot (None: `local reset`, no account state at all)."""
    with _accounts_lock:
        _accounts.clear()
        _accounts.update(accounts)


# -- The operator's side (stdlib only: the CLI imports it) ------------------------------

def verify(endpoint: str, identity: str, *, region: str = "us-east-1",
           account_id: str = "123456789012", timeout: float = 5.0) -> dict[str, str]:
    """Mark an identity verified on a running emulator (`notifyctl local ses verify`)."""
    from notifyctl.errors import OperationError, UsageError

    url = endpoint.rstrip("/") + "/_notifyctl/ses/verify"
    body = json.dumps({"identity": identity, "region": region,
                       "account": account_id}).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as resp:
            return dict(json.loads(resp.read().decode("utf-8")))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise UsageError(f"{identity}: no such SES identity in {region} (create it first: "
                             "aws sesv2 create-email-identity, or notifyctl bootstrap)") from None
        raise OperationError(f"the emulator at {endpoint} refused: HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise OperationError(f"no emulator answers at {endpoint}: {exc}",
                             hint="start one with `notifyctl local start`") from None
