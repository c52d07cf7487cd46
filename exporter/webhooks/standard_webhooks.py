"""Standard Webhooks v1 (https://www.standardwebhooks.com/): signing and verifying.

A sender signs ``"{webhook-id}.{webhook-timestamp}.{raw body}"`` with HMAC-SHA256 and sends
``webhook-signature: v1,<base64>`` (several space-separated entries during a key rotation).
This module is the whole verifier, written out instead of using the ``standardwebhooks``
package because that one raises ``ValueError``/``binascii.Error`` on malformed headers (a
500 unless caught), has no replay cache and decodes bodies as text (conventions.md 5.2).

Every check runs in constant time with respect to the secrets: each configured key is tried
against each signature entry with :func:`hmac.compare_digest`, without stopping at a match,
so the answer time does not tell which key or entry matched.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

#: The reference libraries' tolerance for the sender's clock, either way.
TIMESTAMP_TOLERANCE = 300.0
#: Entries looked at in one ``webhook-signature``: a rotation needs two or three, and the
#: bound keeps a hostile header from costing one HMAC comparison per byte.
MAX_SIGNATURES = 8
MAX_ID_LENGTH = 256
_SIGNATURE_BYTES = hashlib.sha256().digest_size


class Failure(enum.Enum):
    """Why a signed request was refused."""

    MALFORMED = "malformed"
    EXPIRED = "expired"
    BAD_SIGNATURE = "bad_signature"

    @property
    def reason(self) -> str:
        """The reason label of ``easee_exporter_webhook_auth_failures_total``."""
        return "expired_timestamp" if self is Failure.EXPIRED else "bad_signature"


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    """The three headers of a signed request, as received."""

    webhook_id: str
    timestamp: str
    signature: str


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value a sender computes: ``v1,<base64 HMAC-SHA256>``."""
    digest = hmac.new(key, _signed_content(webhook_id, str(timestamp), body), hashlib.sha256)
    return "v1," + base64.b64encode(digest.digest()).decode()


def _signed_content(webhook_id: str, timestamp: str, body: bytes) -> bytes:
    return webhook_id.encode() + b"." + timestamp.encode() + b"." + body


def check_headers(headers: SignedHeaders, now: float, tolerance: float) -> Failure | None:
    """Shape and freshness of the headers, before any HMAC is computed."""
    webhook_id = headers.webhook_id
    # A dot in the id would make "{id}.{timestamp}.{body}" ambiguous.
    if (
        not webhook_id
        or len(webhook_id) > MAX_ID_LENGTH
        or "." in webhook_id
        or not all(33 <= ord(c) <= 126 for c in webhook_id)
    ):
        return Failure.MALFORMED
    text = headers.timestamp
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        return Failure.MALFORMED
    if abs(now - int(text)) > tolerance:
        return Failure.EXPIRED
    return None


def _decode_entries(signature: str) -> list[bytes] | None:
    """The decoded ``v1`` entries; None when the header is unusable as a whole."""
    entries = signature.split()
    if not entries or len(entries) > MAX_SIGNATURES:
        return None
    decoded: list[bytes] = []
    for entry in entries:
        version, sep, value = entry.partition(",")
        if not sep or version != "v1":
            continue  # another scheme (v1a is ed25519) or garbage: skip, as the spec says
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == _SIGNATURE_BYTES:
            decoded.append(raw)
    return decoded


def matching_key(headers: SignedHeaders, body: bytes, keys: Sequence[bytes]) -> int | Failure:
    """The index of the key whose signature is among the header's entries, or a failure.

    Every key is compared with every entry; the first matching key wins, but the loop never
    ends early.
    """
    entries = _decode_entries(headers.signature)
    if entries is None:
        return Failure.MALFORMED
    # Leaving here tells only that no entry was a well-formed v1 signature, nothing about keys.
    if not entries:
        return Failure.BAD_SIGNATURE
    content = _signed_content(headers.webhook_id, headers.timestamp, body)
    found = -1
    for index, key in enumerate(keys):
        expected = hmac.new(key, content, hashlib.sha256).digest()
        matched = False
        for entry in entries:
            matched |= hmac.compare_digest(expected, entry)
        if matched and found < 0:
            found = index
    return found if found >= 0 else Failure.BAD_SIGNATURE
