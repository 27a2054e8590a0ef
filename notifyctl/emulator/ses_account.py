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

import functools
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
from typing import Any

from notifyctl.emulator import clock


@functools.lru_cache(maxsize=4096)
def address_of(text: str) -> str:
    """The address in `text` without its display name, as `email.utils.parseaddr` finds
    it. Kept per text: a message's addresses are parsed a dozen times between its send
    and its events (parseaddr was 3 % of the emulator's CPU under the pipeline)."""
    return parseaddr(text)[1]

ENV_SANDBOX = "NOTIFYCTL_EMULATOR_SES_SANDBOX"
ENV_AUTO_VERIFY = "NOTIFYCTL_EMULATOR_SES_AUTO_VERIFY"
ENV_QUOTA = "NOTIFYCTL_EMULATOR_SES_QUOTA"  # production "MAX24H/RATE", e.g. 50000/14
SIMULATOR_DOMAIN = "simulator.amazonses.com"
DAY_S = 24 * 3600.0
SUPPRESSION_REASONS = ("BOUNCE", "COMPLAINT")
MAILBOX_BEHAVIOURS = ("bounce", "complain", "deliver")  # scripted recipients (mailbox_request)
DEFAULT_ACCOUNT, DEFAULT_REGION = "123456789012", "us-east-1"


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
class SendDataPoint:
    """One 15-minute interval of GetSendStatistics."""

    start: float  # real epoch seconds
    delivery_attempts: int
    bounces: int
    complaints: int
    rejects: int


STATS_INTERVAL_S = 15 * 60.0  # GetSendStatistics: "each data point ... a 15-minute interval"
STATS_KEPT_S = 14 * DAY_S  # "the last two weeks of sending activity"
# What each counted event adds to: (data point field, reputation counter or None).
_COUNTED = {"Send": ("delivery_attempts", "attempts"), "Bounce": ("bounces", "bounces"),
            "Complaint": ("complaints", "complaints"), "Reject": ("rejects", None),
            "Delivery": (None, None)}


@dataclass
class SendingStats:
    """Counts in 15-minute buckets over two weeks (both scaled by the time scale), so
    memory is bounded by the window, never by the number of messages.

    Two views: GetSendStatistics counts every message; the reputation counters leave out
    what AWS leaves out of Reputation.BounceRate / ComplaintRate (the mailbox simulator).
    """

    time_scale: float = 1.0
    clock: Callable[[], float] = time.time
    _buckets: deque[dict[str, float]] = field(default_factory=deque)

    def record(self, metric: str, n: int, *, reputation: bool) -> None:
        point, rep = _COUNTED.get(metric, (None, None))
        if n <= 0 or (point is None and rep is None):
            return
        bucket = self._bucket()
        if point is not None:
            bucket[point] += n
        if rep is not None and reputation:
            bucket["rep_" + rep] += n

    def _bucket(self) -> dict[str, float]:
        now = self.clock()
        width = STATS_INTERVAL_S * self.time_scale
        start = now - (now % width) if width > 0 else now
        while self._buckets and self._buckets[0]["start"] <= now - STATS_KEPT_S * self.time_scale:
            self._buckets.popleft()
        if not self._buckets or self._buckets[-1]["start"] != start:
            self._buckets.append({"start": start, "delivery_attempts": 0, "bounces": 0,
                                  "complaints": 0, "rejects": 0, "rep_attempts": 0,
                                  "rep_bounces": 0, "rep_complaints": 0})
        return self._buckets[-1]

    def points(self) -> list[SendDataPoint]:
        self._bucket()  # drops what left the window
        return [SendDataPoint(b["start"], int(b["delivery_attempts"]), int(b["bounces"]),
                              int(b["complaints"]), int(b["rejects"]))
                for b in self._buckets
                if b["delivery_attempts"] or b["bounces"] or b["complaints"] or b["rejects"]]

    def rates(self) -> tuple[float, float]:
        """(bounce rate, complaint rate) over the window, 0.0 before any counted send."""
        self._bucket()
        attempts = sum(b["rep_attempts"] for b in self._buckets)
        if not attempts:
            return 0.0, 0.0
        return (sum(b["rep_bounces"] for b in self._buckets) / attempts,
                sum(b["rep_complaints"] for b in self._buckets) / attempts)


