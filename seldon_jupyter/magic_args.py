"""The magics' argument helpers: shared options, key=value pairs, literals and `--since`.

Bad usage is an IPython UsageError naming what was wrong, so `%seldon_...` never ends in a
traceback from deep inside.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pandas as pd
from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument

quiet = argument("-q", "--quiet", action="store_true", help="return nothing")
out = argument("-o", "--out", metavar="VAR", help="also store the result in variable VAR")


def pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} must look like key=value, got {item!r}")
        out[key] = value
    return out


NONE = object()  # no literal on the line


def leading_literal(line: str) -> tuple[Any, str]:
    """A JSON literal at the start of the line (`[[1, 2, 3, 4]] --to iris`) and the rest."""
    text = line.lstrip()
    if not text.startswith(("[", "{")):
        return NONE, line
    try:
        value, end = json.JSONDecoder().raw_decode(text)
    except ValueError as exc:
        raise UsageError(f"the payload {text.split()[0]!r} is not valid JSON: {exc}") from None
    return value, text[end:]


def since(value: str | None, last: float | None) -> Any:
    if value is None:
        return None
    if value == "last":
        if last is None:
            raise UsageError("--since last needs an earlier %seldon_send in this kernel")
        return last
    try:
        return float(value)  # epoch seconds, e.g. from time.time()
    except ValueError:
        pass
    try:
        return time.time() - pd.Timedelta(value).total_seconds()
    except ValueError:
        try:
            return pd.Timestamp(value)
        except ValueError:
            raise UsageError(f"--since {value!r}: give 'last', a duration like 30s or 5min, "
                             "or a timestamp") from None
