"""The controllers and admission the API double plays: Knative, Seldon v1, Deployments.

They act as the real ones do, seen from the API: admission defaults the Broker (class
annotation and the cluster's `config-br-defaults` delivery: retry 10, exponential,
PT0.2S); every reconcile runs `lag` seconds after the write that caused it, so a client
reading right after a write sees the stale status; Knative kinds report
`observedGeneration`; Seldon v1 never does, and on every new spec goes through
`Creating` before `Available` (or `Failed` with the reason the real data plane behind the
double gives). A Trigger's `subscriber.ref` to a SeldonDeployment resolves only when a
ClusterRole labelled `duck.knative.dev/addressable: "true"` grants get/list/watch on
seldondeployments, as Knative's addressable resolver needs; without one the Trigger says
so in `SubscriberResolved` (the same for a KServe InferenceService: KServe does not ship
the role either). An InferenceService is Ready once its predictor serves, with its
cluster-local root as `address.url`.
"""

from __future__ import annotations

from typing import Any

from tests.kube.store import Key, Store, now

BROKER_CLASS = "eventing.knative.dev/broker.class"
DEFAULT_DELIVERY = {"retry": 10, "backoffPolicy": "exponential", "backoffDelay": "PT0.2S"}
INGRESS = {"MTChannelBasedBroker": "broker-ingress", "Kafka": "kafka-broker-ingress"}
ADDRESSABLE = "duck.knative.dev/addressable"
SELDON_GROUP = "machinelearning.seldon.io"
KSERVE_GROUP = "serving.kserve.io"
# what a Trigger's ref to each kind needs: the group and resource an addressable ClusterRole
# must grant (KServe does not ship one either: its docs apply addressable-resolver.yaml)
RESOLVED_BY = {"SeldonDeployment": (SELDON_GROUP, "seldondeployments"),
               "InferenceService": (KSERVE_GROUP, "inferenceservices")}


def admit(plural: str, body: dict) -> None:
    """Mutating admission (Knative's webhook defaults)."""
    if plural == "brokers":
        meta = body.setdefault("metadata", {})
        meta.setdefault("annotations", {}).setdefault(BROKER_CLASS, "MTChannelBasedBroker")
        spec = body.setdefault("spec", {})
        spec["delivery"] = {**DEFAULT_DELIVERY, **(spec.get("delivery") or {})}
    elif plural == "triggers":
        body.setdefault("spec", {}).setdefault("broker", "default")


def _condition(kind: str, ok: bool | None, reason: str = "", message: str = "") -> dict:
    cond = {"type": kind, "status": {True: "True", False: "False", None: "Unknown"}[ok],
            "lastTransitionTime": now()}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def addressable_role(store: Store, group: str, resource: str) -> bool:
    for role in store.items("clusterroles", ""):
        if (role["metadata"].get("labels") or {}).get(ADDRESSABLE) != "true":
            continue
        for rule in role.get("rules") or []:
            if (group in rule.get("apiGroups", []) and resource in rule.get("resources", [])
                    and {"get", "list", "watch"} <= set(rule.get("verbs", []))):
                return True
    return False


