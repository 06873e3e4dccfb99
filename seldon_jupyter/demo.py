"""The seed walkthrough, end to end on the local backend: what `make demo` runs.

Deploys `iris-deployment`, a Trigger on `seldon.iris-deployment.default.request`, the
event-display collector with a Trigger on the response type and source, sends the seed's
payload (also with the seed's literal curl command when curl is installed) and a batch of
iris rows, and prints the response DataFrame.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pandas as pd
from sklearn.datasets import load_iris

from seldon_jupyter.errors import SeldonJupyterError
from seldon_jupyter.naming import request_type, response_type
from seldon_jupyter.session import Session

SEED = """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: default
---
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: iris-deployment
spec:
  predictors:
  - graph:
      implementation: SKLEARN_SERVER
      modelUri: gs://seldon-models/v1.13.0-dev/sklearn/iris
      name: simple-iris-model
      children: []
    name: default
    replicas: 1
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: seldon-eventing-sklearn-trigger
spec:
  broker: default
  filter:
    attributes:
      type: seldon.iris-deployment.default.request
  subscriber:
    ref:
      apiVersion: machinelearning.seldon.io/v1
      kind: SeldonDeployment
      name: iris-deployment
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: event-display
spec:
  replicas: 1
  selector:
    matchLabels: &labels
      app: event-display
  template:
    metadata:
      labels: *labels
    spec:
      containers:
        - name: helloworld-python
          image: gcr.io/knative-releases/github.com/knative/eventing-sources/cmd/event_display
---
kind: Service
apiVersion: v1
metadata:
  name: event-display
spec:
  selector:
    app: event-display
  ports:
    - protocol: TCP
      port: 80
      targetPort: 8080
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: event-display
spec:
  broker: default
  filter:
    attributes:
      type: seldon.iris-deployment.default.response
      source: seldon.iris-deployment
  subscriber:
    ref:
      apiVersion: v1
      kind: Service
      name: event-display
"""

SEED_BODY = '{"data": { "ndarray": [[1,2,3,4]]}}'


def curl_command(url: str) -> list[str]:
    """The seed's curl, pointed at the local broker instead of the cluster's."""
    return ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", url,
            "-H", "Ce-Id: 536808d3-88be-4077-9d7a-a3f162705f79",
            "-H", "Ce-specversion: 0.3",
            "-H", "Ce-Type: seldon.iris-deployment.default.request",
            "-H", "Ce-Source: seldon.examples.streaming.curl",
            "-H", "Content-Type: application/json",
            "-d", SEED_BODY]


def run(session: Session) -> pd.DataFrame:
    print("1. applying the walkthrough's manifests (Broker, SeldonDeployment, Triggers, "
          "event-display)")
    for res in session.apply(SEED, wait=True, timeout=180):
        print(f"   {res.kind:<17} {res.name:<32} {res.state:<10} {res.address or ''}")
    since = time.time()
    url = session.broker_url()
    print(f"2. broker ingress: {url}")
    expected = 1
    if shutil.which("curl"):
        cmd = curl_command(url)
        code = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
        print(f"   the seed's curl answered HTTP {code.stdout.strip()}")
        expected += 1
    sent = session.send({"data": {"ndarray": [[1, 2, 3, 4]]}},
                        type=request_type("iris-deployment"),
                        source="seldon.examples.streaming.curl", specversion="0.3")
    print(f"   Session.send -> HTTP {sent.status}, id {sent.id}")
    X = load_iris(as_frame=True).data
    batch = session.send_many(X, type=request_type("iris-deployment"))
    expected += batch.sent
    print(f"3. send_many: {batch.sent} iris rows in {batch.elapsed_s:.2f}s "
          f"({batch.rate:.0f} events/s), {batch.failed} failed")
    frame = session.responses(type=response_type("iris-deployment"), since=since,
                              wait=60, count=expected)
    print(f"4. {len(frame)} response events collected by event-display")
    return frame


def main() -> int:
    try:
        with Session() as session:
            frame = run(session)
    except SeldonJupyterError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    shown = frame[["id", "type", "source", "request_id", "latency_ms", "t:0", "t:1", "t:2"]]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(shown.tail(10).to_string(index=False))
        print("\nlatency (ms):", shown["latency_ms"].describe()[["mean", "50%", "max"]].round(2)
              .to_dict())
    print("\nThe local cluster keeps running; stop it with: seldon-jupyter local down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
