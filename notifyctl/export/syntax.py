"""A Terraform configuration as data: blocks, attributes and values.

The export builds these once; `hcl.render` writes them as native syntax (`.tf`)
and `tfjson.render` as JSON syntax (`.tf.json`), so both formats always say the
same thing.

Values are Python scalars, lists, dicts and three expression types:

| value                      | HCL                    | JSON syntax                     |
|----------------------------|------------------------|---------------------------------|
| `str`                      | a quoted template; `"${x}"` alone is written `x` | the string (a template) |
| `int`, `bool`, `None`      | `1`, `true`, `null`    | the JSON value                  |
| `Expr("var.x")`            | `var.x`                | `"${var.x}"`                    |
| `Ref("aws_x.y")`           | `aws_x.y`              | `"aws_x.y"` (plain, see Ref)    |
| `JsonEncode(value)`        | `jsonencode({...})`    | `"${jsonencode({...})}"`        |

Every `str` is a template: `${...}` in it is Terraform interpolation. The
export refuses configuration values that contain `${` or `%{`, so no literal
text can be mistaken for one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypeAlias

# A string that is exactly one interpolation, `${...}`, with nothing around it.
_WHOLE_INTERPOLATION = re.compile(r"^\$\{([^{}\"]+)\}$")


@dataclass(frozen=True)
class Expr:
    """A Terraform expression written as is (a reference, a function call)."""

    text: str


@dataclass(frozen=True)
class Ref:
    """A bare traversal where Terraform's JSON syntax wants a plain string
    (`depends_on`, `ignore_changes`, a variable's `type`)."""

    text: str


@dataclass(frozen=True)
class JsonEncode:
    """`jsonencode(value)`: how a policy document is written in Terraform."""

    value: Value


Value: TypeAlias = ("str | int | float | bool | None | Expr | Ref | JsonEncode | list[Value]"
                    " | dict[str, Value]")


@dataclass(frozen=True)
class Attribute:
    name: str
    value: Value


@dataclass(frozen=True)
class Comment:
    """One or more comment lines; each `str` in `lines` is one line."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class Block:
    type: str
    labels: tuple[str, ...] = ()
    body: tuple[Item, ...] = field(default_factory=tuple)


Item: TypeAlias = "Attribute | Block | Comment"


@dataclass(frozen=True)
class File:
    """One configuration file: a header comment and its top-level blocks."""

    name: str  # without extension: "main" -> main.tf / main.tf.json
    header: tuple[str, ...]
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Resource:
    """A resource's address in the module."""

    type: str
    name: str

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"

    def attr(self, attribute: str) -> str:
        """A string value referencing one of its attributes (a template)."""
        return ref(f"{self.address}.{attribute}")

    def expr(self, attribute: str) -> Expr:
        return Expr(f"{self.address}.{attribute}")


def block(type_: str, *labels: str, body: list[Item] | tuple[Item, ...] = ()) -> Block:
    return Block(type_, tuple(labels), tuple(body))


def attrs(**values: Value) -> list[Item]:
    """Attributes in keyword order (a shorthand for block bodies)."""
    return [Attribute(k, v) for k, v in values.items()]


def interpolation(text: str) -> str | None:
    """The expression inside a string that is exactly `${expr}`, else None."""
    m = _WHOLE_INTERPOLATION.match(text)
    return m.group(1) if m else None


def ref(expression: str) -> str:
    """A string value that is one reference, e.g. `ref("aws_sqs_queue.x.arn")`.

    Kept as a template string (not an Expr) so that it can flow through code
    that builds strings, such as `infra.policies`, exactly like a literal would.
    """
    return "${" + expression + "}"