@dataclass(frozen=True)
class Suppressed:
    address: str
    reason: str  # BOUNCE | COMPLAINT
    last_update: float
    message_id: str = ""
    feedback_id: str = ""


def is_simulator(address: str) -> bool:
    """The mailbox simulator: always a permitted recipient, also with a +label."""
    return address_of(address).lower().endswith("@" + SIMULATOR_DOMAIN)


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
    # Scripted mailboxes (`mailboxes` on the emulator): address -> bounce | complain | deliver,
    # the local stand-in for a real mailbox that does not exist or whose owner complains.
    mailboxes: dict[str, str] = field(default_factory=dict)
    stats: SendingStats | None = None
    config_set_stats: dict[str, SendingStats] = field(default_factory=dict)
    _sends: deque[tuple[float, int, int]] = field(default_factory=deque)  # (t, all, quota)
    _day_total: int = 0  # sum of _sends' quota counts
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def limits(self) -> Limits:
        return SANDBOX if self.sandbox else self.production

    def sent_last_24h(self) -> int:
        with self._lock:
            return self._count(DAY_S * self.time_scale, quota=True)

    def _count(self, window_s: float, *, quota: bool) -> int:
        """Recipients sent to in the last window_s (at most a day): all of them for the
        rate; for the daily quota without the mailbox simulator's (AWS: simulator mail is
        "limited by your account's maximum sending rate, but [does not] affect your daily
        sending quota"). The day's quota is a running total; shorter windows are counted
        from the right (summing the whole day on every send made sending slower as the
        day filled)."""
        now = self.clock()
        while self._sends and self._sends[0][0] <= now - DAY_S * self.time_scale:
            self._day_total -= self._sends.popleft()[2]
        if quota and window_s >= DAY_S * self.time_scale:
            return self._day_total
        count = 0
        for t, n, q in reversed(self._sends):
            if t <= now - window_s:
                break
            count += q if quota else n
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
        counted = sum(1 for r in recipients if not is_simulator(r))
        with self._lock:
            if self._count(1.0 * self.time_scale, quota=False) + n > self.limits.max_rate:
                raise SesRefused("rate", "Maximum sending rate exceeded.")
            if self._count(DAY_S * self.time_scale, quota=True) + counted > self.limits.max_24h:
                raise SesRefused("quota", "Daily message quota exceeded.")
            self._sends.append((self.clock(), n, counted))
            self._day_total += counted

    def deliverable(self, recipients: Iterable[str]) -> list[str]:
        """The recipients not on the account's suppression list."""
        return [r for r in recipients if address_of(r).lower() not in self.suppressed]

    # -- sending statistics -----------------------------------------------------------
    def _stats(self, config_set: str | None = None) -> SendingStats:
        if config_set is not None:
            found = self.config_set_stats.get(config_set)
            if found is None:
                found = self.config_set_stats[config_set] = SendingStats(self.time_scale,
                                                                         self.clock)
            return found
        if self.stats is None:
            self.stats = SendingStats(self.time_scale, self.clock)
        return self.stats

    def record(self, metric: str, n: int, *, simulator: bool,
               config_set: str | None = None) -> None:
        """Count an event (Send / Delivery / Bounce / Complaint / Reject) of `n` recipients
        in the account's statistics and, when given, the configuration set's."""
        with self._lock:
            self._stats().record(metric, n, reputation=not simulator)
            if config_set is not None:
                self._stats(config_set).record(metric, n, reputation=not simulator)

    def send_statistics(self) -> list[SendDataPoint]:
        with self._lock:
            return self._stats().points()

    def reputation(self, config_set: str | None = None) -> tuple[float, float]:
        """(bounce rate, complaint rate): the account's, or a configuration set's."""
        with self._lock:
            return self._stats(config_set).rates()

    # -- the suppression list ---------------------------------------------------------
    def put_suppressed(self, address: str, reason: str) -> None:
        if self.sandbox:
            raise SuppressionDisabled("Suppression list management is disabled while the "
                                      "account is in the sandbox.")
        key = address_of(address).lower()
        self.suppressed[key] = Suppressed(key, reason, self.clock())

    def delete_suppressed(self, address: str) -> bool:
        if self.sandbox:
            raise SuppressionDisabled("Suppression list management is disabled while the "
                                      "account is in the sandbox.")
        return self.suppressed.pop(address_of(address).lower(), None) is not None

    def auto_suppress(self, address: str, reason: str, message_id: str,
                      feedback_id: str) -> None:
        """SES adding an address after a hard bounce or complaint (also in the sandbox,
        where only managing the list by hand is disabled)."""
        key = address_of(address).lower()
        self.suppressed[key] = Suppressed(key, reason, self.clock(), message_id, feedback_id)

    def get_suppressed(self, address: str) -> Suppressed | None:
        return self.suppressed.get(address_of(address).lower())

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


