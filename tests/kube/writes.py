"""The API double's write path (a mixin of ApiServer): create, update, server-side apply.

In kube-apiserver's order: the body is decoded (apply bodies as YAML, with a required
`fieldManager`), its apiVersion and kind must be the URL's (400), the name the URL's, the
namespace must exist and not be Terminating (a 403 that is not RBAC), the CRD schema of
the URL's version validates (422) and prunes, admission defaults, and the store applies
its semantics (tests/kube/store.py). SelfSubjectAccessReview answers from the same rules
the authorizer uses.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from aiohttp import web

from tests.kube import crd
from tests.kube.answers import status
from tests.kube.controllers import admit
from tests.kube.rbac import Ask
from tests.kube.resources_table import Route
from tests.kube.store import Conflict


async def _decoded(request: web.Request, route: Route, apply: bool,
                   manager: str) -> dict | web.Response:
    """The request's object, or the API server's 4xx for a body it would not take."""
    if apply and request.content_type != "application/apply-patch+yaml":
        return status(415, "UnsupportedMediaType",
                      "the body of the request was in an unknown format - accepted media "
                      "types include: application/apply-patch+yaml")
    if apply and not manager:
        return status(400, "BadRequest", "PATCH, application/apply-patch+yaml: "
                      "fieldManager is required for apply requests")
    text = await request.text()
    try:
        body = yaml.safe_load(text) if apply else json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        return status(400, "BadRequest", f"the body could not be decoded: {exc}")
    if not isinstance(body, dict):
        return status(400, "BadRequest", "the body is not an object")
    if body.get("apiVersion") != route.api_version:
        return status(400, "BadRequest", f"the API version in the data "
                      f"({body.get('apiVersion')}) does not match the expected API version "
                      f"({route.api_version})")
    if body.get("kind") != route.kind:
        return status(400, "BadRequest", f"the kind in the data ({body.get('kind')}) does "
                      f"not match the expected kind ({route.kind})")
    return body


class Writes:
    store: Any
    auth: Any
    schemas: dict
    terminating: set[str]
    _not_found: Any  # ApiServer's
    _after_write: Any  # ApiServer's: kubelet, mirror, reconcile

    async def _write(self, request: web.Request, route: Route) -> web.Response:
        apply = request.method == "PATCH"
        manager = request.query.get("fieldManager", "")
        body = await _decoded(request, route, apply, manager)
        if isinstance(body, web.Response):
            return body
        meta = body.setdefault("metadata", {})
        name = meta.get("name") or route.name
        if route.name and meta.get("name") not in (None, route.name):
            return status(400, "BadRequest", "the name of the object does not match the URL")
        meta["name"] = name
        if route.namespace:
            meta["namespace"] = route.namespace
            if self.store.get(("namespaces", "", route.namespace)) is None:
                return status(404, "NotFound", f'namespaces "{route.namespace}" not found',
                              name=route.namespace, kind="namespaces")
            if route.namespace in self.terminating and request.method != "PUT":
                return status(403, "Forbidden", f'{route.plural} "{name}" is forbidden: unable '
                              f"to create new content in namespace {route.namespace} because "
                              "it is being terminated")
        schema = self.schemas.get(route.plural)
        if schema is not None:
            version = schema["versions"][route.version]["schema"]
            problems = crd.errors(version, body)
            if problems:
                return status(422, "Invalid", f'{route.kind}.{route.group} "{name}" is '
                              f'invalid: {"; ".join(problems)}', causes=problems)
            body = crd.prune(version, body)
        key = (route.plural, route.namespace or "", name)
        try:
            if apply:
                obj, created = self.store.apply(key, body, manager,
                                                force=request.query.get("force") == "true",
                                                admit=lambda o: admit(route.plural, o))
            elif request.method == "POST":
                admit(route.plural, body)
                if self.store.get(key) is not None:
                    return status(409, "AlreadyExists", f'{route.plural}{route.dotted_group} '
                                  f'"{name}" already exists', name=name)
                obj, created = self.store.create(key, body, manager or "unknown"), True
            else:
                current = self.store.get(key)
                if current is None:
                    return self._not_found(route)
                if meta.get("resourceVersion") not in (None, "",
                                                       current["metadata"]["resourceVersion"]):
                    return status(409, "Conflict", f'Operation cannot be fulfilled on '
                                  f'{route.plural}{route.dotted_group} "{name}": the object '
                                  "has been modified; please apply your changes to the latest "
                                  "version and try again")
                admit(route.plural, body)
                obj, created = self.store.replace(key, body, manager or "unknown"), False
        except Conflict as exc:
            return status(409, "Conflict", str(exc))
        self._after_write(route, key, obj)
        return web.json_response(obj, status=201 if created else 200)

    async def _access_review(self, request: web.Request, user: str) -> web.Response:
        body = await request.json()
        attrs = body.get("spec", {}).get("resourceAttributes") or {}
        allowed = self.auth.allowed(self.store.objects, user, Ask(
            attrs.get("verb", ""), attrs.get("group", ""), attrs.get("resource", ""),
            attrs.get("subresource", ""), attrs.get("namespace") or None,
            attrs.get("name") or None))
        body["status"] = {"allowed": allowed, **({} if allowed else {"reason": ""})}
        return web.json_response(body, status=201)
