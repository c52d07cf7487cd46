"""Who is calling: bearer tokens and Standard Webhooks signatures, checked in constant time.

Two schemes, one answer (conventions.md 5.1 and 5.5): automation tools that cannot sign
(Alertmanager, Home Assistant, Node-RED, Grafana) send ``Authorization: Bearer <token>``;
senders that can sign send the ``webhook-id`` / ``webhook-timestamp`` / ``webhook-signature``
headers of :mod:`exporter.webhooks.standard_webhooks`. The result is a :class:`Principal`
carrying the credential's name and rights, or an :class:`AuthFailure` with the metric reason
and a human detail.

Bearer tokens are compared as SHA-256 digests with :func:`hmac.compare_digest` against every
configured token without stopping at a match: the digests have a fixed length whatever the
token, and the loop's duration does not depend on which token matched. Credentials are
swapped as a whole on reload (:meth:`Authenticator.update`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from exporter.config.model import Webhooks, WebhookSecret, WebhookToken
from exporter.webhooks import standard_webhooks as sw

Scheme = Literal["bearer", "hmac"]

SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the credential's name and rights, never its value."""

    name: str
    scheme: Scheme
    credential: WebhookToken | WebhookSecret
    #: ``webhook-id`` of a signed request (the replay cache's key), None for bearer.
    webhook_id: str | None = None

    def allows(self, action: str, charger_id: str | None = None) -> bool:
        """Whether the credential may run ``action`` (on ``charger_id`` when given)."""
        return self.credential.allows(action, charger_id)


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """A refused authentication: ``reason`` is the metric label, ``detail`` for the caller."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class _Keys:
    tokens: tuple[tuple[WebhookToken, bytes], ...]
    secrets: tuple[tuple[WebhookSecret, bytes], ...]


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


class Authenticator:
    """Checks a request's credentials against the configured tokens and secrets."""

    def __init__(
        self,
        webhooks: Webhooks,
        *,
        wall_clock: Callable[[], float],
        tolerance: float = sw.TIMESTAMP_TOLERANCE,
    ) -> None:
        self._wall_clock = wall_clock
        self._tolerance = tolerance
        self._keys = self._prepare(webhooks)

    @staticmethod
    def _prepare(webhooks: Webhooks) -> _Keys:
        return _Keys(
            tokens=tuple((t, _digest(t.token.get_secret_value())) for t in webhooks.tokens),
            secrets=tuple((s, s.key()) for s in webhooks.secrets),
        )

    def update(self, webhooks: Webhooks) -> None:
        """Use new credentials from now on (a configuration reload)."""
        self._keys = self._prepare(webhooks)

    def authenticate(self, headers: Mapping[str, str], body: bytes) -> Principal | AuthFailure:
        """The caller of a request with these headers (case-insensitive) and raw body."""
        keys = self._keys
        if any(name in headers for name in SIGNATURE_HEADERS):
            return self._signed(keys, headers, body)
        authorization = headers.get("Authorization")
        if authorization is None:
            return AuthFailure(
                "missing",
                "no credentials: send 'Authorization: Bearer <token>' or the Standard Webhooks "
                "headers webhook-id, webhook-timestamp and webhook-signature",
            )
        return self._bearer(keys, authorization)

    def _not_configured(self, keys: _Keys, reason: str) -> AuthFailure | None:
        if keys.tokens or keys.secrets:
            return None
        return AuthFailure(
            reason, "the control API has no credential configured (webhooks.tokens, .secrets)"
        )

    def _bearer(self, keys: _Keys, authorization: str) -> Principal | AuthFailure:
        scheme, _, presented = authorization.strip().partition(" ")
        presented = presented.strip()
        if scheme.lower() != "bearer" or not presented:
            return AuthFailure("bad_token", "the Authorization header must be 'Bearer <token>'")
        digest = _digest(presented)
        found: WebhookToken | None = None
        for token, expected in keys.tokens:
            # No break: every token is compared, whichever matches.
            if hmac.compare_digest(digest, expected) and found is None:
                found = token
        if found is None:
            return self._not_configured(keys, "bad_token") or AuthFailure(
                "bad_token", "the bearer token is not valid"
            )
        return Principal(name=found.name, scheme="bearer", credential=found)

    def _signed(
        self, keys: _Keys, headers: Mapping[str, str], body: bytes
    ) -> Principal | AuthFailure:
        values = [headers.get(name) for name in SIGNATURE_HEADERS]
        webhook_id, timestamp, signature = values
        if webhook_id is None or timestamp is None or signature is None:
            return AuthFailure(
                "missing",
                "a signed request needs all three headers webhook-id, webhook-timestamp and "
                "webhook-signature",
            )
        signed = sw.SignedHeaders(webhook_id.strip(), timestamp.strip(), signature.strip())
        failure = sw.check_headers(signed, self._wall_clock(), self._tolerance)
        if failure is sw.Failure.EXPIRED:
            return AuthFailure(
                failure.reason,
                f"webhook-timestamp is more than {self._tolerance:g} s away from the "
                "server's clock",
            )
        if failure is not None:
            return AuthFailure(
                failure.reason,
                "webhook-id must be printable ASCII without dots (at most "
                f"{sw.MAX_ID_LENGTH} characters) and webhook-timestamp whole Unix seconds",
            )
        match = sw.matching_key(signed, body, [key for _, key in keys.secrets])
        if isinstance(match, sw.Failure):
            return self._not_configured(keys, match.reason) or AuthFailure(
                match.reason,
                "webhook-signature holds no v1 signature that matches a configured secret",
            )
        secret = keys.secrets[match][0]
        return Principal(
            name=secret.name, scheme="hmac", credential=secret, webhook_id=signed.webhook_id
        )
