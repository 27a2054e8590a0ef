"""The TTL sweep by expiry index (emulator/ttl.py, patches/dynamodb.py): a sweep that
reads only what is due deletes exactly what a sweep reading every item would, for every
write moto's API makes; a write made some other way waits for the next full sweep."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from notifyctl.emulator import ttl
from notifyctl.emulator.ttl import ExpiryIndex, sweep_backends

NOW = float(int(time.time()))


@pytest.fixture
def ddb(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    from notifyctl.emulator.patches import dynamodb as patch

    # restored by monkeypatch after the test: the hooks live only for this test
    monkeypatch.setattr(Table, "put_item", Table.put_item)
    monkeypatch.setattr(DynamoDBBackend, "update_item", DynamoDBBackend.update_item)
    monkeypatch.setattr(ttl, "EXPIRIES", ExpiryIndex())
    patch.apply()
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    client.update_time_to_live(TableName="t", TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expires_at"})
    yield client


def _put(ddb: Any, pk: str, expires: float | str | None) -> None:
    item: dict[str, Any] = {"pk": {"S": pk}}
    if expires is not None:
        item["expires_at"] = {"S": expires} if isinstance(expires, str) else {"N": str(expires)}
    ddb.put_item(TableName="t", Item=item)


def _keys(ddb: Any) -> list[str]:
    return sorted(i["pk"]["S"] for i in ddb.scan(TableName="t")["Items"])


def _set_expiry(ddb: Any, pk: str, at: float) -> None:
    ddb.update_item(TableName="t", Key={"pk": {"S": pk}}, UpdateExpression="SET expires_at = :e",
                    ExpressionAttributeValues={":e": {"N": str(at)}})


def test_a_due_only_sweep_deletes_what_every_api_write_made_expire(ddb: Any) -> None:
    _put(ddb, "indexed-old", NOW - 10)
    _put(ddb, "indexed-later", NOW + 100)
    assert sweep_backends(NOW, full=False) == 1  # first sweep of the table: reads every item
    assert _keys(ddb) == ["indexed-later"]

    _put(ddb, "put-old", NOW - 5)
    _put(ddb, "put-future", NOW + 3600)
    _put(ddb, "text", "soon")
    _put(ddb, "none", None)
    _put(ddb, "ancient", NOW - ttl.FIVE_YEARS_S - 10)
    ddb.batch_write_item(RequestItems={"t": [
        {"PutRequest": {"Item": {"pk": {"S": "batch-old"}, "expires_at": {"N": str(NOW - 1)}}}}]})
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "t", "Item": {"pk": {"S": "tx-old"},
                                              "expires_at": {"N": str(NOW - 1)}}}},
        {"Update": {"TableName": "t", "Key": {"pk": {"S": "put-future"}},
                    "UpdateExpression": "SET note = :n",
                    "ExpressionAttributeValues": {":n": {"S": "x"}}}}])
    _set_expiry(ddb, "updated-new-old", NOW - 3)  # UpdateItem creating the item
    _put(ddb, "moved-later", NOW - 2)
    _set_expiry(ddb, "moved-later", NOW + 50)  # indexed as expired, then moved: kept
    _set_expiry(ddb, "indexed-later", NOW - 1)  # indexed for later, then moved earlier
    _put(ddb, "rewritten", NOW - 4)
    ddb.delete_item(TableName="t", Key={"pk": {"S": "rewritten"}})
    _put(ddb, "rewritten", NOW + 40)  # a stale entry for its key must not delete it

    assert sweep_backends(NOW, full=False) == 5
    assert _keys(ddb) == ["ancient", "moved-later", "none", "put-future", "rewritten", "text"]
    assert sweep_backends(NOW, full=True) == 0  # nothing the index missed

    assert sweep_backends(NOW + 60, full=False) == 2  # moved-later, rewritten: now due
    assert _keys(ddb) == ["ancient", "none", "put-future", "text"]


def test_a_write_outside_motos_api_waits_for_the_next_full_sweep(ddb: Any) -> None:
    from moto.dynamodb.models import dynamodb_backends

    _put(ddb, "a", NOW + 100)
    assert sweep_backends(NOW, full=False) == 0
    table = dynamodb_backends["123456789012"]["us-east-1"].get_table("t")
    item = next(iter(table.items.values()))
    item.attrs["expires_at"] = type(item.attrs["expires_at"])({"N": str(NOW - 1)})
    assert sweep_backends(NOW, full=False) == 0  # not seen: the index knows only NOW + 100
    assert sweep_backends(NOW, full=True) == 1
    assert _keys(ddb) == []


def test_a_table_whose_ttl_is_disabled_and_enabled_again_is_read_whole(ddb: Any) -> None:
    ddb.update_time_to_live(TableName="t", TimeToLiveSpecification={
        "Enabled": False, "AttributeName": "expires_at"})
    _put(ddb, "old", NOW - 1)
    assert sweep_backends(NOW, full=False) == 0
    ddb.update_time_to_live(TableName="t", TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "gone_at"})
    _put(ddb, "other", NOW + 1)
    ddb.put_item(TableName="t", Item={"pk": {"S": "by-new-name"}, "gone_at": {"N": str(NOW - 1)}})
    assert sweep_backends(NOW, full=False) == 1
    assert _keys(ddb) == ["old", "other"]
