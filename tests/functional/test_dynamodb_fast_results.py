"""patches/dynamodb.py `fast_result`: the item operations' answers written as JSON
directly are the answers moto's model-driven serializer writes, body and headers, for
every attribute type and return option; anything else still goes to the serializer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from notifyctl.emulator.patches import dynamodb as patch

ITEM = {"pk": {"S": "a"}, "sk": {"N": "1"}, "s": {"S": "text é"}, "n": {"N": "-1.50"},
        "b": {"B": b"\x00\x01binary"}, "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": [b"one", b"\xfftwo"]}, "null": {"NULL": True}, "t": {"BOOL": True},
        "f": {"BOOL": False}, "l": {"L": [{"S": "in list"}, {"N": "3"}, {"M": {}}]},
        "m": {"M": {"deep": {"M": {"b": {"B": b"nested"}, "l": {"L": []}}}, "e": {"S": ""}}}}


@pytest.fixture
def compared(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every DynamoResult answered both ways; the test reads which operations took
    the direct path."""
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoResult

    fast_ops: list[str] = []

    def both(self: Any, context: Any) -> Any:
        expected = ActionResult.execute_result(self, context)  # moto's serializer
        body = patch.fast_result(context.operation_model, self.result)
        if body is None:
            return expected
        fast_ops.append(context.operation_model.name)
        status, headers, expected_body = expected
        assert (status, headers) == (200, {"Content-Type": patch.JSON_CONTENT_TYPE})
        assert json.loads(body) == json.loads(expected_body), context.operation_model.name
        return status, headers, body

    monkeypatch.setattr(DynamoResult, "execute_result", both, raising=False)
    yield fast_ops


def test_item_operations_answer_as_the_serializer_does(compared: list[str]) -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}])
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    cap: dict[str, Any] = {"ReturnConsumedCapacity": "TOTAL"}
    ddb.put_item(TableName="t", Item=ITEM, **cap)
    assert ddb.put_item(TableName="t", Item=ITEM, ReturnValues="ALL_OLD")["Attributes"]["b"] \
        == {"B": b"\x00\x01binary"}
    for values in ("NONE", "ALL_NEW", "ALL_OLD", "UPDATED_NEW", "UPDATED_OLD"):
        ddb.update_item(TableName="t", Key=key, ReturnValues=values,
                        UpdateExpression="SET m.deep.l = list_append(m.deep.l, :l), c = :c "
                                         "ADD ns :n REMOVE f",
                        ExpressionAttributeValues={":l": {"L": [{"B": b"x"}]}, ":c": {"N": "7"},
                                                   ":n": {"NS": ["9"]}}, **cap)
    got = ddb.get_item(TableName="t", Key=key, ConsistentRead=True, **cap)["Item"]
    assert got["bs"] == {"BS": [b"one", b"\xfftwo"]} and got["m"]["M"]["e"] == {"S": ""}
    ddb.get_item(TableName="t", Key={"pk": {"S": "missing"}, "sk": {"N": "0"}})
    ddb.get_item(TableName="t", Key=key, ProjectionExpression="s, m.deep, l[1]")
    for n in range(2, 6):
        ddb.put_item(TableName="t", Item={**ITEM, "sk": {"N": str(n)}})
    page = ddb.query(TableName="t", KeyConditionExpression="pk = :p", Limit=2,
                     ExpressionAttributeValues={":p": {"S": "a"}}, **cap)
    assert page["LastEvaluatedKey"] and page["Count"] == 2
    ddb.query(TableName="t", KeyConditionExpression="pk = :p", Select="COUNT",
              ExpressionAttributeValues={":p": {"S": "a"}})
    ddb.scan(TableName="t", FilterExpression="sk > :n", ExpressionAttributeValues={":n": {"N": "3"}})
    ddb.batch_get_item(RequestItems={"t": {"Keys": [key, {"pk": {"S": "no"}, "sk": {"N": "1"}}]}},
                       **cap)
    ddb.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {**ITEM, "sk": {"N": "9"}}}},
                                             {"DeleteRequest": {"Key": key}}]})
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": ITEM}}])
    ddb.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": key}}])
    ddb.delete_item(TableName="t", Key=key, ReturnValues="ALL_OLD", **cap)

    assert set(compared) == patch.FAST_RESULTS  # each took the direct path, and agreed


class _Operation:
    def __init__(self, name: str, members: dict[str, Any]) -> None:
        self.name = name
        self.output_shape = type("Shape", (), {"members": members})()


def test_other_answers_go_to_the_serializer() -> None:
    item_op = _Operation("GetItem", {"Item": None, "ConsumedCapacity": None})
    assert patch.fast_result(item_op, {"Item": {"pk": {"S": "a"}}}) is not None
    assert patch.fast_result(item_op, {"Item": None}) == "{}"  # None: left out, as moto does
    assert patch.fast_result(item_op, {"Unmodelled": 1}) is None  # moto would drop it
    assert patch.fast_result(item_op, {"Item": {"when": object()}}) is None
    assert patch.fast_result(_Operation("DescribeTable", {"Table": None}), {"Table": {}}) is None
    assert patch.fast_result(item_op, "not a dict") is None
