"""CESQL's built-in functions (cesql/spec.md 3.5), dispatched by name and arity.

Each entry lists its parameter types (the arguments are cast to them, as for operators),
whether its last parameter repeats, and its return type. A call that matches no entry is
a `missingFunction` error with the return value false.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from seldon_jupyter.cesql.values import (
    CAST,
    FUNCTION_EVALUATION,
    INT_MAX,
    INT_MIN,
    MATH,
    CesqlError,
    Value,
    cast,
    to_string,
)

Impl = Callable[[Sequence[Value], list[CesqlError]], Value]


@dataclass(frozen=True)
class Function:
    params: tuple[type | None, ...]  # None: any type, cast by the function itself
    returns: type
    impl: Impl
    variadic: bool = False

    def accepts(self, count: int) -> bool:
        fixed = len(self.params) - (1 if self.variadic else 0)
        return count >= fixed if self.variadic else count == len(self.params)

    def param(self, index: int) -> type | None:
        return self.params[min(index, len(self.params) - 1)]


def _fail(errors: list[CesqlError], message: str, value: Value) -> Value:
    errors.append(CesqlError(FUNCTION_EVALUATION, message))
    return value


def _left(args: Sequence[Value], errors: list[CesqlError]) -> Value:
    text, count = str(args[0]), int(args[1])
    if count < 0:
        return _fail(errors, f"LEFT length {count} is negative", text)
    return text[:count]


def _right(args: Sequence[Value], errors: list[CesqlError]) -> Value:
    text, count = str(args[0]), int(args[1])
    if count < 0:
        return _fail(errors, f"RIGHT length {count} is negative", text)
    return text[max(len(text) - count, 0):]


def _substring(args: Sequence[Value], errors: list[CesqlError]) -> Value:
    text, pos = str(args[0]), int(args[1])
    if pos > len(text) or pos < -len(text):
        return _fail(errors, f"SUBSTRING position {pos} is outside {text!r}", "")
    if pos == 0:
        return ""
    start = pos - 1 if pos > 0 else len(text) + pos
    if len(args) == 2:
        return text[start:]
    length = int(args[2])
    if length < 0:
        return _fail(errors, f"SUBSTRING length {length} is negative", "")
    return text[start:start + length]


def _abs(args: Sequence[Value], errors: list[CesqlError]) -> Value:
    number = int(args[0])
    if number == INT_MIN:
        errors.append(CesqlError(MATH, "ABS(-2147483648) overflows a 32-bit integer"))
        return INT_MAX
    return abs(number)


def _int(args: Sequence[Value], errors: list[CesqlError]) -> Value:
    return cast(args[0], int, errors)


def _bool(args: Sequence[Value], errors: list[CesqlError]) -> Value:
    value = args[0]
    if isinstance(value, int) and not isinstance(value, bool):
        return value != 0
    if isinstance(value, str) and value.lower() not in ("true", "false"):
        errors.append(CesqlError(CAST, f"cannot cast {value!r} to Boolean"))
        return False
    return value if isinstance(value, bool) else str(value).lower() == "true"


BUILTINS: dict[str, list[Function]] = {
    "LENGTH": [Function((str,), int, lambda a, _e: len(str(a[0])))],
    "CONCAT": [Function((str,), str, lambda a, _e: "".join(map(str, a)), variadic=True)],
    "CONCAT_WS": [Function((str, str), str, lambda a, _e: str(a[0]).join(map(str, a[1:])),
                           variadic=True)],
    "LOWER": [Function((str,), str, lambda a, _e: str(a[0]).lower())],
    "UPPER": [Function((str,), str, lambda a, _e: str(a[0]).upper())],
    "TRIM": [Function((str,), str, lambda a, _e: str(a[0]).strip())],
    "LEFT": [Function((str, int), str, _left)],
    "RIGHT": [Function((str, int), str, _right)],
    "SUBSTRING": [Function((str, int), str, _substring),
                  Function((str, int, int), str, _substring)],
    "ABS": [Function((int,), int, _abs)],
    "INT": [Function((None,), int, _int)],
    "BOOL": [Function((None,), bool, _bool)],
    "STRING": [Function((None,), str, lambda a, _e: to_string(a[0]))],
}


def lookup(name: str, count: int) -> Function | None:
    """The built-in `name` (any case) taking `count` arguments, if there is one."""
    return next((f for f in BUILTINS.get(name.upper(), []) if f.accepts(count)), None)
