"""Helpers the tests share (imported from here, never from conftest)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from seldon_jupyter import resources

T = TypeVar("T")


def python_sdep(name: str, cls: str, path: Path, ns: str, **params) -> dict:
    return resources.python_deployment(name, model_class=cls, path=str(path), namespace=ns,
                                       parameters=params or None)


def wait_for(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.05) -> T:
    """Poll until predicate() is truthy (bounded); return its value or fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")


def pid_listening_on(port: int) -> int | None:
    """The pid of the process listening on a loopback port (from /proc)."""
    wanted = f":{port:04X}"
    inodes = set()
    with open("/proc/net/tcp") as handle:
        for line in handle.readlines()[1:]:
            parts = line.split()
            if parts[1].endswith(wanted) and parts[3] == "0A":
                inodes.add(parts[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
        except OSError:
            continue
    return None
