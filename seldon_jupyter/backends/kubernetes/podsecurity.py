"""Would PodSecurity `restricted` admit this pod template? What the doctor checks a sink
Deployment against before its ReplicaSet is refused pods.

The rules are the Pod Security Standards' `restricted` profile, as the admission plugin
words them (`violates PodSecurity "restricted:latest": ...`): not privileged, no
privilege escalation, all capabilities dropped (NET_BIND_SERVICE may be added back),
runAsNonRoot and not UID 0, a RuntimeDefault or Localhost seccomp profile, and only the
restricted volume types.
"""

from __future__ import annotations

from typing import Any

ENFORCE = "pod-security.kubernetes.io/enforce"
VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
           "persistentVolumeClaim", "projected", "secret"}


def violations(template: dict[str, Any]) -> list[str]:
    """What `restricted` refuses in a pod template (empty: it is admitted)."""
    spec = template.get("spec") or {}
    pod_ctx = spec.get("securityContext") or {}
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    found: list[str] = []

    def each(test: Any) -> list[str]:
        return [str(c.get("name", "?")) for c in containers if test(c.get("securityContext")
                                                                    or {})]
    bad = each(lambda c: c.get("privileged") is True)
    if bad:
        found.append(f"privileged (containers {_names(bad)} must not set privileged=true)")
    bad = each(lambda c: c.get("allowPrivilegeEscalation") is not False)
    if bad:
        found.append(f"allowPrivilegeEscalation != false (containers {_names(bad)} must set "
                     "securityContext.allowPrivilegeEscalation=false)")
    bad = each(lambda c: "ALL" not in ((c.get("capabilities") or {}).get("drop") or []))
    if bad:
        found.append(f"unrestricted capabilities (containers {_names(bad)} must set "
                     'securityContext.capabilities.drop=["ALL"])')
    bad = each(lambda c: set((c.get("capabilities") or {}).get("add") or [])
               - {"NET_BIND_SERVICE"})
    if bad:
        found.append(f"unrestricted capabilities (containers {_names(bad)} may add only "
                     "NET_BIND_SERVICE)")
    bad = each(lambda c: not c.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")))
    if bad:
        found.append(f"runAsNonRoot != true (pod or containers {_names(bad)} must set "
                     "securityContext.runAsNonRoot=true)")
    bad = each(lambda c: c.get("runAsUser", pod_ctx.get("runAsUser")) == 0)
    if bad:
        found.append(f"runAsUser=0 (pod or containers {_names(bad)} must not run as UID 0)")
    bad = each(lambda c: ((c.get("seccompProfile") or pod_ctx.get("seccompProfile") or {})
                          .get("type")) not in ("RuntimeDefault", "Localhost"))
    if bad:
        found.append(f"seccompProfile (pod or containers {_names(bad)} must set "
                     'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')
    volumes = [v for v in spec.get("volumes") or [] if not set(v) - {"name"} <= VOLUMES]
    if volumes:
        found.append("restricted volume types (volumes "
                     f"{_names([str(v.get('name')) for v in volumes])} use a type restricted "
                     "does not allow)")
    return found


def _names(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)
