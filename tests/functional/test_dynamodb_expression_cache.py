"""The expression cache (emulator/expression_cache.py, patches/dynamodb.py) changes
nothing moto answers: a corpus of requests — the notifier's and the feedback function's
real ones (through `book_notifier.dedup.DedupStore`), edge cases and invalid ones — gives
the same responses, errors and items with moto as shipped, with the patch (every text
parsed afresh) and with the patch again (every text from the cache)."""

from __future__ import annotations

import contextlib
import copy
import pickle
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from book_notifier.dedup import AlreadyProcessed, ClaimHeld, ClaimInfo, DedupStore, DeliveryUpdate
from notifyctl.emulator import expression_cache
from notifyctl.emulator.expression_cache import ByText, UpdateTrees


def _own_or_inherited(obj: Any, name: str) -> Any:
    """What moto's class answers for `name`; setting it back is moto as shipped (for an
    inherited method such as DynamoResult.execute_result, the base class's function)."""
    return obj.__dict__[name] if name in obj.__dict__ else getattr(obj, name)


@pytest.fixture
def toggle(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], None]]:
    """toggle(True) applies the real patch, toggle(False) puts moto back as shipped;
    monkeypatch restores everything after the test."""
    from notifyctl.emulator.patches import dynamodb as patch

    shipped = [(obj, name, _own_or_inherited(obj, name)) for obj, name in patch.targets()]
    for obj, name, value in shipped:
        monkeypatch.setattr(obj, name, value)
    monkeypatch.setattr(expression_cache, "UPDATES", UpdateTrees())
    monkeypatch.setattr(expression_cache, "CONDITIONS", ByText())

    def set_patched(on: bool) -> None:
        for obj, name, value in shipped:
            setattr(obj, name, value)
        if on:
            patch.apply()

    yield set_patched


