"""CloudWatch Logs filter patterns (pure: parse once, match many lines).

The syntax, from AWS's "Filter pattern syntax for metric filters, subscription filters,
filter log events and Live Tail":

| pattern                              | matches a log event that...                        |
|--------------------------------------|----------------------------------------------------|
| `""` (empty)                         | always                                             |
| `ERROR Exception`                    | contains every term (case-sensitive substrings)    |
| `"Exception occurred"`               | contains the exact phrase                          |
| `?ERROR ?WARN`                       | contains any term; `?a b ?c d` = (a and b) or      |
|                                      |   (c and d): each `?` starts a group               |
| `ERROR -Exiting`                     | contains ERROR and not Exiting                     |
| `%regex%`                            | matches the regular expression                     |
| `{ $.outcome = "rejected" }`         | is JSON and the selector compares (`=`, `!=` with  |
|                                      |   `*` wildcards for strings; `<`, `>`, `<=`, `>=`, |
|                                      |   `=`, `!=` for numbers), `IS TRUE/FALSE/NULL`,    |
|                                      |   `NOT EXISTS`, `&&`, `||`, parentheses            |
| `[ip, user, ..., status = 4*, size]` | has those space-delimited fields ("..." and [...]  |
|                                      |   are one field; `...` any number of fields), each |
|                                      |   condition true (`&&`, `||` between conditions)   |

An unparseable pattern raises `FilterPatternError` (FilterLogEvents answers
InvalidParameterException), never "match everything".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Matcher = Callable[[str], bool]


class FilterPatternError(ValueError):
    """The pattern is not valid filter pattern syntax."""


@lru_cache(maxsize=256)
def compile_pattern(pattern: str | None) -> Matcher:
    """A function telling whether a log event's message matches `pattern`."""
    text = (pattern or "").strip()
    if not text:
        return lambda message: True
    if text.startswith("{"):
        if not text.endswith("}"):
            raise FilterPatternError(f"Invalid filter pattern: {pattern}")
        expr = _JsonParser(text[1:-1]).parse()
        return lambda message: _json_match(expr, message)
    if text.startswith("["):
        if not text.endswith("]"):
            raise FilterPatternError(f"Invalid filter pattern: {pattern}")
        return _delimited(text[1:-1])
    if len(text) > 1 and text.startswith("%") and text.endswith("%"):
        try:
            regex = re.compile(text[1:-1])
        except re.error as exc:
            raise FilterPatternError(f"Invalid regular expression in {pattern}: {exc}") from None
        return lambda message: regex.search(message) is not None
    return _terms(text)


def matches(pattern: str | None, message: str) -> bool:
    return compile_pattern(pattern)(message)


# -- Terms -----------------------------------------------------------------------------

_TERM = re.compile(r'\s*([?-]?)(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))')
_BARE = re.compile(r"^[A-Za-z0-9_.:/@#=,;+*'\[\]-]+$")


@dataclass(frozen=True)
class _Group:
    required: tuple[str, ...]
    excluded: tuple[str, ...]

    def matches(self, message: str) -> bool:
        return all(t in message for t in self.required) and \
            not any(t in message for t in self.excluded)


def _terms(text: str) -> Matcher:
    groups: list[tuple[list[str], list[str]]] = []
    current: tuple[list[str], list[str]] = ([], [])
    pos = 0
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip():
                raise FilterPatternError(f"Invalid filter pattern: {text}")
            break
        prefix, quoted, bare = m.group(1), m.group(2), m.group(3)
        pos = m.end()
        if bare is not None and not _BARE.match(bare):
            raise FilterPatternError(f"Invalid character(s) in term '{bare}'")
        term = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        if prefix == "?":
            if current[0] or current[1]:
                groups.append(current)
            current = ([term], [])
        elif prefix == "-":
            current[1].append(term)
        else:
            current[0].append(term)
    groups.append(current)
    compiled = [_Group(tuple(r), tuple(e)) for r, e in groups if r or e]
    return lambda message: any(g.matches(message) for g in compiled)


# -- JSON patterns ----------------------------------------------------------------------

_JSON_TOKEN = re.compile(r"""\s*(?:
    (?P<sel>\$(?:\.[A-Za-z0-9_\-@*]+|\[\d+\]|\[\*\])*)
  | (?P<op>&&|\|\||<=|>=|!=|=|<|>|\(|\))
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<kw>IS\s+NULL|IS\s+TRUE|IS\s+FALSE|NOT\s+EXISTS)
  | (?P<word>[^\s()&|<>=!"]+)
)""", re.VERBOSE)


