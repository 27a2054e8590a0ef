"""Write a `syntax.File` in Terraform's JSON syntax (`.tf.json`).

Blocks become nested objects keyed by type and labels (`{"resource": {"aws_x":
{"name": {...}}}}`); a nested block that appears more than once becomes a list.
Strings are templates, as in native syntax; expressions are written as
`"${...}"`; comments become the `"//"` property Terraform ignores.
"""

from __future__ import annotations

import json
from typing import Any

from notifyctl.export import hcl
from notifyctl.export.syntax import Attribute, Block, Comment, Expr, File, Item, JsonEncode, Ref, Value

COMMENT_KEY = "//"


def render(file: File) -> str:
    root: dict[str, Any] = {}
    if file.header:
        root[COMMENT_KEY] = "\n".join(file.header)
    for blk in file.blocks:
        _place(root, blk)
    return json.dumps(root, indent=2, ensure_ascii=False) + "\n"


def _place(parent: dict[str, Any], blk: Block) -> None:
    """Put a top-level block under its type and labels."""
    node = parent.setdefault(blk.type, {})
    for label in blk.labels[:-1]:
        node = node.setdefault(label, {})
    if blk.labels:
        node[blk.labels[-1]] = _body(blk.body)
    else:
        node.update(_body(blk.body))


def _body(items: tuple[Item, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    comments: list[str] = []
    nested: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if isinstance(item, Comment):
            comments.extend(item.lines)
        elif isinstance(item, Attribute):
            out[item.name] = _value(item.value)
        elif isinstance(item, Block):
            nested.setdefault(item.type, []).append(_body(item.body))
            out[item.type] = None  # keep the block's position among the attributes
    for name, bodies in nested.items():
        out[name] = bodies[0] if len(bodies) == 1 else bodies
    if comments:
        out = {COMMENT_KEY: " ".join(comments), **out}
    return out


def _value(value: Value) -> Any:
    if isinstance(value, Expr):
        return "${" + value.text + "}"
    if isinstance(value, Ref):
        return value.text
    if isinstance(value, JsonEncode):
        return "${" + hcl.inline(value) + "}"
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_value(v) for v in value]
    return value
