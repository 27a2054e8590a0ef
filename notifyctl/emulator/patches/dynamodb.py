"""DynamoDB: three changes, none visible in what moto answers.

1. Every item moto puts or updates is reported to the TTL sweeper's expiry index
   (emulator/ttl.py `EXPIRIES`), so a sweep reads only the items that are due instead
   of every item of every TTL table. Where: `Table.put_item` (PutItem, BatchWriteItem,
   TransactWriteItems' puts, and an UpdateItem that creates its item all go through
   it) and `DynamoDBBackend.update_item` (it changes the stored item in place;
   TransactWriteItems' updates call it).

2. Expressions are parsed once per text, not twice per request (emulator/
   expression_cache.py says what is kept and why that is safe):
   `UpdateExpressionParser.make` returns the kept tree; the validator's `deepcopy` of it
   is made from its pickle; `ConditionExpressionParser._lex_condition_expression`
   returns the kept tokens. Reserved-word checks (moto scans a 573-word list for every
   attribute name) use a set, and the validator's tree walks answer node-class checks
   from a memo (`_apply_traverser_memo`). Same trees, same errors, same items:
   tests/functional/test_dynamodb_expression_cache.py runs a corpus both ways.

3. The item operations' answers are written as JSON directly (`fast_result`). moto
   5.2 walks each answer through botocore's output shape, trying every member of every
   AttributeValue (S, N, B, ... ten of them) under five alias rules: 2 ms of a 5.6 ms
   UpdateItem that returns nothing. Its answers for these operations are already in
   the wire form (`DynamoResult` holds `{"S": ...}` dicts, binaries as bytes), so the
   same JSON comes from `json.dumps` (bytes base64-encoded as the serializer does).
   Anything else goes to moto's serializer: another operation, a key the output shape
   does not name, a value JSON cannot hold (a datetime), `PRETTIFY_RESPONSES`.
   tests/functional/test_dynamodb_fast_results.py compares the two on a corpus.
"""

from __future__ import annotations

import base64
import json
from collections import deque
from typing import Any

from notifyctl.emulator import expression_cache, ttl


def _moto() -> tuple[Any, ...]:
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.parsing import ast_nodes, validators
    from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]
        DepthFirstTraverser,
    )
    from moto.dynamodb.parsing.expressions import (  # type: ignore[attr-defined]
        UpdateExpressionParser,
    )
    from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

    return (Table, DynamoDBBackend, UpdateExpressionParser, validators,
            ConditionExpressionParser, ReservedKeywords, DepthFirstTraverser, ast_nodes)


def _result_class() -> Any:
    from moto.dynamodb.responses import DynamoResult

    return DynamoResult


def targets() -> list[tuple[Any, str]]:
    (Table, Backend, UpdateParser, validators, ConditionParser, Keywords,
     Traverser, ast) = _moto()
    return [(Table, "put_item"), (Backend, "update_item"), (UpdateParser, "make"),
            (validators, "deepcopy"), (ConditionParser, "_lex_condition_expression"),
            (Keywords, "KEYWORDS"), (Traverser, "nodes_to_be_processed"),
            (Traverser, "traverse_node_recursively"), (ast.Node, "find_clauses"),
            (validators.Validator, "validate"), (_result_class(), "execute_result")]


class _Words(list[str]):
    """moto's reserved-word list (still a list, same order) with a set's `in`."""

    def __init__(self, words: list[str]) -> None:
        super().__init__(words)
        self._set = frozenset(words)

    def __contains__(self, word: object) -> bool:
        return word in self._set


def apply() -> None:
    (Table, Backend, UpdateParser, validators, ConditionParser, Keywords,
     Traverser, ast) = _moto()
    _apply_ttl_index(Table, Backend)
    _apply_expression_cache(UpdateParser, validators, ConditionParser)
    _apply_check_memo(validators)
    Keywords.KEYWORDS = _Words(list(Keywords.get_reserved_keywords()))
    _apply_traverser_memo(Traverser, ast)
    _apply_fast_results(_result_class())


# Operations whose answers (a DynamoResult) hold only items, keys, counts and consumed
# capacity. DeleteItem, BatchWriteItem and TransactWriteItems answer through moto's
# plain ActionResult, which this does not touch.
FAST_RESULTS = frozenset({"GetItem", "PutItem", "UpdateItem", "Query", "Scan",
                          "BatchGetItem", "TransactGetItems"})
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"  # DynamoDB's jsonVersion 1.0


