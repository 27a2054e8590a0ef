"""The waiter alone: BatchGetItem by key, UnprocessedKeys, polling, latency percentiles."""

from __future__ import annotations

from typing import Any

import pytest

from notifyctl.publish.report import PublishReport
from notifyctl.publish.waiter import fetch_records, percentile, wait_for_outcomes

pytestmark = pytest.mark.unit

TABLE = "books-dedup"


def item(mid: str, status: str, sent_at_ms: int | None = None,
         reason: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"pk": {"S": mid}, "status": {"S": status}}
    if sent_at_ms is not None:
        out["sent_at"] = {"N": str(sent_at_ms)}
    if reason is not None:
        out["reason"] = {"S": reason}
    return out


class FakeDynamo:
    """batch_get_item over `items`; `script` lets a test change items per poll, and
    `hold_back` answers that many keys as UnprocessedKeys on each first try."""

    def __init__(self, items: dict[str, dict[str, Any]], hold_back: int = 0) -> None:
        self.items = items
        self.hold_back = hold_back
        self.calls: list[int] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        keys = RequestItems[TABLE]["Keys"]
        assert len(keys) <= 100
        assert "#s" in RequestItems[TABLE]["ExpressionAttributeNames"]
        self.calls.append(len(keys))
        held, asked = keys[:self.hold_back], keys[self.hold_back:]
        self.hold_back = 0
        found = [self.items[k["pk"]["S"]] for k in asked if k["pk"]["S"] in self.items]
        out: dict[str, Any] = {"Responses": {TABLE: found}}
        if held:
            out["UnprocessedKeys"] = {TABLE: {**RequestItems[TABLE], "Keys": held}}
        return out


def test_keys_are_read_100_per_call() -> None:
    ids = [f"m{i}" for i in range(250)]
    db = FakeDynamo({mid: item(mid, "SENT", 1) for mid in ids})
    assert len(fetch_records(db, TABLE, ids)) == 250
    assert db.calls == [100, 100, 50]


def test_unprocessed_keys_are_asked_again_with_backoff() -> None:
    ids = [f"m{i}" for i in range(10)]
    db = FakeDynamo({mid: item(mid, "SENT", 1) for mid in ids}, hold_back=4)
    slept: list[float] = []
    records = fetch_records(db, TABLE, ids, sleep=slept.append, rng=lambda: 1.0)
    assert len(records) == 10
    assert db.calls == [10, 4] and len(slept) == 1


def test_waits_until_every_message_is_terminal_and_measures_latency() -> None:
    published = {"a": 1000.0, "b": 1000.0, "c": 1000.5, "d": 1001.0}
    db = FakeDynamo({"a": item("a", "IN_PROGRESS")})
    now = [0.0]
    polls = [0]

    def sleep(seconds: float) -> None:
        now[0] += seconds
        polls[0] += 1
        if polls[0] == 2:  # the function finishes between the 2nd and 3rd poll
            db.items.update({
                "a": item("a", "SENT", 1_000_100),
                "b": item("b", "SENT", 1_000_300),
                "c": item("c", "REJECTED", reason="email: is required"),
                "d": item("d", "FAILED", reason="ses: throttled"),
            })

    result = wait_for_outcomes(db, TABLE, published, timeout_s=30, monotonic=lambda: now[0],
                               sleep=sleep)
    assert (result.sent, result.rejected, result.failed, result.pending) == (1 + 1, 1, 1, 0)
    assert not result.timed_out
    assert sorted(result.latencies_ms) == [100.0, 300.0]
    assert result.reasons == {"email: is required": 1, "ses: throttled": 1}
    assert db.calls[-1] == 4  # only pending ids are polled


def test_a_timeout_reports_in_progress_and_unseen_messages() -> None:
    db = FakeDynamo({"a": item("a", "IN_PROGRESS"), "b": item("b", "SENT", 5)})
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    result = wait_for_outcomes(db, TABLE, {"a": 0.0, "b": 0.0, "c": 0.0}, timeout_s=5,
                               monotonic=lambda: now[0], sleep=sleep)
    assert result.timed_out
    assert (result.sent, result.in_progress, result.unseen, result.pending) == (1, 1, 1, 2)
    assert now[0] == pytest.approx(5.0)  # never sleeps past the deadline


def test_ctrl_c_while_waiting_keeps_what_is_known() -> None:
    db = FakeDynamo({"a": item("a", "SENT", 5), "b": item("b", "IN_PROGRESS")})

    def sleep(seconds: float) -> None:
        raise KeyboardInterrupt

    result = wait_for_outcomes(db, TABLE, {"a": 0.0, "b": 0.0, "c": 0.0}, timeout_s=30,
                               monotonic=lambda: 0.0, sleep=sleep)
    assert result.interrupted and not result.timed_out
    assert (result.sent, result.in_progress, result.unseen) == (1, 1, 1)

    report = PublishReport(topic_arn="arn:aws:sns:us-east-1:1:t", published=3, failed=0,
                           message_ids=["a", "b", "c"], elapsed_s=0.1, wait=result)
    assert report.stopped_by_user and not report.ok
    assert report.to_dict()["wait"]["interrupted"] is True


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile([7.0], 99) == 7.0