class Recorder:
    """A DynamoDB client that records each call's outcome (response or error)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.transcript: list[Any] = []

    def call(self, op: str, **kwargs: Any) -> Any:
        try:
            response = getattr(self.client, op)(**kwargs)
        except ClientError as exc:
            error = exc.response["Error"]
            self.transcript.append((op, "error", error.get("Code"), error.get("Message"),
                                    exc.response.get("Item")))
            raise
        except Exception as exc:  # moto's own crash (mock_aws re-raises it): same one?
            self.transcript.append((op, "raised", type(exc).__name__, str(exc)))
            raise
        response.pop("ResponseMetadata", None)
        self.transcript.append((op, "ok", response))
        return response

    def __getattr__(self, op: str) -> Callable[..., Any]:
        return lambda **kwargs: self.call(op, **kwargs)


CLOCK = [1_790_000_000.0]


def _table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])


def _real_flow(recorder: Recorder, table: str) -> None:
    """What the notifier and the feedback function do, including their refused writes."""
    tokens = iter(f"token-{i}" for i in range(100))
    store = DedupStore(table, recorder, clock=lambda: CLOCK[0], sleep=lambda s: None,
                       final_write_backoff=(), token=lambda: next(tokens))
    info = ClaimInfo(message_id="m-1", request_id="r-1", event_id="e-1", book_id="b-1",
                     recipient="j***@example.com", published_at="2026-11-29T00:00:00.000Z")
    claim = store.claim("event:e-1", lease_s=30, info=info)
    with pytest.raises(ClaimHeld):
        store.claim("event:e-1", lease_s=30, info=info)  # the lease is live: refused
    store.mark_sent(claim, "ses-1")
    with pytest.raises(AlreadyProcessed, match="SENT"):
        store.claim("event:e-1", lease_s=30, info=info)  # already processed
    store.record_delivery("event:e-1", DeliveryUpdate(None, "ses-1", 1_000, "SENT"))
    store.record_delivery("event:e-1", DeliveryUpdate(
        "BOUNCED", "ses-1", 3_000, None,
        {"bounce_type": "Permanent", "bounce_subtype": "General", "diagnostic": "550 no"}))
    store.record_delivery("event:e-1", DeliveryUpdate("DELIVERED", "ses-1", 2_000, "SENT"))
    store.record_delivery("event:missing", DeliveryUpdate("DELIVERED", "ses-9", 2_000, "SENT"))
    # a crashed attempt retaken after its lease; then UNCONFIRMED, resolved by an event
    crashed = store.claim("event:e-2", lease_s=30, info=info)
    CLOCK[0] += 60
    retaken = store.claim("event:e-2", lease_s=30, info=info)
    store.mark_unconfirmed(crashed, "not mine any more")  # fenced: refused, swallowed
    store.mark_unconfirmed(retaken, "SES timed out")
    store.record_delivery("event:e-2", DeliveryUpdate("DELIVERED", "ses-2", 4_000, "SENT"))
    failed = store.claim("event:e-3", lease_s=30, info=info)
    store.mark_failed(failed, "address refused")
    store.reject("event:e-4", reason="not JSON", message_size=12, preview="{oops",
                 info=info)


OK = {"S": "ok"}


def _corpus(table: str) -> list[tuple[str, dict[str, Any]]]:
    """Requests beyond the real flow: every expression feature the notifier could use,
    and invalid requests whose errors must not change."""
    key = {"pk": {"S": "k"}}
    upd = lambda expr, values=None, names=None, **more: ("update_item", {  # noqa: E731
        "TableName": table, "Key": key, "UpdateExpression": expr,
        **({"ExpressionAttributeValues": values} if values else {}),
        **({"ExpressionAttributeNames": names} if names else {}), **more})
    put = lambda cond, values=None, names=None, **more: ("put_item", {  # noqa: E731
        "TableName": table, "Item": {"pk": {"S": "k"}, "n": {"N": "1"}, "s": {"S": "x"}},
        "ConditionExpression": cond,
        **({"ExpressionAttributeValues": values} if values else {}),
        **({"ExpressionAttributeNames": names} if names else {}), **more})
    return [
        put("attribute_not_exists(pk)", ReturnValues="ALL_OLD"),
        put("attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        put("n = :one AND s = :x", {":one": {"N": "1"}, ":x": {"S": "x"}}, ReturnValues="ALL_OLD"),
        upd("SET a = :v, b = :w, m = :m, l = :l, ss = :ss",
            {":v": OK, ":w": {"N": "5"}, ":m": {"M": {"inner": OK}},
             ":l": {"L": [OK]}, ":ss": {"SS": ["a", "b"]}}, ReturnValues="ALL_NEW"),
        upd("SET  a=:v ,b= b + :one", {":v": {"S": "spaces"}, ":one": {"N": "1"}},
            ReturnValues="UPDATED_OLD"),
        upd("SET l = list_append(if_not_exists(l, :empty), :more)",
            {":empty": {"L": []}, ":more": {"L": [{"S": "added"}]}}, ReturnValues="UPDATED_NEW"),
        upd("SET l = list_append(if_not_exists(l, :empty), :more)",
            {":empty": {"L": []}, ":more": {"L": [{"S": "added"}]}}, ReturnValues="UPDATED_NEW"),
        upd("SET m.inner = :v, l[0] = :w", {":v": {"S": "deep"}, ":w": {"S": "first"}},
            ReturnValues="ALL_OLD"),
        upd("ADD counter :one, ss :more", {":one": {"N": "1"}, ":more": {"SS": ["c"]}}),
        upd("ADD counter :one, ss :more", {":one": {"N": "1"}, ":more": {"SS": ["c"]}}),
        upd("DELETE ss :gone", {":gone": {"SS": ["a"]}}, ReturnValues="ALL_NEW"),
        upd("REMOVE b, m.inner", ReturnValues="ALL_NEW"),
        upd("SET #a = :v", {":v": {"S": "named"}}, {"#a": "a"},
            ConditionExpression="size(l) > :zero AND begins_with(#a, :sp)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        upd("SET #a = :v", {":v": {"S": "named"}, ":zero": {"N": "0"}, ":sp": {"S": "sp"}},
            {"#a": "a"}, ConditionExpression="size(l) > :zero AND begins_with(#a, :sp)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        upd("SET a = :v", {":v": OK, ":lo": {"N": "0"}, ":hi": {"N": "9"}, ":x": OK, ":y": OK},
            ConditionExpression="counter BETWEEN :lo AND :hi AND a IN (:x, :y)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        upd("SET a = :v", {":v": OK},
            ConditionExpression="NOT attribute_exists(nope) AND (attribute_type(a, :t))",
            ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        upd("SET a = :v", {":v": OK, ":t": {"S": "S"}},
            ConditionExpression="NOT attribute_exists(nope) AND (attribute_type(a, :t))"),
        upd("SET a = :v", {":v": OK, ":t": {"S": "S"}},
            ConditionExpression="attribute_exists(nope) OR contains(ss, :t)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        # the same text passing moto's tree checks with some inputs, failing with others
        upd("SET #x = :v, a = :w", {":v": OK, ":w": OK}, {"#x": "b"}),
        upd("SET #x = :v, a = :w", {":v": OK, ":w": OK}, {"#x": "a"}),
        upd("SET #k = :v", {":v": OK}, {"#k": "other"}),
        upd("SET #k = :v", {":v": OK}, {"#k": "pk"}),
        upd("SET sk = :v", {":v": OK}),
        ("update_item", {"TableName": f"{table}-range", "Key": {"pk": OK, "sk": OK},
                         "UpdateExpression": "SET sk = :v",
                         "ExpressionAttributeValues": {":v": {"S": "moved"}}}),
        ("update_item", {"TableName": f"{table}-range", "Key": {"pk": OK, "sk": OK},
                         "UpdateExpression": "SET #k = :v", "ExpressionAttributeNames": {
                             "#k": "other"}, "ExpressionAttributeValues": {":v": OK}}),
        # invalid: each error (code and message) must stay moto's
        upd("SET a = :v, a = :w", {":v": OK, ":w": OK}),
        upd("SET a = :v SET b = :w", {":v": OK, ":w": OK}),
        upd("REMOVE", {}),
        upd("SET a = ", {":v": OK}),
        upd("SET a = :v", {":v": OK, ":unused": OK}),
        upd("SET a = :missing", {":v": OK}),
        upd("SET #missing = :v", {":v": OK}),
        upd("SET status = :v", {":v": OK}),
        upd("SET pk = :v", {":v": {"S": "other"}}),
        upd("SET a = b + :one", {":one": {"N": "1"}}),
        upd("ADD a :one", {":one": {"N": "1"}}),
        upd("SET a = :v", {":v": OK}, ConditionExpression="a = = :v"),
        upd("SET a = :v", {":v": OK}, ConditionExpression="attribute_exists("),
        upd("SET a = :v", {":v": OK}, ConditionExpression="a ~ :v"),
        upd("SET a = :v", {":v": OK}, ConditionExpression="status = :v"),
        upd("SET a = :v", {":v": OK}, ConditionExpression="#nope = :v"),
        upd("SET a = :v", {":v": OK}, ConditionExpression="a = :nope"),
        upd("SET a = :v", {":v": OK}, ConditionExpression="((a = :v))"),
        upd("SET a = :v", {":v": OK}, ReturnValues="EVERYTHING"),
        upd("   ", {":v": OK}),
        put("attribute_not_exists(pk)"),
        put("n = :two", {":two": {"N": "2"}}, ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        put("s = :x AND", {":x": OK}),
        put("#status = :s", {":s": OK}),
        ("query", {"TableName": table, "KeyConditionExpression": "pk = :k",
                   "FilterExpression": "attribute_exists(a) AND counter > :z",
                   "ExpressionAttributeValues": {":k": {"S": "k"}, ":z": {"N": "0"}}}),
        ("scan", {"TableName": table, "FilterExpression": "begins_with(a, :p)",
                  "ExpressionAttributeValues": {":p": {"S": "n"}}}),
        ("delete_item", {"TableName": table, "Key": {"pk": {"S": "event:e-4"}},
                         "ConditionExpression": "#s = :r",
                         "ExpressionAttributeNames": {"#s": "status"},
                         "ExpressionAttributeValues": {":r": {"S": "SENT"}},
                         "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
        ("transact_write_items", {"TransactItems": [
            {"Update": {"TableName": table, "Key": key, "UpdateExpression": "SET t = :t",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":t": {"S": "tx"}}}},
            {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "event:e-1"}},
                                "ConditionExpression": "attribute_exists(pk)"}}]}),
        ("transact_write_items", {"TransactItems": [
            {"Update": {"TableName": table, "Key": key, "UpdateExpression": "SET t = :t",
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ExpressionAttributeValues": {":t": {"S": "tx2"}}}}]}),
    ]


def _run(table: str) -> list[Any]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    _table(client, table)
    client.create_table(
        TableName=f"{table}-range", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}])
    recorder = Recorder(client)
    CLOCK[0] = 1_790_000_000.0
    _real_flow(recorder, table)
    for op, kwargs in _corpus(table):
        with contextlib.suppress(Exception):  # recorded: compared below
            recorder.call(op, **kwargs)
    items = sorted(client.scan(TableName=table)["Items"], key=lambda i: i["pk"]["S"])
    items += client.scan(TableName=f"{table}-range")["Items"]
    client.delete_table(TableName=table)
    client.delete_table(TableName=f"{table}-range")
    return [_scrub(recorder.transcript), items]


def _scrub(value: Any) -> Any:
    """The table's name differs per run; nothing else may."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    return value.replace("t-shipped", "T").replace("t-patched", "T") \
        if isinstance(value, str) else value