def _wire_bytes(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("utf-8")
    raise TypeError(type(value).__name__)  # a datetime, ...: moto's serializer decides


def fast_result(operation: Any, result: Any) -> str | None:
    """The JSON body of an item operation's answer, or None when moto's serializer
    must write it (see the module docstring)."""
    if operation.name not in FAST_RESULTS or type(result) is not dict:
        return None
    members = operation.output_shape.members if operation.output_shape is not None else {}
    answer = {key: value for key, value in result.items() if value is not None}
    if not answer.keys() <= members.keys():
        return None
    try:
        return json.dumps(answer, default=_wire_bytes, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def _apply_fast_results(DynamoResult: Any) -> None:
    original = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        from moto import settings

        if not settings.PRETTIFY_RESPONSES:
            body = fast_result(context.operation_model, self.result)
            if body is not None:
                return 200, {"Content-Type": JSON_CONTENT_TYPE}, body
        return original(self, context)

    DynamoResult.execute_result = execute_result


def _apply_ttl_index(Table: Any, Backend: Any) -> None:
    original_put = Table.put_item
    original_update = Backend.update_item

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = original_put(self, *args, **kwargs)
        ttl.EXPIRIES.note(self, item)
        return item

    def update_item(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        item = original_update(self, table_name, *args, **kwargs)
        ttl.EXPIRIES.note(self.get_table(table_name), item)
        return item

    Table.put_item = put_item
    Backend.update_item = update_item


def _apply_expression_cache(UpdateParser: Any, validators: Any, ConditionParser: Any) -> None:
    original_make = UpdateParser.__dict__["make"].__func__
    original_lex = ConditionParser._lex_condition_expression
    updates = expression_cache.UPDATES
    conditions = expression_cache.CONDITIONS

    def make(cls: Any, expression_str: Any) -> Any:
        if cls is not UpdateParser or not isinstance(expression_str, str):
            return original_make(cls, expression_str)  # a subclass or odd input: as moto
        return updates.tree(expression_str, lambda text: original_make(cls, text))

    def lex(self: Any) -> Any:
        text = self.condition_expression
        if not isinstance(text, str):
            return original_lex(self)
        return deque(conditions.get(text, lambda: tuple(original_lex(self))))

    UpdateParser.make = classmethod(make)
    validators.deepcopy = updates.fresh_copy
    ConditionParser._lex_condition_expression = lex


def _frozen(names: Any) -> Any:
    try:
        return frozenset(names.items()) if names else frozenset()
    except (AttributeError, TypeError):
        return None  # not a plain dict of strings: no memo


def _apply_check_memo(validators: Any) -> None:
    """moto's `Validator.validate` runs its processors in order over the private copy
    of the tree. The first three only check (each returns every node unchanged) and
    depend only on the tree and the inputs named in their key here; one that passed
    for a kept text with the same inputs passes again, so it is not walked again."""
    updates = expression_cache.UPDATES
    pure_checks: dict[type, Any] = {
        validators.ActionCountValidator: lambda p: ("ActionCount",),
        validators.OverlappingPathsValidator: lambda p: (
            "OverlappingPaths", _frozen(p.expression_attribute_names)),
        validators.UpdateHashRangeKeyValidator: lambda p: (
            "HashRangeKey", tuple(p.table_key_attributes),
            _frozen(p.expression_attribute_names)),
    }

    def validate(self: Any) -> Any:
        n = self.node_to_validate
        origin = updates.origin(n)
        for processor in self.processors:
            key_of = pure_checks.get(type(processor))
            check = key_of(processor) if origin is not None and key_of else None
            if origin is None or check is None or None in check:
                n = processor.traverse(n)
            elif not origin.passed(check):
                n = processor.traverse(n)
                origin.note_passed(check)
        return n

    validators.Validator.validate = validate


def _apply_traverser_memo(Traverser: Any, ast: Any) -> None:
    """The validator walks every tree ten times (one processor each) and its clause
    checks list clauses below every clause node: ~500 `isinstance` calls per UpdateItem
    against moto's node classes, each an ABCMeta check through Python code, plus a
    `_processing_map()` dict built per node only to read its keys. Here the same walk
    and the same clause listing (same order, same in-place replacement as moto's
    `traverse_node_recursively` / `Node.find_clauses`) answer "is this node's class a
    kind of X" from a memo per (class, X): the node classes register no virtual
    subclasses, so that answer is `issubclass(type(node), X)` for good. A processor's
    node types are classes written literally in its `_processing_map`: read once per
    processor class."""
    node_types = Traverser.nodes_to_be_processed
    Node, Expression, Function = ast.Node, ast.Expression, ast.UpdateExpressionFunction
    kinds_by_class: dict[type, tuple[type, ...]] = {}
    is_a: dict[tuple[type, Any], bool] = {}

    def kind_of(cls: type, kinds: Any) -> bool:
        answer = is_a.get((cls, kinds))
        if answer is None:
            answer = is_a[(cls, kinds)] = issubclass(cls, kinds)
        return answer

    def nodes_to_be_processed(self: Any) -> tuple[type, ...]:
        kinds = kinds_by_class.get(type(self))
        if kinds is None:
            kinds = kinds_by_class[type(self)] = node_types(self)
        return kinds

    def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
        if not kind_of(type(node), Node):
            return node
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                self.pre_processing_of_child(node, i)
                self.traverse_node_recursively(child_node, i)
        if kind_of(type(node), self.nodes_to_be_processed()):
            node = self.process(node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    def find_clauses(self: Any, clause_types: Any) -> list[Any]:
        clauses: list[Any] = []
        for child in self.children or []:
            if type(child) in clause_types:
                clauses.append(child)
            elif kind_of(type(child), Expression) or kind_of(type(child), Function):
                clauses.extend(child.find_clauses(clause_types))
        return clauses

    Traverser.nodes_to_be_processed = nodes_to_be_processed
    Traverser.traverse_node_recursively = traverse_node_recursively
    Node.find_clauses = find_clauses