class Controllers:
    """Reconciles one object at a time; the API server schedules `reconcile` after `lag`."""

    def __init__(self, store: Store, mirror: Any = None) -> None:
        self.store = store
        self.mirror = mirror  # the local data plane behind the double, or None
        self.pods_ready: Any = lambda ns, name: (False, "")  # set by the API server
        self.operated: dict[Key, int] = {}  # the Seldon operator's last generation seen

    def reconcile(self, key: Key) -> float | None:
        """Write the status for `key`; returns seconds until it wants to run again."""
        obj = self.store.get(key)
        if obj is None:
            return None
        plural = key[0]
        if plural == "brokers":
            self.store.set_status(key, self._broker(obj))
        elif plural == "triggers":
            self.store.set_status(key, self.trigger_status(obj))
        elif plural == "seldondeployments":
            return self._seldon(key, obj)
        elif plural == "inferenceservices":
            return self._kserve(key, obj)
        elif plural == "deployments":
            ready, reason = self.pods_ready(key[1], key[2])
            conditions = [_condition("Available", ready,
                                     "" if ready else "MinimumReplicasUnavailable", reason)]
            if "forbidden" in reason:  # the ReplicaSet could not create its pod
                conditions.append(_condition("ReplicaFailure", True, "FailedCreate", reason))
            self.store.set_status(key, {
                "observedGeneration": obj["metadata"]["generation"], "replicas": 1,
                "readyReplicas": int(ready), "conditions": conditions})
        return None

    def _broker(self, obj: dict) -> dict:
        ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
        cls = obj["metadata"].get("annotations", {}).get(BROKER_CLASS, "MTChannelBasedBroker")
        ingress = INGRESS.get(cls)
        generation = obj["metadata"]["generation"]
        if ingress is None:
            return {"observedGeneration": generation, "conditions": [_condition(
                "Ready", None, "BrokerClassUnknown", f"no controller for broker class {cls}")]}
        return {"observedGeneration": generation,
                "address": {"name": "http", "url":
                            f"http://{ingress}.knative-eventing.svc.cluster.local/{ns}/{name}"},
                "conditions": [_condition(t, True) for t in
                               ("Addressable", "FilterReady", "IngressReady", "Ready",
                                "TriggerChannelReady")]}

    def trigger_status(self, obj: dict) -> dict:
        ns, spec = obj["metadata"]["namespace"], obj["spec"]
        generation = obj["metadata"]["generation"]

        def failed(kind: str, reason: str, message: str) -> dict:
            return {"observedGeneration": generation, "conditions": [
                _condition(kind, False, reason, message),
                _condition("Ready", False, reason, message)]}
        broker = self.store.get(("brokers", ns, spec.get("broker", "default")))
        if broker is None:
            return failed("BrokerReady", "BrokerDoesNotExist",
                          f'Broker "{spec.get("broker", "default")}" does not exist')
        sub = spec.get("subscriber", {})
        ref, uri = sub.get("ref"), sub.get("uri")
        base = None
        if ref:
            ref_ns = ref.get("namespace", ns)
            if ref["kind"] in RESOLVED_BY:
                group, resource = RESOLVED_BY[ref["kind"]]
                if not addressable_role(self.store, group, resource):
                    return failed(
                        "SubscriberResolved", "Unable to get the Subscriber's URI",
                        f'failed to get object {ref_ns}/{ref["name"]}: {resource}.'
                        f'{group} "{ref["name"]}" is forbidden: User "system:'
                        'serviceaccount:knative-eventing:eventing-controller" cannot get '
                        f'resource "{resource}" in API group "{group}" in the '
                        f'namespace "{ref_ns}"')
                target = self.store.get((resource, ref_ns, ref["name"]))
                base = ((target or {}).get("status") or {}).get("address", {}).get("url")
            elif ref["kind"] == "Service":
                if self.store.get(("services", ref_ns, ref["name"])) is not None:
                    base = f"http://{ref['name']}.{ref_ns}.svc.cluster.local/"
            if base is None:
                return failed("SubscriberResolved", "Unable to get the Subscriber's URI",
                              f'{ref["kind"]} {ref_ns}/{ref["name"]} has no address')
        url = uri if uri and not base else (base.rstrip("/") + uri if uri else base)
        return {"observedGeneration": generation, "subscriberUri": url,
                "conditions": [_condition(t, True) for t in
                               ("BrokerReady", "DependencyReady", "SubscriberResolved",
                                "SubscriptionReady", "Ready")]}

    def _seldon(self, key: Key, obj: dict) -> float | None:
        _, ns, name = key
        status = obj.get("status") or {}
        generation = obj["metadata"]["generation"]
        if self.operated.get(key) != generation:  # a new spec: the operator starts over
            self.operated[key] = generation
            self.store.set_status(key, {"state": "Creating", "description": "",
                                        "conditions": [_condition("Ready", False)]})
            return 0.3
        if status.get("state") != "Creating":
            return None
        reason, ready = "", True
        if self.mirror is not None:
            try:
                local = self.mirror.get("SeldonDeployment", name, ns)
            except Exception as exc:  # noqa: BLE001 - the mirror has not got it yet
                local, reason = None, str(exc)
            if local is not None and local.failed:
                self.store.set_status(key, {**status, "state": "Failed",
                                            "description": local.reason})
                return None
            ready = local is not None and local.ready
        if not ready:
            return 0.3
        first = obj["spec"]["predictors"][0]
        # the operator's utils.GetPredictionPath: V2 (and kfserving) deployments are
        # addressed at their first graph's infer endpoint, TensorFlow at :predict
        protocol, graph = obj["spec"].get("protocol"), first["graph"]["name"]
        path = {"v2": f"/v2/models/{graph}/infer", "kfserving": f"/v2/models/{graph}/infer",
                "tensorflow": f"/v1/models/{graph}:predict"}.get(protocol,
                                                                 "/api/v1.0/predictions")
        self.store.set_status(key, {
            **status, "state": "Available", "description": reason, "replicas": 1,
            "address": {"url": f"http://{name}-{first['name']}.{ns}.svc.cluster.local:8000"
                               f"{path}"},
            "conditions": [_condition(t, True) for t in
                           ("DeploymentsReady", "ServicesReady", "Ready")]})
        return None

    def _kserve(self, key: Key, obj: dict) -> float | None:
        """KServe's controller: Ready once the predictor serves (the data plane's answer),
        `url` and `address.url` the service's cluster-local root, observedGeneration."""
        _, ns, name = key
        generation = obj["metadata"]["generation"]
        status = obj.get("status") or {}
        if status.get("observedGeneration") != generation:
            self.store.set_status(key, {"observedGeneration": generation, "conditions": [
                _condition(t, None) for t in ("PredictorReady", "IngressReady", "Ready")]})
            return 0.3
        ready = True
        if self.mirror is not None:
            try:
                local = self.mirror.get("InferenceService", name, ns)
            except Exception:  # noqa: BLE001 - the mirror has not got it yet
                return 0.3
            if not local.ready and "PredictorFailed" in local.reason:
                self.store.set_status(key, {"observedGeneration": generation, "conditions": [
                    _condition(t, False, "PredictorFailed", local.reason)
                    for t in ("PredictorReady", "Ready")]})
                return None
            ready = local.ready
        if not ready:
            return 0.3
        root = f"http://{name}.{ns}.svc.cluster.local"
        self.store.set_status(key, {
            "observedGeneration": generation, "url": root, "address": {"url": root},
            "components": {"predictor": {"latestReadyRevision": f"{name}-predictor-00001"}},
            "modelStatus": {"states": {"activeModelState": "Loaded"}},
            "conditions": [_condition(t, True) for t in
                           ("IngressReady", "PredictorReady", "Ready")]})
        return None
