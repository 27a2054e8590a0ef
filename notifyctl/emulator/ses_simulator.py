"""What happens to an accepted SES message after the send returns: the mailbox simulator,
the account-level suppression list, and the events SES publishes about it.

Per recipient (SES Developer Guide, "Using the mailbox simulator manually", "Using the
account-level suppression list"; a `+label` behaves like its base address):

    recipient                                  events (in this order)      side effects
    -------------------------------------------|---------------------------|------------------
    on the account's suppression list (any     Bounce Permanent/           none (no delivery
      address, checked first)                    OnAccountSuppressionList    attempt, not in
                                                                             the bounce rate)
    success@simulator.amazonses.com            Delivery
    bounce@simulator...                        Bounce Permanent/General    never suppressed
    ooto@simulator...                          Delivery                    (the auto response
                                                                             goes to the sender's
                                                                             mailbox: not an event)
    complaint@simulator...                     Delivery, then Complaint    never suppressed
    suppressionlist@simulator...               Bounce Permanent/Suppressed
                                                 ("as if on the global suppression list")
    an address scripted to bounce              Bounce Permanent/General    added to the account
      (`mailboxes`, the local stand-in for a                                 list when BOUNCE is
      real mailbox that does not exist)                                      a suppressed reason
    an address scripted to complain            Delivery, then Complaint    added when COMPLAINT is
    any other address                          Delivery                    ("delivered" = in the
                                                                             outbox)

Every accepted message first gets one Send event; a message carrying the EICAR test
string is accepted and then Rejected (SES scans for viruses), and a templated message whose
template data lacks an attribute gets a Rendering Failure, with no other event.
AWS documents that simulator addresses are never put on the suppression list and count
neither toward the daily quota nor the reputation metrics (Reputation.BounceRate /
ComplaintRate), and that OnAccountSuppressionList bounces do not count toward the bounce
rate. Bounces of one message with the same subtype are combined into one event ("SES
combines the bounce responses into a single response"); deliveries likewise.

Where events go: the send's configuration set (ConfigurationSetName, else the sending
identity's default configuration set), each enabled SNS event destination whose
MatchingEventTypes include the type; and the sending identity's notification topics
(SetIdentityNotificationTopic; the address identity's, else its domain's) for Bounce,
Complaint and Delivery, with the original headers only when enabled for that type.

Timing: events fire after the send has returned, AWS's delays scaled by the emulator's
clock (EVENT_DELAYS_S, AWS seconds). No moto here: the `Sink` (patches/ses.py) publishes
to SNS through the emulator's own SNS path, keeps the suppression list and the metrics.
"""

from __future__ import annotations

import heapq
import itertools
import json
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from notifyctl.emulator import ses_events
from notifyctl.emulator.clock import Clock
from notifyctl.emulator.ses_account import address_of

SIMULATOR_DOMAIN = "simulator.amazonses.com"
SIMULATOR = {"success": "deliver", "bounce": "bounce", "ooto": "deliver",
             "complaint": "complain", "suppressionlist": "suppressed"}
SCRIPTED = ("deliver", "bounce", "complain")  # what a scripted mailbox may do
# AWS seconds after the accept (scaled by the clock): the order SES produces them in.
EVENT_DELAYS_S = {"SEND": 0.0, "REJECT": 0.5, "ON_LIST": 0.5, "DELIVERY": 1.0,
                  "BOUNCE": 2.0, "COMPLAINT": 3.0}
METRIC_PERIOD_S = 60.0  # AWS seconds between two flushes of the metrics (CloudWatch's minute)
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def bare(address: str) -> str:
    """The address without display name, lower-cased: how SES compares recipients
    (`ses_account.address_of` parses each text once)."""
    return address_of(address).lower()


def simulator_scenario(address: str) -> str | None:
    """The mailbox simulator's scenario for `address` (`bounce+x@...` is `bounce`)."""
    local, _, domain = bare(address).partition("@")
    if domain != SIMULATOR_DOMAIN:
        return None
    return SIMULATOR.get(local.split("+", 1)[0])


def fate(address: str, *, on_account_list: bool, scripted: str | None) -> str:
    """deliver | bounce | complain | suppressed | on_list (see the module table)."""
    if on_account_list:
        return "on_list"
    scenario = simulator_scenario(address)
    if scenario is not None:
        return scenario
    return scripted if scripted in SCRIPTED else "deliver"


@dataclass(frozen=True)
class Routing:
    """Where one message's events go and what they change, read when it was accepted."""

    destinations: tuple[ses_events.EventDestination, ...] = ()
    identity_topics: Mapping[str, str] = field(default_factory=dict)  # BOUNCE -> topic ARN
    identity_headers: frozenset[str] = frozenset()  # types whose notifications carry headers
    suppress_reasons: frozenset[str] = frozenset()  # BOUNCE / COMPLAINT: auto-add to the list
    reputation_set: str | None = None  # the configuration set, when its reputation metrics are on


