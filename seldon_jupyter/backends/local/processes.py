"""Child processes of the local supervisor (the broker, one per predictor), like pods.

A child announces `{"port": N}` on stdout once it listens, or `{"error": ...}` when it
cannot start (a model that does not load). One that dies after it was running is
restarted on the same port with a growing back-off, as a kubelet would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from seldon_jupyter.backends.local import owners

STARTING, RUNNING, FAILED, STOPPED = "starting", "running", "failed", "stopped"
START_TIMEOUT = 180.0
MAX_BACKOFF = 10.0


class Child:
    """One supervised process running `python -m <module> <args> --port <port>`."""

    def __init__(self, name: str, module: str, args: Sequence[str], *, log: Path,
                 env: dict[str, str], on_change: Callable[[], None], port: int = 0,
                 home: Path | None = None) -> None:
        self.name = name
        self.home = home  # where its pid file goes (owners.record), if anywhere
        self.module = module
        self.args = list(args)
        self.log = log
        self.env = env
        self.on_change = on_change
        self.port = port
        self.state = STOPPED
        self.error: str | None = None
        self.note: str | None = None
        self.restarts = 0
        self.proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[Any] | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run())

    async def _spawn(self) -> bool:
        self.state, self.error = STARTING, None
        self.on_change()
        with open(self.log, "ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", self.module, *self.args, "--port", str(self.port),
                stdout=asyncio.subprocess.PIPE, stderr=log, env={**os.environ, **self.env})
        if self.home is not None:
            owners.record(self.home, self.name, self.proc.pid)
        assert self.proc.stdout is not None
        try:
            async with asyncio.timeout(START_TIMEOUT):
                while line := await self.proc.stdout.readline():
                    message = json.loads(line)
                    if "loaded" in message:
                        self.note = message["loaded"]
                    if "port" in message:
                        self.port, self.state = int(message["port"]), RUNNING
                        self.on_change()
                        return True
                    if "error" in message:
                        hint = f" (hint: {message['hint']})" if message.get("hint") else ""
                        self.error = message["error"] + hint
        except (TimeoutError, ValueError):
            self.error = self.error or f"{self.name} did not start within {START_TIMEOUT:g}s"
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        await self._reap()
        if self.error is None:
            self.error = (f"{self.name} exited with code {self.proc.returncode} before it "
                          f"listened; see {self.log}")
        self.state = FAILED
        self.on_change()
        return False

    async def _run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            if not await self._spawn():
                return
            await self._reap()
            assert self.proc is not None
            if self._stopping:
                break
            self.restarts += 1
            self.state = STARTING
            self.error = f"{self.name} exited with code {self.proc.returncode}; restarting"
            self.on_change()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
        self.state = STOPPED

    async def _reap(self) -> None:
        assert self.proc is not None
        await self.proc.wait()
        if self.home is not None:
            owners.forget(self.home, self.name, self.proc.pid)

    async def stop(self) -> None:
        self._stopping = True
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
            await self._reap()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.state = STOPPED
