"""The versions of Knative Eventing and Seldon Core v1 the kit supports, and how to install
them: one home for what the doctor's fixes and the README's "Run it on a real cluster" say.
"""

from __future__ import annotations

KNATIVE_EVENTING = "knative-v1.22.0"
SELDON_CORE = "1.18.2"
_RELEASES = f"https://github.com/knative/eventing/releases/download/{KNATIVE_EVENTING}"

KNATIVE_INSTALL = "\n".join(
    f"kubectl apply -f {_RELEASES}/{f}.yaml"
    for f in ("eventing-crds", "eventing-core", "in-memory-channel", "mt-channel-broker"))
SELDON_INSTALL = (
    "helm install seldon-core seldon-core-operator "
    "--repo https://storage.googleapis.com/seldon-charts "
    f"--version {SELDON_CORE} --namespace seldon-system --create-namespace "
    "--set usageMetrics.enabled=false")
KSERVE = "v0.21.0"
KSERVE_INSTALL = (  # KServe's quick install needs cert-manager first (its docs)
    f"kubectl apply --server-side -f https://github.com/kserve/kserve/releases/download/"
    f"{KSERVE}/kserve.yaml")
INSTALL = {"eventing.knative.dev": KNATIVE_INSTALL, "machinelearning.seldon.io": SELDON_INSTALL,
           "serving.kserve.io": KSERVE_INSTALL}
