"""The CESQL syntax tree and its evaluation over one event's attributes.

Each node evaluates to a value of its type and appends to the error list. The rule that
makes the conformance kit pass (cesql/spec.md 3.2-3.4): a node whose operand produced an
error returns its own zero value without computing (so `missing / 0` is 0 with only a
missingAttribute error, and `true AND (1 != 1 / 0)` is false); a failed implicit cast
gives the operand the target's zero value and the node computes on. AND and OR short-
circuit. Every node keeps its source text, so a filter can say which part was false.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from seldon_jupyter.cesql.functions import Function
from seldon_jupyter.cesql.values import (
    MATH,
    MISSING_ATTRIBUTE,
    MISSING_FUNCTION,
    CesqlError,
    Value,
    cast,
    to_string,
    zero,
)

Attributes = Mapping[str, object]
REQUIRED = frozenset({"id", "source", "specversion", "type"})


@dataclass(frozen=True)
class Node:
    text: str = field(compare=False)

    def evaluate(self, attrs: Attributes, errors: list[CesqlError]) -> Value:
        raise NotImplementedError

    def operands(self, attrs: Attributes, errors: list[CesqlError],
                 children: Sequence[Node]) -> list[Value] | None:
        """Evaluate children in order; None (errors kept) when any of them failed."""
        values = []
        for child in children:
            own: list[CesqlError] = []
            values.append(child.evaluate(attrs, own))
            if own:
                errors.extend(own)
                return None
        return values

    def false_part(self, attrs: Attributes) -> Node:
        """The smallest sub-expression that makes this one false (itself by default)."""
        return self


@dataclass(frozen=True)
class Literal(Node):
    value: Value

    def evaluate(self, attrs: Attributes, errors: list[CesqlError]) -> Value:
        return self.value


@dataclass(frozen=True)
class Identifier(Node):
    name: str

    def evaluate(self, attrs: Attributes, errors: list[CesqlError]) -> Value:
        value = attrs.get(self.name)
        if value is None:
            errors.append(CesqlError(MISSING_ATTRIBUTE, f"the event has no attribute "
                                                        f"{self.name!r}"))
            return False
        return value if isinstance(value, bool | int | str) else str(value)


@dataclass(frozen=True)
class Exists(Node):
    name: str

    def evaluate(self, attrs: Attributes, errors: list[CesqlError]) -> Value:
        return self.name in REQUIRED or attrs.get(self.name) is not None


@dataclass(frozen=True)
class Not(Node):
    operand: Node

    def evaluate(self, attrs: Attributes, errors: list[CesqlError]) -> Value:
        values = self.operands(attrs, errors, [self.operand])
        return False if values is None else not cast(values[0], bool, errors)


@dataclass(frozen=True)
class Negate(Node):
    operand: Node

    def evaluate(self, attrs: Attributes, errors: list[CesqlError]) -> Value:
        values = self.operands(attrs, errors, [self.operand])
        return 0 if values is None else -int(cast(values[0], int, errors))


def _truncated(op: str, x: int, y: int, errors: list[CesqlError]) -> int:
    if y == 0:
        errors.append(CesqlError(MATH, f"{'division' if op == '/' else 'modulo'} by zero"))
        return 0
    quotient = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)
    return quotient if op == "/" else x - quotient * y


@dataclass(frozen=True)
class Binary(Node):
    """An infix operator: `op` between `left` and `right`."""

    op: str
    left: Node
    right: Node

    def both(self, attrs: Attributes, errors: list[CesqlError]) -> list[Value] | None:
        return self.operands(attrs, errors, [self.left, self.right])


@dataclass(frozen=True)
class Arithmetic(Binary):
    def evaluate(self, attrs: Attributes, errors: list[CesqlError]) -> Value:
        values = self.both(attrs, errors)
        if values is None:
            return 0
        x, y = (int(cast(v, int, errors)) for v in values)
        if self.op in "/%":
            return _truncated(self.op, x, y, errors)
        return {"+": x + y, "-": x - y, "*": x * y}[self.op]


@dataclass(frozen=True)
class Compare(Binary):
    def evaluate(self, attrs: Attributes, errors: list[CesqlError]) -> Value:
        values = self.both(attrs, errors)
        if values is None:
            return False
        x, y = values
        if self.op in ("=", "!=", "<>"):
            # ambiguous operator: the right operand's type picks the definition (3.7)
            same = cast(x, type(y), errors) == y
            return same if self.op == "=" else not same
        a, b = int(cast(x, int, errors)), int(cast(y, int, errors))
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[self.op]


@dataclass(frozen=True)
class Logic(Binary):

    def evaluate(self, attrs: Attributes, errors: list[CesqlError]) -> Value:
        first = self.operands(attrs, errors, [self.left])
        if first is None:
            return False
        x = bool(cast(first[0], bool, errors))
        if (self.op == "AND" and not x) or (self.op == "OR" and x):
            return x
        second = self.operands(attrs, errors, [self.right])
        if second is None:
            return False
        y = bool(cast(second[0], bool, errors))
        return {"AND": x and y, "OR": x or y, "XOR": x != y}[self.op]

    def false_part(self, attrs: Attributes) -> Node:
        if self.op != "AND":
            return self
        left_ok = self.left.evaluate(attrs, []) is True
        return (self.right if left_ok else self.left).false_part(attrs)


def like_pattern(pattern: str) -> re.Pattern[str]:
    """A LIKE pattern as a regex: % any run, _ one character, backslash escapes them."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "%_":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(out), re.DOTALL)


@dataclass(frozen=True)
class Like(Node):
    operand: Node
    pattern: re.Pattern[str]
    negated: bool = False

    def evaluate(self, attrs: Attributes, errors: list[CesqlError]) -> Value:
        values = self.operands(attrs, errors, [self.operand])
        if values is None:
            return False
        found = self.pattern.fullmatch(str(cast(values[0], str, errors))) is not None
        return found != self.negated


@dataclass(frozen=True)
class In(Node):
    operand: Node
    members: tuple[Node, ...]
    negated: bool = False

    def evaluate(self, attrs: Attributes, errors: list[CesqlError]) -> Value:
        values = self.operands(attrs, errors, [self.operand, *self.members])
        if values is None:
            return False
        x, rest = values[0], values[1:]
        found = any(cast(y, type(x), errors) == x for y in rest)  # x's type is the target
        return found != self.negated


@dataclass(frozen=True)
class Call(Node):
    name: str
    function: Function | None
    arguments: tuple[Node, ...]

    def evaluate(self, attrs: Attributes, errors: list[CesqlError]) -> Value:
        if self.function is None:
            errors.append(CesqlError(MISSING_FUNCTION, f"no function {self.name}() taking "
                                                       f"{len(self.arguments)} argument(s)"))
            return False
        values = self.operands(attrs, errors, self.arguments)
        if values is None:
            return zero(self.function.returns)
        cast_values = [v if (kind := self.function.param(i)) is None else cast(v, kind, errors)
                       for i, v in enumerate(values)]
        return self.function.impl(cast_values, errors)


def describe(value: Value) -> str:
    return repr(to_string(value)) if isinstance(value, str) else to_string(value)
