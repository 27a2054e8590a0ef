"""Parsed DynamoDB expressions, kept by their text (patches/dynamodb.py uses it).

Why: moto parses every UpdateExpression twice per UpdateItem (the handler, to list the
placeholders it uses; the backend, to run it) and every ConditionExpression twice per
PutItem/UpdateItem, and its validator then deep-copies the parsed update before
resolving it against the item. A function writes the same few expression texts over
and over (the notifier's claim, its final write, the feedback function's updates), so
the emulator spent ~10 % of its CPU re-reading the same strings (py-spy, issue 20).

What is kept depends on the text ONLY — never on ExpressionAttributeNames/Values or the
item, which moto resolves later, on every request, exactly as before:

- `UPDATES`: UpdateExpression text -> moto's parsed tree (`UpdateExpressionParser.make`)
  plus its pickle. The tree is shared by every request with that text; moto only reads
  it (placeholder listing) or deep-copies it before changing anything (the validator),
  and that copy is made from the pickle (`fresh_copy`: ~10x cheaper than deepcopy).
  moto's first three validator passes only check the tree (one ADD/REMOVE/SET clause
  each, no overlapping paths, no key attribute updated) against the names and the
  table's key schema; a pass that succeeded for a text with the same inputs is not
  walked again (`ParsedUpdate.checks`). A check that fails is never remembered.
- `CONDITIONS`: ConditionExpression text -> the lexer's tokens (immutable named tuples).
  Names and values are looked up after lexing, per request.

A text that does not parse raises as before and is not kept (it raises again, with the
same error, next time). Both caches are bounded (LRU, `LIMIT` texts each), so a client
writing a new text per request costs a parse as before and no memory.
"""

from __future__ import annotations

import contextlib
import copy
import pickle
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

LIMIT = 256  # texts per cache: ~15 KB per long update + condition pair, ~4 MB at most

T = TypeVar("T")


class ByText(Generic[T]):
    """A bounded LRU from an expression's text to what parsing it produced.

    `get(text, parse)` returns the kept value or calls `parse()` (outside the lock: a
    parse may raise, and two threads parsing the same new text at once just keep one
    result). Exceptions are never kept."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._entries: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, text: str, parse: Callable[[], T]) -> T:
        with self._lock:
            entry = self._entries.get(text)
            if entry is not None:
                self._entries.move_to_end(text)
                self.hits += 1
                return entry
        value = parse()
        with self._lock:
            self.misses += 1
            kept = self._entries.setdefault(text, value)
            if kept is value:
                self._added(value)
            self._entries.move_to_end(text)
            while len(self._entries) > self.limit:
                self._evicted(self._entries.popitem(last=False)[1])
            return kept

    def _added(self, value: T) -> None:
        """Hook (under the lock) for subclasses that index their values elsewhere."""

    def _evicted(self, value: T) -> None:
        """Hook (under the lock): `value` is no longer kept."""

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            for value in self._entries.values():
                self._evicted(value)
            self._entries.clear()


CHECKS_LIMIT = 16


@dataclass(frozen=True)
class ParsedUpdate:
    tree: Any  # moto's UpdateExpression node (shared: never changed in place)
    pickled: bytes | None  # None when the tree does not pickle: deepcopy then
    # Checks that passed on this tree, with their inputs (see `passed`/`note_passed`)
    checks: set[Hashable] = field(default_factory=set, compare=False)

    def passed(self, check: Hashable) -> bool:
        return check in self.checks

    def note_passed(self, check: Hashable) -> None:
        """Remember a pure check (same tree + same inputs -> same outcome) that passed;
        at most CHECKS_LIMIT per text, so varying inputs cannot grow it."""
        if len(self.checks) < CHECKS_LIMIT:
            self.checks.add(check)


class UpdateTrees(ByText[ParsedUpdate]):
    """UpdateExpression texts -> shared parsed trees, and cheap private copies of them."""

    def __init__(self, limit: int = LIMIT) -> None:
        super().__init__(limit)
        self._by_id: dict[int, ParsedUpdate] = {}
        # id(copy) -> (weak ref to the copy, what it was copied from): alive while the
        # request that validates the copy holds it
        self._copies: dict[int, tuple[weakref.ref[Any], ParsedUpdate]] = {}

    def tree(self, text: str, make: Callable[[str], Any]) -> Any:
        """moto's parse of `text` (the shared tree: callers must not change it)."""
        return self.get(text, lambda: self._parsed(make(text))).tree

    def _parsed(self, tree: Any) -> ParsedUpdate:
        try:
            pickled: bytes | None = pickle.dumps(tree, pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an unpicklable node: copy it the slow way
            pickled = None
        return ParsedUpdate(tree, pickled)

    def _added(self, value: ParsedUpdate) -> None:
        self._by_id[id(value.tree)] = value

    def _evicted(self, value: ParsedUpdate) -> None:
        self._by_id.pop(id(value.tree), None)

    def fresh_copy(self, obj: Any, memo: dict[int, Any] | None = None) -> Any:
        """`copy.deepcopy(obj)`, from the pickle when obj is one of the kept trees.

        Takes deepcopy's signature: it replaces the `deepcopy` moto's validator module
        imported. A tree no longer kept (evicted, or it lost a race in get()) is not
        indexed: deepcopy, as moto did."""
        parsed = self._by_id.get(id(obj))
        if memo is None and parsed is not None and parsed.tree is obj \
                and parsed.pickled is not None:
            fresh = pickle.loads(parsed.pickled)  # noqa: S301 - our own bytes
            with contextlib.suppress(TypeError):  # a node that takes no weak reference
                self._copies[id(fresh)] = (weakref.ref(fresh, self._forget(id(fresh))), parsed)
            return fresh
        return copy.deepcopy(obj, memo)

    def _forget(self, key: int) -> Callable[[weakref.ref[Any]], None]:
        return lambda _: self._copies.pop(key, None) and None

    def origin(self, obj: Any) -> ParsedUpdate | None:
        """The kept parse `obj` was copied from by fresh_copy (None for anything else)."""
        entry = self._copies.get(id(obj))
        if entry is None or entry[0]() is not obj:
            return None
        return entry[1]


UPDATES = UpdateTrees()
CONDITIONS: ByText[tuple[Any, ...]] = ByText()
