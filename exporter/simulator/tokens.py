"""JWT-shaped access and refresh tokens, as the Keycloak-era Easee cloud issues them.

Tokens are real HS256 JWTs (header.payload.signature, base64url) signed with a key made
per simulator, so a client can decode ``exp`` as FH does, and a forged or truncated token
is refused. Lifetimes run on real time: a client's refresh timer is a real timer.
Every token carries a ``jti`` so single tokens can be expired or revoked at run time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["Bearer", "Refresh"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What login and refresh hand out."""

    access_token: str
    refresh_token: str
    expires_in: float


@dataclass(slots=True)
class _Issued:
    account_id: int
    kind: TokenKind
    exp: float
    valid: bool = True


class TokenIssuer:
    """Issues and checks tokens; remembers each one so it can be expired or revoked."""

    def __init__(
        self,
        *,
        access_lifetime: float,
        refresh_lifetime: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = secrets.token_bytes(32)
        self._access_lifetime = access_lifetime
        self._refresh_lifetime = refresh_lifetime
        self._clock = clock
        self._issued: dict[str, _Issued] = {}
        self._counter = 0

    def issue(self, account_id: int, username: str) -> TokenPair:
        """A fresh access token and a fresh refresh token for the account."""
        self._forget_dead()
        access = self._make(account_id, username, "Bearer", self._access_lifetime)
        refresh = self._make(account_id, username, "Refresh", self._refresh_lifetime)
        return TokenPair(access, refresh, self._access_lifetime)

    def account_of(self, token: str, kind: TokenKind = "Bearer") -> int | None:
        """The account id a valid, unexpired, unrevoked token of ``kind`` belongs to."""
        claims = self._claims(token)
        if claims is None or claims.get("typ") != kind:
            return None
        record = self._issued.get(str(claims.get("jti")))
        if record is None or not record.valid or record.exp <= self._clock():
            return None
        return record.account_id

    def invalidate(self, *, account_id: int | None, kinds: tuple[TokenKind, ...]) -> int:
        """Make every token of ``kinds`` issued so far unusable; returns how many."""
        count = 0
        for record in self._issued.values():
            if record.kind in kinds and (account_id is None or record.account_id == account_id):
                count += record.valid
                record.valid = False
        return count

    def _make(self, account_id: int, username: str, kind: TokenKind, lifetime: float) -> str:
        self._counter += 1
        now = self._clock()
        jti = f"{self._counter:x}-{secrets.token_hex(4)}"
        header = {"alg": "HS256", "typ": "JWT"}
        payload = {
            "AccountId": str(account_id),
            "UserId": str(account_id),
            "unique_name": username,
            "role": ["User"],
            "typ": kind,
            "azp": "easee",
            "iss": "https://auth.easee.com/realms/easee",
            "jti": jti,
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + lifetime),
        }
        signing_input = _b64(_compact(header)) + "." + _b64(_compact(payload))
        signature = hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest()
        self._issued[jti] = _Issued(account_id, kind, now + lifetime)
        return signing_input + "." + _b64(signature)

    def _claims(self, token: str) -> dict[str, object] | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        signing_input = (parts[0] + "." + parts[1]).encode("ascii", "replace")
        expected = hmac.new(self._key, signing_input, hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(expected, _unb64(parts[2])):
                return None
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, UnicodeDecodeError):
            return None
        return claims if isinstance(claims, dict) else None

    def _forget_dead(self) -> None:
        # Bounded memory for long demo runs: drop records that can never validate again.
        now = self._clock()
        dead = [jti for jti, rec in self._issued.items() if rec.exp <= now - 60]
        for jti in dead:
            del self._issued[jti]


def _compact(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")
