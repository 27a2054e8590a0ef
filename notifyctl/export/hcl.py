"""Write a `syntax.File` as Terraform native syntax, already in `terraform fmt` form.

`terraform fmt` is the style every Terraform user's editor applies, so the
output must be a fixed point of it. The rules it applies that matter here
(hclwrite's formatter):

- two spaces of indent per open bracket; a line starting with a closer is
  dedented;
- the `=` of consecutive one-line `key = value` lines is aligned one space after
  the longest key. A line whose value opens a bracket it does not close
  (`policy = jsonencode({`), a comment, a blank line or a nested block ends such
  a run;
- one space after a comma in a one-line list; no space inside its brackets.

tests/functional/test_export_terraform_cli.py runs `terraform fmt -check` on every
file this module writes, where a terraform binary is installed.
"""

from __future__ import annotations

import json
import re

from notifyctl.export.syntax import (
    Attribute,
    Block,
    Comment,
    Expr,
    File,
    Item,
    JsonEncode,
    Ref,
    Value,
    interpolation,
)

INDENT = "  "
# Keys written without quotes in an object: plain identifiers (a `-` is legal in
# HCL identifiers but Terraform users quote such tag keys; keywords would parse
# as expressions).
_BARE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEYWORDS = frozenset({"null", "true", "false", "for", "if", "in", "endfor", "endif"})
# A one-line list longer than this is written one element per line.
MAX_INLINE_LIST = 72
_TEMPLATE_PART = re.compile(r"(\$\{[^{}]*\})")


def render(file: File) -> str:
    lines = [f"# {line}" if line else "#" for line in file.header]
    for blk in file.blocks:
        if lines:
            lines.append("")
        lines.extend(render_block(blk, 0))
    return "\n".join(lines) + "\n"


def render_block(blk: Block, level: int) -> list[str]:
    pad = INDENT * level
    head = " ".join([blk.type, *(json.dumps(label) for label in blk.labels)])
    if not blk.body:
        return [f"{pad}{head} {{}}"]
    return [f"{pad}{head} {{", *_body(blk.body, level + 1), f"{pad}}}"]


def inline(value: Value) -> str:
    """A value on one line (for an expression inside a JSON-syntax string)."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    if isinstance(value, JsonEncode):
        return f"jsonencode({inline(value.value)})"
    return _scalar(value)


def _body(items: tuple[Item, ...], level: int) -> list[str]:
    """Attributes, nested blocks and comments, with fmt's alignment of `=`."""
    pad = INDENT * level
    out: list[str] = []
    run: list[tuple[str, str]] = []  # consecutive one-line attributes, aligned together

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        out.extend(f"{pad}{k.ljust(width)} = {v}" for k, v in run)
        run.clear()

    previous: Item | None = None
    for item in items:
        if previous is not None and not isinstance(previous, Comment) and (
                isinstance(item, Block | Comment) or isinstance(previous, Block)):
            flush()
            out.append("")
        if isinstance(item, Attribute):
            value = _value(item.value, level)
            if len(value) == 1:
                run.append((item.name, value[0]))
            else:
                flush()
                out.append(f"{pad}{item.name} = {value[0]}")
                out.extend(value[1:])
        elif isinstance(item, Block):
            flush()
            out.extend(render_block(item, level))
        else:
            flush()
            out.extend(f"{pad}# {line}" if line else f"{pad}#" for line in item.lines)
        previous = item
    flush()
    return out


def _value(value: Value, level: int) -> list[str]:
    """The value's lines: the first follows `key = `; the rest are whole lines."""
    if isinstance(value, JsonEncode):
        lines = _value(value.value, level)
        return [f"jsonencode({lines[0]}", *lines[1:-1], lines[-1] + ")"] if len(lines) > 1 \
            else [f"jsonencode({lines[0]})"]
    pad = INDENT * level
    if isinstance(value, dict):
        if not value:
            return ["{}"]
        return ["{", *_body(tuple(Attribute(_key(k), v) for k, v in value.items()), level + 1),
                f"{pad}}}"]
    if isinstance(value, list):
        if not value:
            return ["[]"]
        if all(_is_scalar(v) for v in value):
            one_line = "[" + ", ".join(_scalar(v) for v in value) + "]"
            if len(one_line) <= MAX_INLINE_LIST:
                return [one_line]
        lines = ["["]
        for element in value:
            sub = _value(element, level + 1)
            lines.append(INDENT * (level + 1) + sub[0] + ("," if len(sub) == 1 else ""))
            if len(sub) > 1:
                lines.extend(sub[1:-1])
                lines.append(sub[-1] + ",")
        lines.append(f"{pad}]")
        return lines
    return [_scalar(value)]


def _is_scalar(value: Value) -> bool:
    return not isinstance(value, list | dict | JsonEncode)


def _scalar(value: Value) -> str:
    if isinstance(value, Expr | Ref):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        whole = interpolation(value)
        return whole if whole is not None else quote(value)
    raise TypeError(f"not a scalar value: {value!r}")


def quote(text: str) -> str:
    """A quoted template: `"` and `\\` escaped outside `${...}`, which is kept as is."""
    parts = _TEMPLATE_PART.split(text)
    escaped = [part if i % 2 else
               part.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               for i, part in enumerate(parts)]
    return '"' + "".join(escaped) + '"'


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) and key not in _KEYWORDS else json.dumps(key)
