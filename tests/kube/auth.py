"""Who is asking, and may they: authentication, RBAC and API Priority and Fairness.

As kube-apiserver decides it: a client certificate signed by the cluster CA names the user
(CN) and group (O), a bearer token names the user it was issued to (an expired one is 401);
a signed token (`sign`, as an OIDC ID token or an exec plugin's token carries its own
user and expiry) is checked against the signing key and its own expiry;
a request with neither is `system:anonymous`, which may read only /version and /healthz
(system:public-info-viewer) and is 403 everywhere else. Every other user is in the group
`system:authenticated` (and a certificate's O names one more); what they may do is RBAC's
decision from the cluster's Roles and bindings (tests/kube/rbac.py). RBAC denials read
`cannot <verb> resource "<r>"`; a user sending more than `rate` requests a second (watches excluded)
gets 429 with Retry-After, as APF throttles a 10 Hz poller.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections import deque
from typing import Any

from tests.kube.rbac import AUTHENTICATED, Ask, allows

ANONYMOUS = "system:anonymous"
PUBLIC = ("/version", "/healthz", "/livez", "/readyz")


def peer_identity(transport: Any) -> tuple[str, tuple[str, ...]] | None:
    """(user, groups) of a verified client certificate: its CN and O, as kube reads them."""
    cert = transport.get_extra_info("peercert") if transport is not None else None
    if not cert:
        return None
    fields = [(key, str(value)) for rdn in cert.get("subject", ()) for key, value in rdn]
    names = [v for k, v in fields if k == "commonName"]
    groups = tuple(v for k, v in fields if k == "organizationName")
    return (names[0], groups) if names else None


class Authority:
    def __init__(self, rate: float = 25.0) -> None:
        self.tokens: dict[str, tuple[str, float]] = {}  # token -> (user, expires at)
        # (verb, resource[/sub]) refused to everyone, whatever RBAC says (a test's knob)
        self.forbidden: set[tuple[str, str]] = set()
        self.groups: dict[str, tuple[str, ...]] = {}  # user -> groups, as last authenticated
        self.rate = rate
        self.recent: dict[str, deque[float]] = {}
        self.throttled = 0
        self.key = os.urandom(16)
        self.seen: set[str] = set()  # every bearer token that authenticated

    def sign(self, user: str, expires: float) -> str:
        """A self-contained token for `user` valid until `expires` (Unix time)."""
        return sign(self.key, user, expires)

    def issue(self, token: str, user: str = "tester", ttl: float = 3600.0) -> None:
        self.tokens[token] = (user, time.time() + ttl)

    def identify(self, headers: Any, transport: Any) -> tuple[str | None, str]:
        """(user, problem): user None with a problem means 401. The user's groups are
        kept in `groups` for the authorizer."""
        user, extra, problem = self._identify(headers, transport)
        if user is not None and user != ANONYMOUS:
            self.groups[user] = (AUTHENTICATED, *extra)
        return user, problem

    def _identify(self, headers: Any, transport: Any
                  ) -> tuple[str | None, tuple[str, ...], str]:
        auth = headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth.count(".") == 2:
            user, millis, _ = auth[7:].split(".")
            if not millis.isdigit() or not hmac.compare_digest(
                    sign(self.key, user, int(millis) / 1000), auth[7:]):
                return None, (), "invalid bearer token"
            if int(millis) / 1000 < time.time():
                return None, (), "token has expired"
            self.seen.add(auth[7:])
            return user, (), ""
        if auth.startswith("Bearer "):
            found = self.tokens.get(auth[7:])
            if found is None:
                return None, (), "invalid bearer token"
            if found[1] < time.time():
                return None, (), "token has expired"
            return found[0], (), ""
        peer = peer_identity(transport)
        if peer is None:
            return ANONYMOUS, (), ""
        return peer[0], tuple(g for g in peer[1] if g != AUTHENTICATED), ""

    def allowed(self, objects: dict[Any, dict], user: str, ask: Ask) -> bool:
        if user == ANONYMOUS:
            return False
        combined = ask.resource + (f"/{ask.subresource}" if ask.subresource else "")
        if (ask.verb, combined) in self.forbidden:
            return False
        return allows(objects, user, self.groups.get(user, (AUTHENTICATED,)), ask)

    def throttle(self, user: str) -> bool:
        """True when this request is one too many for the last second."""
        now = time.monotonic()
        window = self.recent.setdefault(user, deque())
        while window and window[0] < now - 1.0:
            window.popleft()
        if len(window) >= self.rate:
            self.throttled += 1
            return True
        window.append(now)
        return False


def forbidden_message(user: str, verb: str, resource: str, group: str, namespace: str | None,
                      name: str | None) -> str:
    plural, _, sub = resource.partition("/")
    what = f'{plural}{"." + group if group else ""}' + (f' "{name}"' if name else "")
    where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    return (f'{what} is forbidden: User "{user}" cannot {verb} resource "{plural}'
            f'{"/" + sub if sub else ""}" in API group "{group}"{where}')


def sign(key: bytes, user: str, expires: float) -> str:
    body = f"{user}.{int(expires * 1000)}"
    return f"{body}.{hmac.new(key, body.encode(), hashlib.sha256).hexdigest()}"
