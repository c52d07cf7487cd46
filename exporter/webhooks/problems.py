"""RFC 9457 problem details: every error the control API answers, as one exception type.

Handlers and middlewares raise :class:`Problem`; the error middleware renders it as
``application/problem+json`` with ``type``, ``title``, ``status`` and a human ``detail``.
The ``type`` is a URN naming the kind of problem (documented in docs/webhooks.md), so a
caller can branch on it without parsing prose. A detail never holds a secret: it names
credentials, chargers and actions, never a token, a signature or a request body.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from aiohttp import web

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:easee-exporter:problem:"
REALM = 'Bearer realm="easee-exporter"'

#: Kind of problem -> (HTTP status, title). The title is fixed per kind (RFC 9457 3.1.3).
KINDS: Mapping[str, tuple[int, str]] = {
    "bad-request": (400, "Malformed request"),
    "unknown-action": (400, "Unknown action"),
    "unauthorized": (401, "Missing or wrong credentials"),
    "forbidden": (403, "Not allowed for this credential"),
    "origin-not-allowed": (403, "Origin not allowed"),
    "unknown-charger": (404, "Unknown charger"),
    "unknown-circuit": (404, "Unknown circuit"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "no-vehicle": (409, "No car connected"),
    "charger-offline": (409, "Charger offline"),
    "body-too-large": (413, "Request body too large"),
    "headers-too-large": (431, "Request header fields too large"),
    "too-many-auth-failures": (429, "Too many failed authentications"),
    "lock-rate": (429, "Cable lock switched too often"),
    "charger-busy": (429, "Another command to this charger is in progress"),
    "circuit-busy": (429, "Another change of this circuit is in progress"),
    "internal-error": (500, "Internal error"),
    "rejected": (502, "The charger rejected the command"),
    "cloud-error": (502, "The Easee cloud refused the command"),
    "cloud-unavailable": (503, "The Easee cloud is unavailable"),
    "cloud-rate-limited": (503, "The Easee cloud is rate-limiting"),
    "not-ready": (503, "Not ready"),
    "retry-later": (503, "Some actions must be retried"),
    "timeout": (504, "No confirmation in time"),
}


def retry_after_value(seconds: float) -> str:
    """``Retry-After`` in whole seconds, rounded up, at least 1 (HTTP allows no fractions)."""
    return str(max(1, math.ceil(seconds)))


class Problem(Exception):
    """An error answer of the control API.

    ``extra`` adds members to the body (RFC 9457 extensions, e.g. the per-alert results of an
    Alertmanager notification); ``retry_after`` sets the ``Retry-After`` header.
    """

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        retry_after: float | None = None,
        extra: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown problem kind {kind!r}")
        self.kind = kind
        self.status, self.title = KINDS[kind]
        self.detail = detail
        self.retry_after = retry_after
        self.extra: Mapping[str, object] = extra or {}
        self.headers: Mapping[str, str] = headers or {}
        super().__init__(f"{self.status} {self.title}: {detail}")

    def body(self) -> dict[str, object]:
        """The problem document."""
        standard: dict[str, object] = {
            "type": TYPE_PREFIX + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        return {**standard, **{k: v for k, v in self.extra.items() if k not in standard}}

    def response(self) -> web.Response:
        """The answer, with ``WWW-Authenticate`` on 401 and ``Retry-After`` when set."""
        headers = dict(self.headers)
        if self.status == 401:
            headers["WWW-Authenticate"] = REALM
        if self.retry_after is not None:
            headers["Retry-After"] = retry_after_value(self.retry_after)
        return web.Response(
            status=self.status,
            body=json.dumps(self.body()).encode(),
            content_type=PROBLEM_JSON,
            charset="utf-8",
            headers=headers,
        )
