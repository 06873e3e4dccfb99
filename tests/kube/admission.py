"""Pod Security admission as the double plays it (the `restricted` level only).

A namespace labelled `pod-security.kubernetes.io/enforce: restricted` admits a pod only if
it runs as non-root (and not UID 0), forbids privilege escalation, drops ALL capabilities
and has a RuntimeDefault or Localhost seccomp profile. A Deployment that breaks this is
still stored (admission checks pods, not their controllers), but its ReplicaSet gets no
pod: the Deployment reports `ReplicaFailure` with the refusal, worded as the admission
plugin words it: `pods "<name>" is forbidden: violates PodSecurity "restricted:latest": ...`.
"""

from __future__ import annotations

ENFORCE = "pod-security.kubernetes.io/enforce"


def refusal(namespace: dict | None, template: dict, pod_name: str) -> str | None:
    """The FailedCreate message for a pod of `template`, or None when it is admitted."""
    labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
    if labels.get(ENFORCE) != "restricted":
        return None
    spec = template.get("spec") or {}
    pod = spec.get("securityContext") or {}
    names = [c.get("name", "") for c in spec.get("containers") or []]
    contexts = {c.get("name", ""): c.get("securityContext") or {}
                for c in spec.get("containers") or []}
    problems = []
    escalating = [n for n in names if contexts[n].get("allowPrivilegeEscalation") is not False]
    if escalating:
        problems.append(f"allowPrivilegeEscalation != false ({_who(escalating)} must set "
                        "securityContext.allowPrivilegeEscalation=false)")
    capable = [n for n in names
               if "ALL" not in (contexts[n].get("capabilities") or {}).get("drop", [])]
    if capable:
        problems.append(f"unrestricted capabilities ({_who(capable)} must set "
                        'securityContext.capabilities.drop=["ALL"])')
    rooted = [n for n in names if not contexts[n].get("runAsNonRoot", pod.get("runAsNonRoot"))]
    if rooted:
        problems.append(f"runAsNonRoot != true (pod or {_who(rooted)} must set "
                        "securityContext.runAsNonRoot=true)")
    unconfined = [n for n in names if (contexts[n].get("seccompProfile") or pod.get(
        "seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost")]
    if unconfined:
        problems.append(f"seccompProfile (pod or {_who(unconfined)} must set "
                        'securityContext.seccompProfile.type to "RuntimeDefault" or '
                        '"Localhost")')
    if not problems:
        return None
    return (f'pods "{pod_name}" is forbidden: violates PodSecurity "restricted:latest": '
            + ", ".join(problems))


def _who(names: list[str]) -> str:
    quoted = ", ".join(f'"{n}"' for n in names)
    return f"container {quoted}" if len(names) == 1 else f"containers {quoted}"
