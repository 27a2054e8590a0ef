"""DynamoDB TTL on the emulator: expired items are deleted by the sweep (issue 13)."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def sweep_now(endpoint: str) -> int:
    request = urllib.request.Request(endpoint + "/_notifyctl/ttl/sweep", data=b"", method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as resp:
        return int(json.loads(resp.read())["deleted"])


def test_expired_items_are_deleted_by_the_sweep_and_others_kept(emulator: Any) -> None:
    ddb = emulator.client("dynamodb")
    table = emulator.unique("ttl")
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expires_at"})
    now = int(time.time())
    for pk, expires in (("old", now - 60), ("future", now + 3600), ("text", "soon")):
        kind = "S" if isinstance(expires, str) else "N"
        ddb.put_item(TableName=table, Item={"pk": {"S": pk},
                                            "expires_at": {kind: str(expires)}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "no-ttl"}})

    sweep_now(emulator.endpoint)  # the background sweep may have been first: count unknown

    remaining = sorted(i["pk"]["S"] for i in ddb.scan(TableName=table)["Items"])
    assert remaining == ["future", "no-ttl", "text"]


def test_a_table_without_ttl_keeps_expired_looking_items(emulator: Any) -> None:
    ddb = emulator.client("dynamodb")
    table = emulator.unique("nottl")
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    ddb.put_item(TableName=table, Item={"pk": {"S": "x"}, "expires_at": {"N": "1"}})
    sweep_now(emulator.endpoint)
    assert ddb.scan(TableName=table)["Count"] == 1