def test_report_json_has_counts_and_percentiles() -> None:
    db = FakeDynamo({"a": item("a", "SENT", 1_500), "b": item("b", "SENT", 2_000)})
    wait = wait_for_outcomes(db, TABLE, {"a": 1.0, "b": 1.0}, timeout_s=1,
                             sleep=lambda s: None)
    report = PublishReport("arn", 2, 0, ["a", "b"], 0.5, wait=wait, wait_timeout_s=1)
    data = report.to_dict()
    assert (data["published"], data["failed"], data["message_ids"]) == (2, 0, ["a", "b"])
    assert data["wait"]["sent"] == 2 and data["wait"]["pending"] == 0
    assert data["wait"]["latency_ms"] == {"p50": 500.0, "p95": 1000.0, "p99": 1000.0,
                                          "max": 1000.0}
    assert report.ok


def test_the_endpoint_going_away_mid_wait_keeps_what_is_known() -> None:
    from botocore.exceptions import EndpointConnectionError

    db = FakeDynamo({"a": item("a", "SENT", 5), "b": item("b", "UNCONFIRMED",
                                                         reason="no answer from SES")})
    polls = [0]
    real = db.batch_get_item

    def batch_get_item(RequestItems: dict[str, Any]) -> dict[str, Any]:
        polls[0] += 1
        if polls[0] > 1:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:4566")
        return real(RequestItems)

    db.batch_get_item = batch_get_item  # type: ignore[method-assign]
    result = wait_for_outcomes(db, TABLE, {"a": 0.0, "b": 0.0, "c": 0.0}, timeout_s=30,
                               monotonic=lambda: 0.0, sleep=lambda s: None)

    assert result.error is not None and "127.0.0.1:4566" in result.error
    assert (result.sent, result.failed, result.unseen) == (1, 1, 1)
    assert result.reasons == {"unconfirmed: no answer from SES": 1}
    report = PublishReport(topic_arn="arn:aws:sns:us-east-1:1:t", published=3, failed=0,
                           message_ids=["m-a", "m-b", "m-c"], elapsed_s=0.1, wait=result)
    data = report.to_dict()
    assert not report.ok and not report.stopped_by_user  # exit 1, not 130
    assert data["message_ids"] == ["m-a", "m-b", "m-c"]
    assert data["wait"]["error"] == result.error and data["wait"]["sent"] == 1


# --- --until delivered (issue 17) -------------------------------------------------------

def delivered(mid: str, delivery: str, delivered_at_ms: int | None = None) -> dict[str, Any]:
    out = item(mid, "SENT", 1_000_100)
    out["delivery"] = {"S": delivery}
    if delivered_at_ms is not None:
        out["delivered_at"] = {"N": str(delivered_at_ms)}
    return out


def test_until_delivered_waits_past_sent_for_ses_and_counts_each_state() -> None:
    published = {k: 1000.0 for k in ("a", "b", "c", "d", "e", "f")}
    db = FakeDynamo({"a": item("a", "SENT", 1_000_100), "b": item("b", "FAILED"),
                     "c": delivered("c", "BOUNCED"), "d": delivered("d", "COMPLAINED"),
                     "e": delivered("e", "DELAYED"), "f": item("f", "SENT", 1_000_100)})
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s
        # The SES events arrive: a is delivered 300 ms after publishing.
        db.items["a"] = delivered("a", "DELIVERED", 1_000_300)

    result = wait_for_outcomes(db, TABLE, published, timeout_s=5, sleep=sleep,
                               monotonic=lambda: now[0], until="delivered")

    assert (result.delivered, result.bounced, result.complained) == (1, 1, 1)
    assert result.failed == 1
    # e stays DELAYED and f has no SES word yet: both pending when the time is up.
    assert (result.delayed, result.awaiting_delivery, result.pending) == (1, 2, 2)
    assert result.timed_out
    assert result.latency_percentiles() == {"p50": 300.0, "p95": 300.0, "p99": 300.0,
                                            "max": 300.0}


def test_until_sent_still_stops_at_the_functions_outcome() -> None:
    db = FakeDynamo({"a": item("a", "SENT", 1_000_200)})

    result = wait_for_outcomes(db, TABLE, {"a": 1000.0}, timeout_s=5, sleep=lambda s: None,
                               monotonic=lambda: 0.0)

    assert (result.sent, result.delivered, result.pending) == (1, 0, 0)
    assert result.latency_percentiles() == {"p50": 200.0, "p95": 200.0, "p99": 200.0,
                                            "max": 200.0}


def test_a_report_waiting_until_delivered_is_ok_only_when_all_were_delivered() -> None:
    db = FakeDynamo({"a": delivered("a", "DELIVERED", 1_000_300),
                     "b": delivered("b", "BOUNCED")})
    report = PublishReport("arn:t", 2, 0, ["a", "b"], 1.0)
    report.wait = wait_for_outcomes(db, TABLE, {"a": 1000.0, "b": 1000.0}, timeout_s=5,
                                    sleep=lambda s: None, monotonic=lambda: 0.0,
                                    until="delivered")

    data = report.to_dict()["wait"]

    assert not report.ok
    assert (data["delivered"], data["bounced"], data["until"]) == (1, 1, "delivered")
