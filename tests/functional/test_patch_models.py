"""patches/models.py: moto no longer keeps every model object it ever made (its class
registry), except S3's keys and parts, which S3's reset still disposes."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from notifyctl.emulator.patches import models


@pytest.fixture
def registry_patch() -> Iterator[None]:
    from moto.core.common_models import BaseModel

    original = BaseModel.__dict__["__new__"]
    models.apply()
    yield
    type.__setattr__(BaseModel, "__new__", original)


def _dedup_table() -> object:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(TableName="dedup", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    ddb.put_item(TableName="dedup", Item={"pk": {"S": "k"}, "status": {"S": "IN_PROGRESS"}})
    return ddb


def _update_many(ddb: object, times: int) -> None:
    for n in range(times):
        ddb.update_item(TableName="dedup", Key={"pk": {"S": "k"}},  # type: ignore[attr-defined]
                        UpdateExpression="SET attempts = :n, delivery = :d",
                        ExpressionAttributeValues={":n": {"N": str(n)},
                                                   ":d": {"M": {"state": {"S": "DELIVERED"}}}})


def test_without_the_patch_moto_keeps_two_copies_of_the_item_per_update(moto_aws: None) -> None:
    from moto.dynamodb.models.dynamo_type import Item

    ddb = _dedup_table()
    before = len(Item.instances_tracked)  # type: ignore[attr-defined]
    _update_many(ddb, 50)
    assert len(Item.instances_tracked) - before >= 100  # type: ignore[attr-defined]


def test_updates_leave_no_item_copies_behind(moto_aws: None, registry_patch: None) -> None:
    from moto.dynamodb.models.dynamo_type import Item

    ddb = _dedup_table()
    _update_many(ddb, 50)

    assert Item.instances_tracked == []  # type: ignore[attr-defined]
    item = ddb.get_item(TableName="dedup", Key={"pk": {"S": "k"}})["Item"]  # type: ignore[attr-defined]
    assert item["attempts"] == {"N": "49"} and item["status"] == {"S": "IN_PROGRESS"}
    assert models.registry_size() == 0


def test_s3_keys_are_still_tracked_for_s3_reset(moto_aws: None, registry_patch: None) -> None:
    from moto.s3.models import FakeKey

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="notifyctl-test")
    before = len(FakeKey.instances_tracked)  # type: ignore[attr-defined]
    s3.put_object(Bucket="notifyctl-test", Key="k", Body=b"x")
    assert len(FakeKey.instances_tracked) > before  # type: ignore[attr-defined]