@dataclass(frozen=True)
class Publication:
    """One SNS message SES publishes."""

    topic_arn: str
    message: str
    subject: str | None
    source_arn: str  # the configuration set's or identity's ARN (the topic policy's SourceArn)


class Sink(Protocol):
    """What the simulator needs of the rest of the emulator (patches/ses.py)."""

    def publish(self, publication: Publication) -> None: ...
    def suppress(self, account_id: str, region: str, address: str, reason: str,
                 message_id: str, feedback_id: str) -> None: ...
    def count(self, account_id: str, region: str, metric: str, n: int, *,
              simulator: bool, config_set: str | None) -> None: ...
    def flush(self) -> None: ...


@dataclass(order=True)
class _Due:
    due: float
    seq: int
    action: Callable[[], None] = field(compare=False)


class SesSimulator:
    """Schedules and fires the events of accepted messages on one thread. Thread-safe."""

    def __init__(self, sink: Sink, clock: Clock,
                 wall: Callable[[], float] = time.time) -> None:
        self._sink = sink
        self._clock = clock
        self._wall = wall
        self._heap: list[_Due] = []
        self._running = 0  # popped, its action not finished yet
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self.stats = {"messages": 0, "published": 0, "failed": 0}
        self._flush_every = max(0.05, clock.scale(METRIC_PERIOD_S))
        self._thread = threading.Thread(target=self._loop, daemon=True, name="ses-events")
        self._thread.start()

    # -- public ----------------------------------------------------------------------
    def accepted(self, mail: ses_events.SentMail, region: str, routing: Routing,
                 fates: Mapping[str, str], *, rejected: bool = False,
                 rendering_failure: Mapping[str, object] | None = None) -> None:
        """Schedule the events of one accepted message (`fates`: recipient -> fate). A
        rejected message (virus scan) or one whose template did not render goes no further."""
        with self._cond:
            self.stats["messages"] += 1
        self._at("SEND", lambda: self._send(mail, region, routing))
        if rejected:
            self._at("REJECT", lambda: self._reject(mail, region, routing))
            return
        if rendering_failure is not None:
            self._at("REJECT", lambda: self._publish("RENDERING_FAILURE", mail, region, routing,
                                                    rendering_failure))
            return
        groups: dict[str, list[str]] = {}
        for recipient, what in fates.items():
            groups.setdefault(what, []).append(recipient)
        if groups.get("on_list"):
            self._at("ON_LIST", lambda: self._bounce(mail, region, routing,
                                                    groups["on_list"], "OnAccountSuppressionList"))
        delivered = groups.get("deliver", []) + groups.get("complain", [])
        if delivered:
            self._at("DELIVERY", lambda: self._delivery(mail, region, routing, delivered))
        if groups.get("bounce"):
            self._at("BOUNCE", lambda: self._bounce(mail, region, routing, groups["bounce"],
                                                   "General"))
        if groups.get("suppressed"):
            self._at("BOUNCE", lambda: self._bounce(mail, region, routing, groups["suppressed"],
                                                   "Suppressed"))
        if groups.get("complain"):
            self._at("COMPLAINT", lambda: self._complaint(mail, region, routing,
                                                         groups["complain"]))

    def idle(self) -> bool:
        """Nothing due and nothing being published (an event popped from the heap is
        not done until its action returned)."""
        with self._cond:
            return not self._heap and not self._running

    def snapshot(self) -> dict[str, int]:
        with self._cond:
            return {**self.stats, "pending": len(self._heap)}

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- scheduling ------------------------------------------------------------------
    def _at(self, step: str, action: Callable[[], None]) -> None:
        due = time.monotonic() + self._clock.scale(EVENT_DELAYS_S[step])
        with self._cond:
            heapq.heappush(self._heap, _Due(due, next(self._seq), action))
            self._cond.notify()

    def _loop(self) -> None:
        next_flush = time.monotonic() + self._flush_every
        while True:
            item = None
            with self._cond:
                while not self._closed:
                    now = time.monotonic()
                    if now >= next_flush or (self._heap and self._heap[0].due <= now):
                        break
                    due = self._heap[0].due if self._heap else next_flush
                    self._cond.wait(min(due, next_flush) - now)
                if self._closed:
                    return
                if self._heap and self._heap[0].due <= time.monotonic():
                    item = heapq.heappop(self._heap)
                    self._running += 1
            if item is None:
                next_flush = time.monotonic() + self._flush_every
                self._guarded(self._sink.flush, "metrics")
            else:
                try:
                    self._guarded(item.action, "event")
                finally:
                    with self._cond:
                        self._running -= 1

    def _guarded(self, action: Callable[[], None], what: str) -> None:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - one bad event must not stop the others
            with self._cond:
                self.stats["failed"] += 1
            print(f"emulator: SES {what} failed: {exc!r}", file=sys.stderr, flush=True)

    # -- the events ------------------------------------------------------------------
    def _send(self, mail: ses_events.SentMail, region: str, routing: Routing) -> None:
        self._count(mail, region, routing, "Send", mail.destination)
        self._publish("SEND", mail, region, routing, {})

    def _reject(self, mail: ses_events.SentMail, region: str, routing: Routing) -> None:
        self._count(mail, region, routing, "Reject", mail.destination[:1])
        self._publish("REJECT", mail, region, routing, ses_events.reject())

    def _delivery(self, mail: ses_events.SentMail, region: str, routing: Routing,
                  recipients: Sequence[str]) -> None:
        now = self._wall()
        self._count(mail, region, routing, "Delivery", recipients)
        detail = ses_events.delivery(recipients, now, max(0, int((now - mail.timestamp) * 1000)))
        self._publish("DELIVERY", mail, region, routing, detail)

    def _bounce(self, mail: ses_events.SentMail, region: str, routing: Routing,
                recipients: Sequence[str], sub_type: str) -> None:
        feedback = ses_events.feedback_id()
        if sub_type != "OnAccountSuppressionList":  # not an attempt: not in the bounce rate
            self._count(mail, region, routing, "Bounce", recipients)
        if "BOUNCE" in routing.suppress_reasons and sub_type == "General":
            for r in recipients:
                if simulator_scenario(r) is None:  # AWS never lists simulator addresses
                    self._sink.suppress(mail.account_id, region, bare(r), "BOUNCE",
                                        mail.message_id, feedback)
        detail = ses_events.bounce(recipients, self._wall(), sub_type, feedback)
        self._publish("BOUNCE", mail, region, routing, detail)

    def _complaint(self, mail: ses_events.SentMail, region: str, routing: Routing,
                   recipients: Sequence[str]) -> None:
        feedback = ses_events.feedback_id()
        self._count(mail, region, routing, "Complaint", recipients)
        if "COMPLAINT" in routing.suppress_reasons:
            for r in recipients:
                if simulator_scenario(r) is None:
                    self._sink.suppress(mail.account_id, region, bare(r), "COMPLAINT",
                                        mail.message_id, feedback)
        now = self._wall()
        self._publish("COMPLAINT", mail, region, routing,
                      ses_events.complaint(recipients, now, mail.timestamp, feedback))

    def _count(self, mail: ses_events.SentMail, region: str, routing: Routing, metric: str,
               recipients: Sequence[str]) -> None:
        """Count per recipient, simulator addresses apart (they stay out of the
        reputation metrics)."""
        simulated = sum(1 for r in recipients if simulator_scenario(r) is not None)
        for n, simulator in ((len(recipients) - simulated, False), (simulated, True)):
            if n:
                self._sink.count(mail.account_id, region, metric, n, simulator=simulator,
                                 config_set=routing.reputation_set)

    def _publish(self, event_type: str, mail: ses_events.SentMail, region: str,
                 routing: Routing, detail: Mapping[str, object]) -> None:
        partition_arn = f"arn:aws:ses:{region}:{mail.account_id}"
        for dest in routing.destinations:
            if dest.wants(event_type) and dest.sns_topic_arn:
                record = ses_events.event_record(event_type, mail, detail)
                self._deliver(Publication(
                    dest.sns_topic_arn, json.dumps(record), ses_events.EVENT_SUBJECT,
                    f"{partition_arn}:configuration-set/{mail.configuration_set}"))
        topic = routing.identity_topics.get(event_type)
        if topic:
            note = ses_events.notification(event_type, mail, detail,
                                           headers=event_type in routing.identity_headers)
            self._deliver(Publication(topic, json.dumps(note), None, mail.source_arn))

    def _deliver(self, publication: Publication) -> None:
        self._sink.publish(publication)
        with self._cond:
            self.stats["published"] += 1


def fates_of(recipients: Sequence[str], *, suppressed: Callable[[str], bool],
             scripted: Mapping[str, str]) -> dict[str, str]:
    """recipient (as given) -> fate, for every recipient of one message."""
    return {r: fate(r, on_account_list=suppressed(r), scripted=scripted.get(bare(r)))
            for r in recipients}


def carries_eicar(parts: Sequence[str | bytes | None]) -> bool:
    """SES's virus scan, as far as the emulator goes: the EICAR test string anywhere."""
    marker = EICAR.encode("ascii")
    return any(p is not None and marker in (p if isinstance(p, bytes) else p.encode("utf-8",
                                                                                    "replace"))
               for p in parts)
