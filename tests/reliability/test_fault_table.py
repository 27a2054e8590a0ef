"""Issue 12's fault table, row by row, end to end on the emulator: emails per event and
each event's final record. Every row ends with one email per event (the worker-kill row:
at most one more, counted as a possible duplicate)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

from reliability_harness import FUNCTION_TIMEOUT_S, Pipeline, wait_until


def cli(pipeline: Pipeline, *args: str) -> tuple[int, str]:
    from notifyctl.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = run([*pipeline.base, *args])
    return code, out.getvalue() + err.getvalue()


def test_ses_answer_lost_once_sends_one_email_and_records_unconfirmed(
    pipeline: Pipeline,
) -> None:
    pipeline.fault("ses", "SendEmail", lost_response=True, count=1)

    books = pipeline.publish(3).books
    statuses = pipeline.wait_final(books)

    assert pipeline.emails_per_book(books) == dict.fromkeys(books, 1)
    assert sorted(statuses.values()) == ["SENT", "SENT", "UNCONFIRMED"]


def test_every_ses_answer_lost_still_one_email_each_and_nothing_queued(
    pipeline: Pipeline,
) -> None:
    pipeline.fault("ses", "SendEmail", lost_response=True)

    books = pipeline.publish(3).books
    statuses = pipeline.wait_final(books)

    assert pipeline.emails_per_book(books) == dict.fromkeys(books, 1)
    assert set(statuses.values()) == {"UNCONFIRMED"}
    assert all(r["attempts"] == 1 for r in pipeline.records(books).values())
    assert not [f for f in pipeline.queued() if f.book_id in books]


def test_lost_publish_batch_answer_resent_by_botocore_sends_one_email_per_event(
    pipeline: Pipeline,
) -> None:
    pipeline.fault("sns", "PublishBatch", lost_response=True, count=1, all_clients=True)

    report = pipeline.publish(10, wait=True)

    assert report.wait is not None and report.wait.sent == 10 and report.ok
    statuses = pipeline.wait_final(report.books)
    assert set(statuses.values()) == {"SENT"}
    assert pipeline.emails_per_book(report.books) == dict.fromkeys(report.books, 1)


def test_sending_paused_goes_to_the_failure_queue_then_redrive_sends_once(
    pipeline: Pipeline,
) -> None:
    pipeline.fault("ses", "SendEmail", error="SendingPausedException")

    books = pipeline.publish(2).books
    def both_queued() -> list[Any] | None:
        queued = [f for f in pipeline.queued() if f.book_id in books]
        return queued if len(queued) == 2 else None

    queued = wait_until(both_queued, what="2 events in the failure queue")

    assert {f.attempts for f in queued} == {3}
    assert pipeline.emails_per_book(books) == dict.fromkeys(books, 0)
    records = pipeline.records(books)
    assert all(r["status"] == "IN_PROGRESS" and r["lease_until"] == 0
               for r in records.values())

    pipeline.clear_faults()  # sending resumes
    code, output = cli(pipeline, "-o", "json", "failures", "redrive", "--yes",
                       *[f.id for f in queued])
    assert code == 0, output
    assert json.loads(output)["redriven"] == 2

    pipeline.wait_final(books)
    assert pipeline.emails_per_book(books) == dict.fromkeys(books, 1)
    assert not [f for f in pipeline.queued() if f.book_id in books]


def test_marking_sent_that_fails_leaves_a_record_no_redelivery_sends_again(
    pipeline: Pipeline,
) -> None:
    pipeline.fault("dynamodb", "UpdateItem", error="InternalServerError")
    books = pipeline.new_books(2)
    event_ids = [f"ev-{b}" for b in books]

    pipeline.publish(2, books=books, event_ids=event_ids)
    statuses = pipeline.wait_final(books)
    assert set(statuses.values()) == {"SENT"}  # written whole by the PutItem fallback

    pipeline.clear_faults()
    before = _invocations(pipeline)
    pipeline.publish(2, books=books, event_ids=event_ids)  # the producer sends them again
    wait_until(lambda: _invocations(pipeline) >= before + 2, what="the redeliveries")

    assert pipeline.emails_per_book(books) == dict.fromkeys(books, 1)


def test_a_worker_killed_between_send_and_mark_is_closed_by_the_ses_events(
    pipeline: Pipeline,
) -> None:
    # SendEmail is held 3 s at SES's door: the worker is killed while it waits, and SES
    # (the emulator) still accepts the email: the crash window between send and mark.
    # SES's events (issue 17) prove the email went out: the feedback function marks the
    # claim SENT (resolved_from IN_PROGRESS) long before the lease ends (timeout + 10 s),
    # so Lambda's retry finds it SENT and does not send a second time.
    pipeline.fault("ses", "SendEmail", latency_ms=3000, count=1)
    books = pipeline.publish(1).books
    pipeline.wait_final(books, final=("IN_PROGRESS",))
    before = _invocations(pipeline)  # the attempt being killed is counted already
    assert pipeline.kill_function_workers() >= 1
    wait_until(lambda: pipeline.emails_per_book(books)[books[0]] == 1, what="the send")

    statuses = pipeline.wait_final(books, timeout=FUNCTION_TIMEOUT_S + 10 + 60)
    record = pipeline.records(books)[books[0]]
    assert statuses[books[0]] == "SENT" and record["resolved_from"] == "IN_PROGRESS"
    # The retry comes after the lease and is skipped as a duplicate.
    wait_until(lambda: _invocations(pipeline) > before, timeout=FUNCTION_TIMEOUT_S + 10 + 60,
               what="Lambda's retry of the crashed attempt")
    assert pipeline.emails_per_book(books)[books[0]] == 1
    assert pipeline.records(books)[books[0]]["attempts"] == 1
    assert _possible_duplicates(pipeline) == 0


def _invocations(pipeline: Pipeline) -> int:
    status = _status(pipeline.endpoint)
    for fn in status.get("functions", []):
        if fn["name"] == pipeline.env.function_name:
            return int(fn.get("invocations", 0))
    return 0


def _status(endpoint: str) -> dict[str, Any]:
    import urllib.request

    with urllib.request.urlopen(endpoint + "/_notifyctl/status", timeout=5) as resp:
        return dict(json.loads(resp.read()))


def _possible_duplicates(pipeline: Pipeline) -> int:
    logs = pipeline.clients.client("logs")
    events = logs.filter_log_events(logGroupName=pipeline.env.log_group_name,
                                    filterPattern="possible_duplicate").get("events", [])
    return sum(1 for e in events if '"outcome": "possible_duplicate"' in e["message"])
