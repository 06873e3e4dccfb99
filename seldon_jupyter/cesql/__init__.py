"""CloudEvents SQL v1.0: parse an expression once, evaluate it against many events.

The grammar (grammar.lark) runs on lark's LALR parser; `compile` refuses what does not
parse with a `CesqlSyntaxError` naming the position and what was expected, which is what
the Trigger webhook answers for a bad `cesql` filter. `Expression.evaluate` returns the
value and the error list (the spec's "complete evaluation mode"); `Expression.matches` is
the filter verdict: a Boolean true with no errors.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedInput, VisitError

from seldon_jupyter.cesql import nodes
from seldon_jupyter.cesql.functions import lookup
from seldon_jupyter.cesql.values import INT_MAX, PARSE, CesqlError, Value

__all__ = ["CesqlError", "CesqlSyntaxError", "Expression", "compile_expression"]


class CesqlSyntaxError(ValueError):
    """An expression that is not CESQL; `.kind` is "parse" as in the conformance kit."""

    kind = PARSE


@dataclass(frozen=True)
class Expression:
    source: str
    root: nodes.Node

    def evaluate(self, attributes: Mapping[str, Any]) -> tuple[Value, list[CesqlError]]:
        errors: list[CesqlError] = []
        value = self.root.evaluate(attributes, errors)
        return value, errors

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        value, errors = self.evaluate(attributes)
        return value is True and not errors

    def why_not(self, attributes: Mapping[str, Any]) -> str:
        """Why this expression does not pass for these attributes (empty when it does)."""
        value, errors = self.evaluate(attributes)
        if value is True and not errors:
            return ""
        if errors:
            return "; ".join(map(str, errors))
        part = self.root.false_part(attributes)
        return f"{part.text!r} is false" if part is not self.root or value is False else (
            f"the expression is {nodes.describe(value)}, not a Boolean true")


def _unquote(token: str) -> str:
    quote = token[0]
    return token[1:-1].replace("\\" + quote, quote)


@v_args(meta=True)
class _Build(Transformer[Token, nodes.Node]):
    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def _text(self, meta: Any) -> str:
        return self.source[meta.start_pos:meta.end_pos] if not meta.empty else ""

    def integer(self, meta: Any, children: list[Token]) -> nodes.Node:
        number = int(children[0])
        if number > INT_MAX + 1:
            raise CesqlSyntaxError(f"integer literal {children[0]} is outside 32 bits")
        return nodes.Literal(self._text(meta), number)

    def string(self, meta: Any, children: list[Token]) -> nodes.Node:
        return nodes.Literal(self._text(meta), _unquote(children[0]))

    def true(self, meta: Any, _children: list[Token]) -> nodes.Node:
        return nodes.Literal(self._text(meta), True)

    def false(self, meta: Any, _children: list[Token]) -> nodes.Node:
        return nodes.Literal(self._text(meta), False)

    def ident(self, meta: Any, children: list[Token]) -> nodes.Node:
        return nodes.Identifier(self._text(meta), str(children[0]).lower())

    def exists(self, meta: Any, children: list[Token]) -> nodes.Node:
        return nodes.Exists(self._text(meta), str(children[1]).lower())

    def not_(self, meta: Any, children: list[Any]) -> nodes.Node:
        return nodes.Not(self._text(meta), children[1])

    def negate(self, meta: Any, children: list[Any]) -> nodes.Node:
        if children[0] != "-":
            raise CesqlSyntaxError(f"unexpected '+' at {meta.start_pos + 1}: CESQL has no "
                                   "unary plus")
        operand = children[1]
        if isinstance(operand, nodes.Literal) and type(operand.value) is int:
            return nodes.Literal(self._text(meta), -operand.value)
        return nodes.Negate(self._text(meta), operand)

    def arith(self, meta: Any, children: list[Any]) -> nodes.Node:
        return nodes.Arithmetic(self._text(meta), str(children[1]), children[0], children[2])

    def compare(self, meta: Any, children: list[Any]) -> nodes.Node:
        return nodes.Compare(self._text(meta), str(children[1]), children[0], children[2])

    def logic(self, meta: Any, children: list[Any]) -> nodes.Node:
        return nodes.Logic(self._text(meta), str(children[1]).upper(), children[0], children[2])

    def like(self, meta: Any, children: list[Any]) -> nodes.Node:
        negated = len(children) == 4
        return nodes.Like(self._text(meta), children[0], nodes.like_pattern(
            _unquote(children[-1])), negated)

    def in_set(self, meta: Any, children: list[Any]) -> nodes.Node:
        negated = isinstance(children[1], Token) and children[1].type == "NOT"
        members = [c for c in children[1:] if isinstance(c, nodes.Node)]
        return nodes.In(self._text(meta), children[0], tuple(members), negated)

    def call(self, meta: Any, children: list[Any]) -> nodes.Node:
        name = str(children[0])
        arguments = tuple(c for c in children[1:] if c is not None)
        return nodes.Call(self._text(meta), name.upper(), lookup(name, len(arguments)),
                          arguments)


@functools.cache
def _parser() -> Lark:
    grammar = resources.files("seldon_jupyter.cesql").joinpath("grammar.lark").read_text()
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def _explain(exc: UnexpectedInput, source: str) -> str:
    where = f"at column {exc.column}" if getattr(exc, "column", -1) not in (-1, None) else (
        "at the end")
    expected = sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or [])
    shown = f"; expected one of {', '.join(expected[:8])}" if expected else ""
    return f"cannot parse CESQL {source!r} {where}{shown}"


@functools.lru_cache(maxsize=1024)
def compile_expression(source: str) -> Expression:
    """Parse a CESQL expression (cached); CesqlSyntaxError when it is not valid."""
    if not source.strip():
        raise CesqlSyntaxError("a CESQL expression cannot be empty")
    try:
        tree = _parser().parse(source)
        root = _Build(source).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, CesqlSyntaxError):
            raise exc.orig_exc from None
        raise CesqlSyntaxError(f"cannot parse CESQL {source!r}: {exc.orig_exc}") from None
    except UnexpectedInput as exc:
        raise CesqlSyntaxError(_explain(exc, source)) from None
    except LarkError as exc:
        raise CesqlSyntaxError(f"cannot parse CESQL {source!r}: {exc}") from None
    return Expression(source, root)
