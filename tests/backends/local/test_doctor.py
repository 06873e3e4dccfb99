"""`Session.doctor()` on the real local backend: the supervisor, the broker ingress, and
what the namespace's objects say."""

from __future__ import annotations

from seldon_jupyter import resources
from seldon_jupyter.backends.local import LocalBackend
from seldon_jupyter.session import Session


def test_local_doctor_probes_the_real_ingress(session, ns):
    diagnosis = session.doctor()
    local = next(c for c in diagnosis.checks if c.area == "local")
    assert local.state == "ok" and "control API http://127.0.0.1:" in local.detail
    probe = next(c for c in diagnosis.checks if c.check == "Broker default")
    assert probe.area == "broker" and probe.state == "ok" and "got 400" in probe.detail
    dropped = next(c for c in diagnosis.checks if c.area == "resources")
    assert dropped.state == "warn" and "no Trigger on this Broker" in dropped.detail
    session.apply(resources.trigger("to-nothing", namespace=ns, broker="missing",
                                    uri="http://127.0.0.1:9/"))
    orphan = next(c for c in session.doctor().checks if c.check == "Trigger to-nothing")
    assert orphan.state == "fail" and orphan.fix == "session.ensure_broker('missing')"


def test_local_doctor_does_not_start_a_stopped_cluster(tmp_path):
    backend = LocalBackend(tmp_path / "cold", start=False)
    try:
        diagnosis = Session(backend).doctor()
        assert backend.running() is None  # checking started nothing
    finally:
        backend.close()
    assert diagnosis.ok
    assert [(c.area, c.state) for c in diagnosis.checks][0] == ("local", "warn")
    assert diagnosis.checks[0].fix == "session.start()"