def test_the_corpus_answers_the_same_with_and_without_the_cache(
        toggle: Callable[[bool], None]) -> None:
    toggle(False)
    shipped = _run("t-shipped")
    toggle(True)
    parsed = _run("t-patched")
    cached = _run("t-patched")
    assert expression_cache.UPDATES.hits > 0 and expression_cache.CONDITIONS.hits > 0
    assert parsed == shipped
    assert cached == shipped
    errors = [entry for entry in shipped[0] if entry[1] != "ok"]
    assert len(errors) >= 25  # the invalid requests did reach moto's checks
    # the shared trees are exactly as parsed: nothing changed them in place
    for text, parsed_update in expression_cache.UPDATES._entries.items():
        assert pickle.dumps(parsed_update.tree, pickle.HIGHEST_PROTOCOL) == \
            parsed_update.pickled, text


def _shape(node: Any) -> Any:
    """A node tree as nested (type, attributes), parents as their type and position in
    the copy (a parent outside the tree would show up as a difference)."""
    index: dict[int, int] = {}

    def walk(value: Any) -> Any:
        if hasattr(value, "__dict__"):
            index.setdefault(id(value), len(index))
            return (type(value).__name__, tuple(
                (k, ("parent", index.get(id(v), "outside")) if k == "parent" and v is not None
                 else walk(v)) for k, v in sorted(vars(value).items())))
        if isinstance(value, list | tuple):
            return type(value).__name__, tuple(walk(v) for v in value)
        return value

    return walk(node)