class _JsonParser:
    """expr := and ('||' and)* ; and := atom ('&&' atom)* ; atom := '(' expr ')' | cmp"""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _JSON_TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise FilterPatternError(f"Invalid JSON filter pattern near: {text[pos:]}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.i = 0

    def parse(self) -> Any:
        expr = self._or()
        if self.i != len(self.tokens):
            raise FilterPatternError(f"Unexpected {self.tokens[self.i][1]!r} in JSON pattern")
        return expr

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise FilterPatternError("JSON filter pattern ends too early")
        self.i += 1
        return token

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == ("op", "||"):
            self.i += 1
            left = ("or", left, self._and())
        return left

    def _and(self) -> Any:
        left = self._atom()
        while self._peek() == ("op", "&&"):
            self.i += 1
            left = ("and", left, self._atom())
        return left

    def _atom(self) -> Any:
        kind, value = self._take()
        if (kind, value) == ("op", "("):
            inner = self._or()
            if self._take() != ("op", ")"):
                raise FilterPatternError("Missing ) in JSON pattern")
            return inner
        if kind != "sel":
            raise FilterPatternError(f"Expected a selector like $.field, got {value!r}")
        kind2, op = self._take()
        if kind2 == "kw":
            return ("kw", value, " ".join(op.split()))
        if kind2 != "op" or op not in ("=", "!=", "<", ">", "<=", ">="):
            raise FilterPatternError(f"Expected a comparison after {value}, got {op!r}")
        kind3, literal = self._take()
        if kind3 == "str":
            return ("cmp", value, op, ("str", json.loads(literal)))
        if kind3 != "word":
            raise FilterPatternError(f"Expected a value after {value} {op}")
        if _number(literal) is not None:
            return ("cmp", value, op, ("num", literal))
        return ("cmp", value, op, ("str", literal))


_MISSING = object()


def _select(doc: Any, selector: str) -> list[Any]:
    """Values at a `$.a.b[0]` selector (a list: `[*]`/`.*` may fan out)."""
    values = [doc]
    for part in re.findall(r"\.([^.\[]+)|\[(\d+|\*)\]", selector[1:]):
        key, index = part
        out: list[Any] = []
        for v in values:
            if key == "*" or index == "*":
                out.extend(v.values() if isinstance(v, dict) else v if isinstance(v, list) else [])
            elif key:
                if isinstance(v, dict) and key in v:
                    out.append(v[key])
            elif isinstance(v, list) and int(index) < len(v):
                out.append(v[int(index)])
        values = out
    return values


def _json_match(expr: Any, message: str) -> bool:
    try:
        doc = json.loads(message)
    except ValueError:
        return False
    return _eval(expr, doc) if isinstance(doc, dict | list) else False


def _eval(expr: Any, doc: Any) -> bool:
    kind = expr[0]
    if kind == "or":
        return _eval(expr[1], doc) or _eval(expr[2], doc)
    if kind == "and":
        return _eval(expr[1], doc) and _eval(expr[2], doc)
    values = _select(doc, expr[1])
    if kind == "kw":
        word = expr[2]
        if word == "NOT EXISTS":
            return not values
        if word == "IS NULL":
            return any(v is None for v in values)
        return any(v is (word == "IS TRUE") for v in values)
    _, _, op, (vtype, literal) = expr
    return any(_compare(v, op, vtype, literal) for v in values)


def _compare(value: Any, op: str, vtype: str, literal: str) -> bool:
    if vtype == "num" and not isinstance(value, bool) and isinstance(value, int | float):
        return _numeric(float(value), op, float(literal))
    if op not in ("=", "!="):
        return False
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        text = json.dumps(value)
    else:
        text = str(value)
    hit = _wild(literal, text)
    return hit if op == "=" else not hit


def _numeric(value: float, op: str, other: float) -> bool:
    return {"=": value == other, "!=": value != other, "<": value < other,
            ">": value > other, "<=": value <= other, ">=": value >= other}[op]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _wild(pattern: str, text: str) -> bool:
    if "*" not in pattern:
        return pattern == text
    regex = ".*".join(re.escape(p) for p in pattern.split("*"))
    return re.fullmatch(regex, text, re.DOTALL) is not None


# -- Space-delimited patterns ----------------------------------------------------------

_FIELD_SPLIT = re.compile(r'"[^"]*"|\[[^\]]*\]|\S+')


def _delimited(inner: str) -> Matcher:
    specs = [s.strip() for s in _split_top(inner)]
    if not specs or any(not s for s in specs):
        raise FilterPatternError(f"Invalid space-delimited filter pattern: [{inner}]")
    fields = [_field_spec(s) for s in specs]

    def match(message: str) -> bool:
        tokens = [t[1:-1] if t[:1] in '"[' and len(t) > 1 else t
                  for t in _FIELD_SPLIT.findall(message.strip())]
        return _fit(fields, tokens)

    return match


def _split_top(text: str) -> list[str]:
    parts, depth, quote, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == '"':
            quote = not quote
        elif not quote and ch in "([":
            depth += 1
        elif not quote and ch in ")]":
            depth -= 1
        elif not quote and depth == 0 and ch == ",":
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


_COND = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|!=|=|<|>)\s*("(?:[^"\\]|\\.)*"|\S+)\s*$')


def _field_spec(spec: str) -> Any:
    if spec == "...":
        return "..."
    if _COND.match(spec) is None and ("||" in spec or "&&" in spec):
        return _field_expr(spec)
    m = _COND.match(spec)
    if m is None:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", spec):
            return lambda value: True  # a bare name matches any field
        raise FilterPatternError(f"Invalid field in space-delimited pattern: {spec}")
    return _field_condition(m.group(2), m.group(3))


def _field_expr(spec: str) -> Callable[[str], bool]:
    ors = []
    for alternative in spec.split("||"):
        ands = []
        for cond in alternative.split("&&"):
            m = _COND.match(cond)
            if m is None:
                raise FilterPatternError(f"Invalid condition in space-delimited pattern: {cond}")
            ands.append(_field_condition(m.group(2), m.group(3)))
        ors.append(ands)
    return lambda value: any(all(c(value) for c in ands) for ands in ors)


def _field_condition(op: str, literal: str) -> Callable[[str], bool]:
    text = json.loads(literal) if literal.startswith('"') else literal
    number = None if literal.startswith('"') else _number(literal)

    def test(value: str) -> bool:
        if number is not None:
            got = _number(value)
            return got is not None and _numeric(got, op, number)
        if op not in ("=", "!="):
            return False
        hit = _wild(text, value)
        return hit if op == "=" else not hit

    return test


def _fit(fields: list[Any], tokens: list[str]) -> bool:
    if not fields:
        return not tokens
    head = fields[0]
    if head == "...":
        return any(_fit(fields[1:], tokens[i:]) for i in range(len(tokens) + 1))
    return bool(tokens) and head(tokens[0]) and _fit(fields[1:], tokens[1:])
