"""HTTP basic authentication against the bcrypt hashes of ``basic_auth_users``.

A bcrypt check costs tens of milliseconds of CPU on purpose: it runs in a worker thread,
one at a time (as exporter-toolkit does), and its outcome is cached, so a Prometheus
scraping every 15 s pays for it once. The cache is keyed by a keyed hash of the username
and password, so it never holds a password, nor a fast unsalted hash of one.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Mapping

import bcrypt
from pydantic import SecretStr

#: Checked for unknown users, so that timing does not tell which usernames exist. The hash
#: of a random string nobody knows, at exporter-toolkit's usual cost.
_UNKNOWN_USER_HASH = b"$2b$10$LRo3gzYqowWBDkbgPIGRZu1fQwK/3nRH0wiD1MwSgZBW5D3324sjq"
CACHE_SIZE = 1024


def _checkpw(password: bytes, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(password, hashed)
    except ValueError:  # longer than bcrypt's 72 bytes, or a hash bcrypt cannot read
        return False


class BasicAuthUsers:
    """The users of one web configuration; a reload builds a new one (and a new cache)."""

    def __init__(self, users: Mapping[str, SecretStr], cache_size: int = CACHE_SIZE) -> None:
        self._hashes = {name: hashed.get_secret_value().encode() for name, hashed in users.items()}
        self._key = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, bool] = OrderedDict()
        self._cache_size = cache_size
        self._lock = asyncio.Lock()

    def _cache_key(self, username: str, password: str) -> bytes:
        message = f"{len(username)}:{username}:{password}".encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    async def verify(self, username: str, password: str) -> bool:
        """Whether ``username`` may come in with ``password``."""
        key = self._cache_key(username, password)
        known = self._cache.get(key)
        if known is not None:
            return known
        async with self._lock:
            known = self._cache.get(key)  # another request may have checked it meanwhile
            if known is None:
                hashed = self._hashes.get(username)
                matches = await asyncio.to_thread(
                    _checkpw, password.encode(), hashed or _UNKNOWN_USER_HASH
                )
                known = matches and hashed is not None
                self._cache[key] = known
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return known