def mailbox_request(method: str, doc: Any) -> tuple[str, Any]:
    """`/_notifyctl/ses/mailboxes`: GET lists the scripted recipients of an account and
    region; POST {"address", "behaviour": bounce | complain | deliver, "account"?,
    "region"?} scripts one ("deliver" forgets it: an ordinary mailbox again)."""
    doc = doc if isinstance(doc, dict) else None
    if doc is None:
        return "400 Bad Request", {"message": "expected a JSON object"}
    found = account(str(doc.get("account") or DEFAULT_ACCOUNT),
                    str(doc.get("region") or DEFAULT_REGION))
    if method == "GET":
        return "200 OK", {"mailboxes": dict(sorted(found.mailboxes.items()))}
    if method != "POST":
        return "405 Method Not Allowed", {"message": "GET or POST"}
    address = address_of(str(doc.get("address") or "")).lower()
    behaviour = str(doc.get("behaviour") or "")
    if "@" not in address or behaviour not in MAILBOX_BEHAVIOURS:
        return "400 Bad Request", {"message": "expected {\"address\": ..., \"behaviour\": "
                                              + " | ".join(MAILBOX_BEHAVIOURS) + "}"}
    if behaviour == "deliver":
        found.mailboxes.pop(address, None)
    else:
        found.mailboxes[address] = behaviour
    return "200 OK", {"address": address, "behaviour": behaviour}


# -- The operator's side (stdlib only: the CLI imports it) ------------------------------

def script_mailbox(endpoint: str, address: str, behaviour: str, *, region: str = DEFAULT_REGION,
                   account_id: str = DEFAULT_ACCOUNT, timeout: float = 5.0) -> dict[str, str]:
    """Make `address` bounce or complain on a running emulator, as a real mailbox that does
    not exist (or whose owner marks mail as spam) would; "deliver" undoes it."""
    return _post(endpoint, "/_notifyctl/ses/mailboxes",
                 {"address": address, "behaviour": behaviour, "region": region,
                  "account": account_id}, timeout,
                 refused=(400, f"{address} {behaviour}: expected an address and one of "
                               f"{', '.join(MAILBOX_BEHAVIOURS)}"))


def verify(endpoint: str, identity: str, *, region: str = "us-east-1",
           account_id: str = "123456789012", timeout: float = 5.0) -> dict[str, str]:
    """Mark an identity verified on a running emulator (`notifyctl local ses verify`)."""
    return _post(endpoint, "/_notifyctl/ses/verify",
                 {"identity": identity, "region": region, "account": account_id}, timeout,
                 refused=(404, f"{identity}: no such SES identity in {region} (create it "
                               "first: aws sesv2 create-email-identity, or notifyctl bootstrap)"))


def _post(endpoint: str, path: str, payload: dict[str, str], timeout: float, *,
          refused: tuple[int, str]) -> dict[str, str]:
    """POST to the emulator's control API; `refused` = (the HTTP status that means the
    user's input was wrong, what to tell them)."""
    from notifyctl.errors import OperationError, UsageError

    request = urllib.request.Request(endpoint.rstrip("/") + path,
                                     data=json.dumps(payload).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as resp:
            return dict(json.loads(resp.read().decode("utf-8")))
    except urllib.error.HTTPError as exc:
        if exc.code == refused[0]:
            raise UsageError(refused[1]) from None
        raise OperationError(f"the emulator at {endpoint} refused: HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise OperationError(f"no emulator answers at {endpoint}: {exc}",
                             hint="start one with `notifyctl local start`") from None