def test_the_caches_are_bounded_and_keep_no_errors() -> None:
    cache: ByText[str] = ByText(limit=3)
    for text in ("a", "b", "c"):
        assert cache.get(text, text.upper) == text.upper()
    assert cache.get("a", lambda: "never called") == "A"  # a hit: "a" is now newest
    cache.get("d", lambda: "D")  # evicts "b", the least recently used
    assert len(cache) == 3
    assert cache.get("b", lambda: "parsed again") == "parsed again"

    def bad() -> str:
        raise ValueError("Cannot parse")

    for _ in range(2):
        with pytest.raises(ValueError, match="Cannot parse"):
            cache.get("bad text", bad)
    assert "bad text" not in cache._entries


def test_a_copy_is_from_the_pickle_only_for_a_kept_tree() -> None:
    from moto.dynamodb.parsing.expressions import (  # type: ignore[attr-defined]
        UpdateExpressionParser,
    )

    make = UpdateExpressionParser.make
    trees = UpdateTrees(limit=1)
    text = "SET a = if_not_exists(a, :v), b = b + :one REMOVE c"
    tree = trees.tree(text, make)
    assert trees.tree(text, make) is tree
    copied = trees.fresh_copy(tree)
    assert copied is not tree
    assert _shape(copied) == _shape(copy.deepcopy(tree)) == _shape(tree)
    trees.tree("SET other = :v", make)  # evicts the first text
    assert trees.fresh_copy(tree) is not tree  # deepcopy now, still a copy
    assert id(tree) not in trees._by_id
    plain = {"L": [1, 2]}
    assert trees.fresh_copy(plain) == plain and trees.fresh_copy(plain) is not plain


def test_reserved_words_are_still_a_list_with_the_same_answers(
        toggle: Callable[[bool], None]) -> None:
    from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

    words = list(ReservedKeywords.get_reserved_keywords())
    toggle(True)
    patched = ReservedKeywords.get_reserved_keywords()
    assert isinstance(patched, list) and list(patched) == words
    for word in ("STATUS", "status", "NAME", "pk", "LEASE_UNTIL", ""):
        assert (word in patched) == (word in words)
