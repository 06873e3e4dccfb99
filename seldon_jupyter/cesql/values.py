"""CESQL's three types, the casts between them and the error kinds an evaluation collects.

CloudEvents SQL v1.0 (cloudevents/spec `cesql/spec.md` 3.1, 3.3, 3.7): every attribute
starts as a String; operators cast their operands implicitly; a failed cast yields the
target type's zero value and a `cast` error, and evaluation goes on (the language is
total). Integers are 32-bit signed.
"""

from __future__ import annotations

from dataclasses import dataclass

Value = bool | int | str

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
PARSE, MATH, CAST = "parse", "math", "cast"
MISSING_FUNCTION, FUNCTION_EVALUATION = "missingFunction", "functionEvaluation"
MISSING_ATTRIBUTE, GENERIC = "missingAttribute", "generic"


@dataclass(frozen=True)
class CesqlError:
    """One entry of an evaluation's error list: its kind (the TCK's names) and what failed."""

    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def type_name(value: Value) -> str:
    if isinstance(value, bool):
        return "Boolean"
    return "Integer" if isinstance(value, int) else "String"


def zero(kind: type) -> Value:
    """The zero value of a type: false, 0 or ''."""
    zeros: dict[type, Value] = {bool: False, int: 0, str: ""}
    return zeros[kind]


def to_string(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def cast(value: Value, kind: type, errors: list[CesqlError]) -> Value:
    """Implicit cast of `value` to `kind` (bool, int or str), recording a cast error."""
    if type(value) is kind:
        return value
    if kind is str:
        return to_string(value)
    if kind is int:
        if isinstance(value, bool):
            return int(value)
        text = str(value).strip()
        try:
            number = int(text, 10)
        except ValueError:
            number = None
        if number is not None and INT_MIN <= number <= INT_MAX and text.lstrip("+-").isdigit():
            return number
        errors.append(CesqlError(CAST, f"cannot cast {to_string(value)!r} to Integer"))
        return 0
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    errors.append(CesqlError(CAST, f"cannot cast {type_name(value)} {to_string(value)!r} to "
                                   "Boolean"))
    return False
