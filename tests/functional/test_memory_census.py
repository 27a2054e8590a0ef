"""`GET /_notifyctl/memory` (emulator/memory.py) tells what the user stored from what
moto keeps for itself, and traces only what was allocated after the mark."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import boto3
import pytest

from notifyctl.emulator import memory


def test_census_counts_table_items_as_stored_and_sns_history_as_kept(moto_aws: None) -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(TableName="dedup", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    for key in ("a", "b"):
        ddb.put_item(TableName="dedup", Item={"pk": {"S": key}})
    sns = boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(Name="books")["TopicArn"]
    for n in range(3):
        sns.publish(TopicArn=topic, Message=f"m{n}")

    census = memory.census()

    assert census["stored"]["dynamodb_items"] == 2
    assert census["kept"]["sns_sent_notifications"] == 3  # moto's own history (no patch here)


@pytest.fixture
def not_tracing() -> Iterator[None]:
    was = tracemalloc.is_tracing()
    if was:
        pytest.skip("the test process already traces allocations")
    yield
    tracemalloc.stop()
    memory._mark = None


def test_mark_starts_tracing_then_reports_growth_since_a_second_mark(not_tracing: None) -> None:
    assert memory.mark(frames=3) == "started"
    held = [bytearray(4096) for _ in range(64)]  # 256 KB allocated after the mark
    first = memory.growth(top=5)
    assert first["tracing"] and not first["since_mark"]
    assert sum(row["size_kb"] for row in first["top"]) >= 256

    assert memory.mark() == "snapshot"
    second = memory.growth(top=5)
    assert second["since_mark"]
    assert all(row["size_kb"] < 256 for row in second["top"])  # nothing that large since
    assert len(held) == 64


def test_growth_without_tracing_says_so(not_tracing: None) -> None:
    tracemalloc.start()
    tracemalloc.stop()

    assert memory.growth(top=5) == {"tracing": False}


@pytest.fixture
def sns_patched(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's SNS patch applied to moto for this test only (restored after)."""
    from notifyctl.emulator.patches import sns as patch

    for cls, name in patch.targets():
        monkeypatch.setattr(cls, name, getattr(cls, name))
    patch.apply()


def test_a_topic_keeps_a_bounded_history_of_what_it_published(sns_patched: None) -> None:
    from notifyctl.emulator.recent import KEPT

    sns = boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(Name="books")["TopicArn"]
    for n in range(5 * KEPT):
        sns.publish(TopicArn=topic, Message=f"m{n}")

    assert memory.census()["kept"]["sns_sent_notifications"] <= 2 * KEPT
    # what AWS lets you read back about the topic is unchanged
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["TopicArn"] == topic


def test_stored_size_grows_with_what_was_stored(moto_aws: None) -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(TableName="dedup", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    for key in range(300):
        ddb.put_item(TableName="dedup", Item={"pk": {"S": f"k{key}"}, "body": {"S": "x" * 2000}})
    first = memory.stored_mb(sample=50)["dynamodb_items"]
    for key in range(300, 900):
        ddb.put_item(TableName="dedup", Item={"pk": {"S": f"k{key}"}, "body": {"S": "x" * 2000}})
    later = memory.stored_mb(sample=50)["dynamodb_items"]

    assert 0.55 < first < 1.5  # 300 items of ~2 KB, with moto's objects around them
    assert later == pytest.approx(3 * first, rel=0.1)
