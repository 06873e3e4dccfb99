"""The API double's storage: objects with kube-apiserver's write semantics, and watches.

What a real API server does and a home-made stand-in easily gets wrong, held here:
resourceVersion rises on every write and a stale one on PUT is 409 Conflict;
`metadata.generation` rises only when something other than metadata or status changed;
the status subresource means a create or update never writes status (a PUT keeps the
stored one until a controller writes it); a PUT replaces labels, annotations and the rest
of metadata with the body's; server-side apply (`fieldManager`) merges and owns only the
fields it sent, with 409 conflicts against other managers unless forced; every change is
an event that `watch` replays from a resourceVersion.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

Key = tuple[str, str, str]  # plural, namespace ("" when cluster-scoped), name
Path = tuple[str, ...]
KEPT_EVENTS = 2000  # older events are compacted away: a watch from before is 410 Gone
SERVER_META = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields")


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def leaves(obj: Any, prefix: Path = ()) -> dict[Path, Any]:
    """The fields a manager can own: maps are walked, lists and scalars are atomic."""
    if not isinstance(obj, dict) or not obj:
        return {prefix: obj}
    out: dict[Path, Any] = {}
    for k, v in obj.items():
        if not prefix and k in ("status", "apiVersion", "kind"):
            continue
        if prefix == ("metadata",) and k not in ("labels", "annotations"):
            continue
        out.update(leaves(v, (*prefix, k)))
    return out


def _set(obj: dict, path: Path, value: Any) -> None:
    for k in path[:-1]:
        obj = obj.setdefault(k, {})
    obj[path[-1]] = copy.deepcopy(value)


def _unset(obj: dict, path: Path) -> None:
    parents = []
    for k in path[:-1]:
        if not isinstance(obj.get(k), dict):
            return
        parents.append((obj, k))
        obj = obj[k]
    obj.pop(path[-1], None)
    for parent, k in reversed(parents):  # drop maps left empty
        if parent[k] == {}:
            del parent[k]


def _fields_v1(paths: list[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for k in path:
            node = node.setdefault(f"f:{k}", {})
    return tree


def _spec_of(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


class Conflict(Exception):
    def __init__(self, manager: str, paths: list[Path], api_version: str) -> None:
        self.paths = paths
        fields = "\n".join("- ." + ".".join(p) for p in paths)
        super().__init__(f"Apply failed with {len(paths)} conflict"
                         f"{'s' if len(paths) > 1 else ''}: conflict with \"{manager}\" "
                         f"using {api_version}:\n{fields}")


class Store:
    def __init__(self) -> None:
        self.objects: dict[Key, dict] = {}
        self.owners: dict[Key, dict[Path, str]] = {}
        self.version = 0
        self.events: list[tuple[int, str, Key, dict]] = []
        self._changed: asyncio.Condition | None = None

    # -- reads ------------------------------------------------------------------------------

    def get(self, key: Key) -> dict | None:
        obj = self.objects.get(key)
        return copy.deepcopy(obj) if obj is not None else None

    def items(self, plural: str, namespace: str | None) -> list[dict]:
        return [copy.deepcopy(o) for (p, ns, _), o in sorted(self.objects.items())
                if p == plural and (namespace is None or ns == namespace)]

    # -- writes -----------------------------------------------------------------------------

    def _commit(self, key: Key, obj: dict | None, kind: str) -> dict | None:
        self.version += 1
        if obj is None:
            old = self.objects.pop(key)
            self.owners.pop(key, None)
            old["metadata"]["resourceVersion"] = str(self.version)
            stored = old
        else:
            obj["metadata"]["resourceVersion"] = str(self.version)
            owners = self.owners.get(key, {})
            by_manager: dict[str, list[Path]] = {}
            for path, manager in sorted(owners.items()):
                by_manager.setdefault(manager, []).append(path)
            obj["metadata"]["managedFields"] = [
                {"manager": m.split("|")[0], "operation": m.split("|")[1],
                 "apiVersion": obj.get("apiVersion", ""), "fieldsType": "FieldsV1",
                 "time": now(), "fieldsV1": _fields_v1(paths)}
                for m, paths in by_manager.items()]
            self.objects[key] = obj
            stored = obj
        self.events.append((self.version, kind, key, copy.deepcopy(stored)))
        del self.events[:-KEPT_EVENTS]
        self._notify()
        return copy.deepcopy(obj) if obj is not None else None

    def _notify(self) -> None:
        if self._changed is None:
            return
        cond = self._changed

        async def wake() -> None:
            async with cond:
                cond.notify_all()
        asyncio.get_running_loop().create_task(wake())

    def create(self, key: Key, body: dict, manager: str, operation: str = "Update") -> dict:
        meta = body["metadata"]
        meta.update(uid=str(uuid.uuid4()), generation=1, creationTimestamp=now())
        body.pop("status", None)  # the status subresource: only controllers write it
        self.owners[key] = {p: f"{manager}|{operation}" for p in leaves(body)}
        out = self._commit(key, body, "ADDED")
        assert out is not None
        return out

    def replace(self, key: Key, body: dict, manager: str) -> dict:
        """PUT: the body replaces spec and metadata (labels, annotations, finalizers,
        ownerReferences); server fields and the stored status are kept."""
        current = self.objects[key]
        meta = body["metadata"]
        for field in ("uid", "creationTimestamp"):
            meta[field] = current["metadata"][field]
        changed = _spec_of(body) != _spec_of(current)
        meta["generation"] = current["metadata"]["generation"] + int(changed)
        body.pop("status", None)
        if "status" in current:
            body["status"] = copy.deepcopy(current["status"])
        old, new = leaves(current), leaves(body)
        owners = {p: m for p, m in self.owners.get(key, {}).items() if p in new}
        owners.update({p: f"{manager}|Update" for p, v in new.items() if old.get(p) != v})
        self.owners[key] = owners
        out = self._commit(key, body, "MODIFIED")
        assert out is not None
        return out

    def apply(self, key: Key, applied: dict, manager: str, *, force: bool,
              admit: Any = None) -> tuple[dict, bool]:
        """Server-side apply of `applied` by `manager`; (object, created). `admit` (the
        mutating admission) defaults the merged object; what it adds nobody owns."""
        admit = admit or (lambda _obj: None)
        me = f"{manager}|Apply"
        applied = {k: v for k, v in applied.items() if k != "status"}
        wanted = leaves(applied)
        current = self.objects.get(key)
        if current is None:
            body = copy.deepcopy(applied)
            body["metadata"] = {k: v for k, v in body["metadata"].items()
                                if k not in SERVER_META}
            admit(body)
            made = self.create(key, body, manager, "Apply")
            self.owners[key] = {p: me for p in wanted}
            return made, True
        owners = dict(self.owners.get(key, {}))
        have = leaves(current)
        clashing = [p for p, v in wanted.items()
                    if owners.get(p, me) != me and have.get(p) != v]
        if clashing and not force:
            other = owners[clashing[0]].split("|")[0]
            raise Conflict(other, clashing, current.get("apiVersion", ""))
        merged = copy.deepcopy(current)
        for path, owner in list(owners.items()):
            if owner == me and path not in wanted:  # no longer applied: let go
                _unset(merged, path)
                del owners[path]
        for path, value in wanted.items():
            _set(merged, path, value)
            owners[path] = me
        admit(merged)
        changed = _spec_of(merged) != _spec_of(current)
        merged["metadata"]["generation"] = current["metadata"]["generation"] + int(changed)
        self.owners[key] = owners
        if merged == current:
            return copy.deepcopy(current), False  # a no-op apply writes nothing
        out = self._commit(key, merged, "MODIFIED")
        assert out is not None
        return out, False

    def set_status(self, key: Key, status: dict) -> None:
        """A controller's write to the status subresource (no generation change)."""
        current = self.objects.get(key)
        if current is None or current.get("status") == status:
            return
        current["status"] = copy.deepcopy(status)
        self._commit(key, current, "MODIFIED")

    def delete(self, key: Key) -> dict | None:
        if key not in self.objects:
            return None
        old = copy.deepcopy(self.objects[key])
        self._commit(key, None, "DELETED")
        return old

    # -- watch ------------------------------------------------------------------------------

    async def watch(self, plural: str, namespace: str | None, since: int,
                    timeout: float, name: str | None = None
                    ) -> AsyncIterator[tuple[str, dict]]:
        """(type, object) for every change after resourceVersion `since`, until `timeout`."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        oldest = self.events[0][0] if self.events else self.version + 1
        if since and since < oldest - 1:
            yield "ERROR", {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                            "reason": "Expired", "code": 410,
                            "message": f"too old resource version: {since} ({oldest - 1})"}
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = since
        while True:
            for rv, kind, key, obj in list(self.events):
                if rv <= seen:
                    continue
                seen = rv
                if key[0] == plural and (namespace is None or key[1] == namespace) and (
                        name is None or key[2] == name):
                    yield kind, copy.deepcopy(obj)
            left = deadline - loop.time()
            if left <= 0:
                return
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    return
