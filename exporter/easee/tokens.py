"""Access and refresh tokens of one account: when to refresh, and one refresh at a time.

Easee's access token lives one hour today (24 hours before 2024), so the lifetime is read from
every answer, from ``expiresIn`` and from the JWT's ``exp``, whichever ends first. The token is
refreshed ahead of its expiry; a refused refresh falls back to a full login, as every mature
client does (``easee-cloud-api.md`` 1.3-1.5). The HTTP calls themselves are injected, so this
module holds only the rules and stays testable without a network.

Two ways a token gets renewed: on demand, when a REST call finds it within ``refresh_margin`` of
its expiry (or refused by a 401), and ahead of time, by :meth:`TokenManager.keep_fresh`, which
the account runs for as long as it runs. The second keeps an account that makes no REST call
at all (a healthy stream needs none) logged in: at 75-85 % of each token's lifetime, jittered
so that the accounts of one service do not renew together; failures retry with the stream's
back-off and never touch the open stream, which keeps the token it connected with.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import structlog

from exporter.easee.backoff import Backoff
from exporter.easee.errors import (
    EaseeApiError,
    EaseeError,
    InvalidCredentials,
    ProtocolError,
    RateLimited,
)
from exporter.easee.events import ClientEvents

_log = structlog.get_logger(__name__)

# Used only when an answer carries neither ``expiresIn`` nor a JWT ``exp``: the current
# lifetime of Easee's tokens.
_FALLBACK_LIFETIME = 3600.0
#: Share of a token's lifetime after which :meth:`TokenManager.keep_fresh` renews it.
RENEW_SHARE = (0.75, 0.85)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class TokenSet:
    """The tokens of one login or refresh; ``expires_at`` is on the monotonic clock."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float
    lifetime: float


def parse_token_answer(body: object, *, endpoint: str, now: float, wall_now: float) -> TokenSet:
    """Read a login or refresh answer; ``now`` is monotonic, ``wall_now`` epoch seconds."""
    if not isinstance(body, Mapping):
        raise ProtocolError(endpoint, "token answer is not a JSON object")
    access = body.get("accessToken")
    refresh = body.get("refreshToken")
    if not isinstance(access, str) or not access or not isinstance(refresh, str):
        raise ProtocolError(endpoint, "token answer lacks accessToken or refreshToken")
    lifetimes: list[float] = []
    expires_in = body.get("expiresIn")
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        lifetimes.append(float(expires_in))
    exp = jwt_expiry(access)
    if exp is not None:
        lifetimes.append(exp - wall_now)
    lifetime = min(lifetimes) if lifetimes else _FALLBACK_LIFETIME
    return TokenSet(access, refresh, now + lifetime, max(lifetime, 0.0))


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (epoch seconds), or ``None``; the signature is not checked."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return float(exp)
    return None


class TokenManager:
    """Hands out a valid access token, refreshing or logging in as needed.

    ``refresh_margin`` is how early to refresh (at least 60 s before expiry, as Easee's
    clients do); it is capped at half the lifetime so short-lived tokens still get used.
    One lock keeps a single login or refresh in flight; callers that queue behind it find
    the fresh token when they get the lock.
    """

    def __init__(
        self,
        *,
        account: str,
        login: Callable[[], Awaitable[TokenSet]],
        refresh: Callable[[TokenSet], Awaitable[TokenSet]],
        refresh_margin: float,
        clock: Callable[[], float],
        events: ClientEvents,
    ) -> None:
        self._account = account
        self._login = login
        self._refresh = refresh
        self._margin = refresh_margin
        self._clock = clock
        self._events = events
        self._tokens: TokenSet | None = None
        self._refused = False
        #: why the last renewal ahead of expiry failed ("" after a success)
        self.problem = ""
        self._lock = asyncio.Lock()

    @property
    def logged_in(self) -> bool:
        """Whether the account can obtain a token: it got one, and no login was refused since.

        A token near or past its expiry does not count against it (it is being renewed), nor
        does a cloud outage; a refused password does.
        """
        return self._tokens is not None and not self._refused

    @property
    def refused(self) -> bool:
        """Whether the last login was refused (wrong username or password)."""
        return self._refused

    @property
    def expires_in(self) -> float | None:
        """Seconds until the held access token expires (negative once expired)."""
        return None if self._tokens is None else self._tokens.expires_at - self._clock()

    async def keep_fresh(
        self,
        retry: Backoff,
        *,
        refused_wait: float,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """Renew every token at 75-85 % of its lifetime, until cancelled.

        ``retry`` paces the attempts after a failure; a refused login waits ``refused_wait``
        (retrying a wrong password cannot help and may lock the account).
        """
        draw = rng or random.Random()  # noqa: S311 - jitter, not a secret
        log = _log.bind(account=self._account)
        retrying = False
        reported = ""
        while True:
            tokens = self._tokens
            if tokens is not None and not retrying:
                share = draw.uniform(*RENEW_SHARE)
                due = tokens.expires_at - tokens.lifetime * (1.0 - share)
                await sleep(max(0.0, due - self._clock()))
            retry.attempt()
            try:
                await self._renew_unless_renewed(tokens)
            except InvalidCredentials as exc:
                self.problem = f"login refused: {exc}"
                retry.failed(at_least=refused_wait)
            except RateLimited as exc:
                self.problem = f"token renewal failed: {exc}"
                retry.failed(at_least=exc.retry_after)
            except EaseeError as exc:
                self.problem = f"token renewal failed: {exc}"
                retry.failed()
            else:
                if retrying:
                    log.info("token renewed again", failures=retry.failures)
                self.problem = reported = ""
                retry.succeeded()
                retrying = False
                continue
            retrying = True
            delay = retry.delay()
            # One warning per kind of failure; the retries of the same one go to debug.
            level = log.warning if self.problem != reported else log.debug
            level("token renewal failed", problem=self.problem, retry_in=round(delay, 1))
            reported = self.problem
            await sleep(delay)

    async def _renew_unless_renewed(self, seen: TokenSet | None) -> None:
        async with self._lock:
            # A REST call may have renewed it meanwhile: then this round is done.
            if self._tokens is seen or self._tokens is None:
                self._tokens = await self._renew(self._tokens)

    async def access_token(self, *, stale: str | None = None) -> str:
        """A usable access token; ``stale`` names a token the cloud just refused (a 401)."""
        tokens = self._tokens
        if tokens is not None and not self._must_renew(tokens, stale):
            return tokens.access_token
        async with self._lock:
            tokens = self._tokens
            if tokens is not None and not self._must_renew(tokens, stale):
                return tokens.access_token
            self._tokens = await self._renew(tokens)
            return self._tokens.access_token

    def _must_renew(self, tokens: TokenSet, stale: str | None) -> bool:
        if stale is not None and stale == tokens.access_token:
            return True
        margin = min(self._margin, tokens.lifetime / 2)
        return self._clock() >= tokens.expires_at - margin

    async def _renew(self, tokens: TokenSet | None) -> TokenSet:
        log = _log.bind(account=self._account)
        if tokens is not None:
            try:
                renewed = await self._refresh(tokens)
            except EaseeApiError as exc:
                # Easee invalidates refresh tokens now and then (evcc#9717): log in again.
                log.info(
                    "token refresh refused, logging in again",
                    status=exc.status,
                    error_code=exc.error_code,
                )
                self._events.token_refresh(self._account, "failed")
            except EaseeError:
                self._events.token_refresh(self._account, "failed")
                raise
            else:
                self._events.token_refresh(self._account, "refreshed")
                log.debug(
                    "token refreshed",
                    expires_in=round(renewed.lifetime),
                    # Masked by the log redactor unless the operator chose unsafe logs,
                    # the original plugin's way to inspect what Easee issued.
                    access_token=renewed.access_token,
                )
                return renewed
        try:
            fresh = await self._login()
        except InvalidCredentials:
            self._refused = True
            self._events.token_refresh(self._account, "failed")
            raise
        except EaseeError:
            self._events.token_refresh(self._account, "failed")
            raise
        self._refused = False
        self._events.token_refresh(self._account, "login")
        log.info("logged in", expires_in=round(fresh.lifetime))
        log.debug("token issued", access_token=fresh.access_token)
        return fresh
