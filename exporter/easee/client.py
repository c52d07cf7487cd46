"""REST client of one Easee account, on the service's one injected aiohttp session.

Every call goes through :meth:`EaseeClient._call`, the one place that knows Easee's HTTP
etiquette (``easee-cloud-api.md`` sections 1, 3, 4, 11):

- a bearer token from :class:`~exporter.easee.tokens.TokenManager`; on a 401 the token is
  renewed and the call retried **once**;
- a 429 blocks that endpoint for ``Retry-After`` seconds: later calls fail fast with
  :class:`RateLimited` without reaching Easee;
- an IP block (403 ``{"message":"Forbidden"}``, or any 403/429 whose text says the IP is
  blocked) stops every call of the account for ``Retry-After`` or ``ip_block_backoff``, with
  one warning line;
- the account's :class:`~exporter.easee.budget.RequestBudget` is charged per HTTP attempt;
- a timeout on every attempt; 5xx, timeouts and connection errors become
  :class:`CloudUnavailable` and are **not** retried here: periodic callers retry on their
  own schedule and interactive callers get an answer quickly;
- every attempt is reported through ``ClientEvents.api_request`` under one of
  :data:`ENDPOINTS`.

The retry-once lives in the call rather than in an aiohttp client middleware because each
attempt must take its own budget slot, timeout and report, which a middleware retry would
hide inside one request.
"""

from __future__ import annotations

import email.utils
import enum
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog

from exporter.easee.budget import RequestBudget
from exporter.easee.commands import (
    ChargerCommand,
    CircuitCurrent,
    raise_if_refused,
    read_command_answer,
)
from exporter.easee.errors import (
    AuthenticationError,
    ChargerDisconnected,
    CloudUnavailable,
    EaseeApiError,
    InvalidCredentials,
    IpBlocked,
    ProtocolError,
    RateLimited,
    RefreshTokenExpired,
)
from exporter.easee.events import ClientEvents
from exporter.easee.models import ChargerSummary, CommandAccepted, Site, json_int
from exporter.easee.sites import parse_sites
from exporter.easee.tokens import TokenManager, TokenSet, parse_token_answer

_log = structlog.get_logger(__name__)

#: The endpoint names reported to ``ClientEvents.api_request``: a fixed set, so metrics can
#: create every series up front.
ENDPOINTS: tuple[str, ...] = (
    "login",
    "refresh_token",
    "chargers",
    "details",
    "config",
    "site",
    "products",
    "observations",
    "command",
    "circuit_command",
)

_PROBLEM_CLASSES: dict[int, type[EaseeApiError]] = {
    100: InvalidCredentials,
    105: RefreshTokenExpired,
    410: ChargerDisconnected,
}


@dataclass(frozen=True, slots=True)
class Credentials:
    """The login of one Easee account; the password never appears in a repr."""

    username: str
    password: str = field(repr=False)


class CallKind(enum.Enum):
    """How a call meets a spent budget.

    - ``AUTH`` (login, refresh): may use the reserve and waits for a slot; nothing works
      without a token, and logins are rare.
    - ``COMMAND`` (pause, resume, lock, settings): may use the reserve and fails fast with
      :class:`~exporter.easee.errors.BudgetExceeded`, so a webhook answers 503 with
      ``Retry-After`` at once instead of hanging.
    - ``BACKGROUND`` (discovery, snapshots): may not touch the reserve and waits up to
      ``background_max_wait``; periodic work just slows down under pressure.
    """

    AUTH = enum.auto()
    COMMAND = enum.auto()
    BACKGROUND = enum.auto()


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: object
    text: str
    retry_after: str | None


class EaseeClient:
    """The REST calls the service makes for one account.

    ``clock`` is monotonic (expiry, back-off); ``wall_clock`` gives epoch seconds (JWT
    ``exp``). Both are injectable for tests.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        account: str,
        credentials: Credentials,
        api_url: str,
        events: ClientEvents,
        budget: RequestBudget,
        request_timeout: float = 20.0,
        refresh_margin: float = 120.0,
        default_retry_after: float = 60.0,
        ip_block_backoff: float = 900.0,
        background_max_wait: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._account = account
        self._credentials = credentials
        self._api_url = api_url.rstrip("/")
        self._events = events
        self._budget = budget
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._default_retry_after = default_retry_after
        self._ip_block_backoff = ip_block_backoff
        self._background_max_wait = background_max_wait
        self._clock = clock
        self._wall_clock = wall_clock
        self._endpoint_blocked_until: dict[str, float] = {}
        self._ip_blocked_until = 0.0
        self._log = _log.bind(account=account)
        self.tokens = TokenManager(
            account=account,
            login=self._login,
            refresh=self._refresh,
            refresh_margin=refresh_margin,
            clock=clock,
            events=events,
        )

    # ----------------------------------------------------------------- state

    @property
    def ip_block_remaining(self) -> float:
        """Seconds left of an IP-block back-off (0 when none is in force)."""
        return max(self._ip_blocked_until - self._clock(), 0.0)

    def note_ip_block(self, endpoint: str, retry_after: float | None) -> float:
        """Start (or extend) the account-wide back-off after an IP block; return its length.

        The stream calls this too when negotiate answers 403.
        """
        delay = retry_after if retry_after is not None else self._ip_block_backoff
        until = self._clock() + delay
        if until > self._ip_blocked_until:
            if self._ip_blocked_until <= self._clock():
                self._log.warning(
                    "Easee blocks this IP address; every call of the account pauses",
                    endpoint=endpoint,
                    retry_after=round(delay),
                )
            self._ip_blocked_until = until
        return self.ip_block_remaining

    # ----------------------------------------------------------------- calls

    async def access_token(self, *, stale: str | None = None) -> str:
        """A valid access token (logging in or refreshing as needed), e.g. for the stream."""
        remaining = self.ip_block_remaining
        if remaining > 0:
            raise IpBlocked("login", remaining)
        return await self.tokens.access_token(stale=stale)

    async def list_chargers(self) -> list[ChargerSummary]:
        """``GET /api/chargers``: the chargers of the account."""
        answer = await self._call("chargers", "GET", "/api/chargers", kind=CallKind.BACKGROUND)
        if not isinstance(answer.body, list):
            raise ProtocolError("chargers", "charger list is not a JSON array")
        return [_charger_summary(item) for item in answer.body if isinstance(item, Mapping)]

    async def list_sites(self) -> tuple[Site, ...]:
        """``GET /api/accounts/products``: the account's sites, circuits and Equalizers in one
        call (pyeasee and Home Assistant use it; the per-site document costs one call per site
        and Easee throttles it to 10 an hour)."""
        answer = await self._call(
            "products", "GET", "/api/accounts/products", kind=CallKind.BACKGROUND
        )
        return parse_sites(answer.body, endpoint="products")

    async def get_observations(
        self, charger_id: str, ids: Sequence[int]
    ) -> list[Mapping[str, Any]]:
        """``GET /state/{id}/observations?ids=...``: the raw observation items, undecoded."""
        answer = await self._call(
            "observations",
            "GET",
            f"/state/{charger_id}/observations",
            params={"ids": ",".join(str(i) for i in ids)},
            kind=CallKind.BACKGROUND,
        )
        body = answer.body
        items = body.get("observations") if isinstance(body, Mapping) else body
        if not isinstance(items, list):
            raise ProtocolError("observations", "no observations array in the answer")
        return [item for item in items if isinstance(item, Mapping)]

    async def send_command(
        self, charger_id: str, command: ChargerCommand
    ) -> CommandAccepted | None:
        """``POST /api/chargers/{id}/commands/{name}``; the cloud's acknowledgement.

        ``None`` means Easee says nothing will follow on the stream (ticks 0, or a
        synchronous 200 that accepted it); otherwise wait for the charger's verdict with
        :meth:`exporter.easee.account.EaseeAccount.wait_for_response`. A synchronous
        refusal raises :class:`~exporter.easee.errors.CommandRejected`
        (:func:`exporter.easee.commands.read_command_answer`).
        """
        answer = await self._call(
            "command",
            "POST",
            f"/api/chargers/{charger_id}/commands/{command.endpoint}",
            json_body=None if command.body is None else dict(command.body),
            kind=CallKind.COMMAND,
        )
        return read_command_answer(
            answer.status, answer.body, answer.text, charger_id=charger_id, endpoint="command"
        )

    async def set_circuit_current(
        self, site_id: int, circuit_id: int, current: CircuitCurrent
    ) -> None:
        """``POST /api/sites/{site}/circuits/{circuit}/settings`` (or ``/dynamicCurrent`` with
        a time to live). Easee answers 200 without ticks; the verdict comes from the circuit's
        chargers (CommandResponse 22, then observations 111-113). A synchronous refusal raises
        :class:`~exporter.easee.errors.CommandRejected`."""
        answer = await self._call(
            "circuit_command",
            "POST",
            f"/api/sites/{site_id}/circuits/{circuit_id}/{current.path}",
            json_body=current.body,
            kind=CallKind.COMMAND,
        )
        # Whatever else the 200 carries (the settings, nothing), only an explicit refusal counts.
        raise_if_refused(answer.body, endpoint="circuit_command", target=str(circuit_id))

    # ------------------------------------------------------------------ auth

    async def _login(self) -> TokenSet:
        answer = await self._call(
            "login",
            "POST",
            "/api/accounts/login",
            json_body={
                "userName": self._credentials.username,
                "password": self._credentials.password,
            },
            kind=CallKind.AUTH,
            authenticated=False,
        )
        return parse_token_answer(
            answer.body, endpoint="login", now=self._clock(), wall_now=self._wall_clock()
        )

    async def _refresh(self, tokens: TokenSet) -> TokenSet:
        try:
            answer = await self._call(
                "refresh_token",
                "POST",
                "/api/accounts/refresh_token",
                json_body={
                    "accessToken": tokens.access_token,
                    "refreshToken": tokens.refresh_token,
                },
                kind=CallKind.AUTH,
                authenticated=False,
            )
        except EaseeApiError as exc:
            if 400 <= exc.status < 500 and not isinstance(exc, RefreshTokenExpired):
                raise RefreshTokenExpired(
                    "refresh_token",
                    exc.status,
                    error_code=exc.error_code,
                    error_code_name=exc.error_code_name,
                    title=exc.title,
                ) from exc
            raise
        return parse_token_answer(
            answer.body, endpoint="refresh_token", now=self._clock(), wall_now=self._wall_clock()
        )

    # ------------------------------------------------------------------ core

    async def _call(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        kind: CallKind,
        json_body: Mapping[str, object] | None = None,
        params: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> _Answer:
        self._check_blocks(endpoint)
        stale: str | None = None
        answer: _Answer | None = None
        for _attempt in range(2 if authenticated else 1):
            headers = {"Accept": "application/json"}
            token: str | None = None
            if authenticated:
                token = await self.tokens.access_token(stale=stale)
                headers["Authorization"] = f"Bearer {token}"
            await self._budget.acquire(
                endpoint,
                priority=kind is not CallKind.BACKGROUND,
                max_wait=0.0 if kind is CallKind.COMMAND else self._background_max_wait,
            )
            # A block may have started while this call waited for a token or a slot.
            self._check_blocks(endpoint)
            answer = await self._send(endpoint, method, path, headers, json_body, params)
            if answer.status != 401 or not authenticated:
                break
            stale = token
        assert answer is not None
        return self._check(endpoint, answer)

    def _check_blocks(self, endpoint: str) -> None:
        remaining = self.ip_block_remaining
        if remaining > 0:
            raise IpBlocked(endpoint, remaining)
        until = self._endpoint_blocked_until.get(endpoint, 0.0)
        if until > self._clock():
            raise RateLimited(endpoint, until - self._clock())

    async def _send(
        self,
        endpoint: str,
        method: str,
        path: str,
        headers: Mapping[str, str],
        json_body: Mapping[str, object] | None,
        params: Mapping[str, str] | None,
    ) -> _Answer:
        url = self._api_url + path
        try:
            async with self._session.request(
                method,
                url,
                headers=headers,
                json=json_body,
                params=params,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                raw = await response.read()
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except TimeoutError as exc:
            self._events.api_request(self._account, endpoint, "timeout")
            raise CloudUnavailable(endpoint, None, "timeout") from exc
        except aiohttp.ClientError as exc:
            self._events.api_request(self._account, endpoint, "error")
            raise CloudUnavailable(endpoint, None, type(exc).__name__) from exc
        self._events.api_request(self._account, endpoint, str(status))
        text = raw.decode("utf-8", errors="replace")
        body: object = None
        if text.strip():
            try:
                body = json.loads(text)
            except ValueError:
                body = None
        return _Answer(status, body, text, retry_after)

    def _check(self, endpoint: str, answer: _Answer) -> _Answer:
        status = answer.status
        if 200 <= status < 300:
            return answer
        retry_after = _parse_retry_after(answer.retry_after, self._wall_clock())
        if _looks_like_ip_block(status, answer):
            raise IpBlocked(endpoint, self.note_ip_block(endpoint, retry_after))
        if status == 429:
            delay = retry_after if retry_after is not None else self._default_retry_after
            self._endpoint_blocked_until[endpoint] = self._clock() + delay
            self._log.info("rate limited by Easee", endpoint=endpoint, retry_after=round(delay))
            raise RateLimited(endpoint, delay)
        if status >= 500:
            raise CloudUnavailable(endpoint, status, f"HTTP {status}")
        problem = answer.body if isinstance(answer.body, Mapping) else {}
        code = problem.get("errorCode")
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        name = problem.get("errorCodeName")
        title = problem.get("title")
        cls = _PROBLEM_CLASSES.get(code or -1)
        if cls is None:
            cls = AuthenticationError if status == 401 else EaseeApiError
        raise cls(
            endpoint,
            status,
            error_code=code,
            error_code_name=name if isinstance(name, str) else None,
            title=title if isinstance(title, str) else None,
        )


def _looks_like_ip_block(status: int, answer: _Answer) -> bool:
    if status not in (403, 429):
        return False
    text = answer.text.lower()
    if "blocked" in text:
        return True
    if status == 429:
        return False
    # A 403 that is a problem+json with an errorCode is a refused action (missing rights);
    # anything else (the API gateway's {"message":"Forbidden"}, an empty or HTML body) is
    # treated as an IP block: backing off too much is cheap, hammering is not.
    body = answer.body
    return not (isinstance(body, Mapping) and "errorCode" in body)


def _parse_retry_after(value: str | None, wall_now: float) -> float | None:
    if value is None:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - wall_now, 0.0)


def _charger_summary(item: Mapping[str, Any]) -> ChargerSummary:
    back_plate = item.get("backPlate")
    master: bool | None = None
    if isinstance(back_plate, Mapping) and back_plate.get("id") is not None:
        master = back_plate.get("id") == back_plate.get("masterBackPlateId")
    return ChargerSummary(
        charger_id=str(item.get("id", "")),
        name=str(item.get("name") or item.get("id", "")),
        product_code=json_int(item.get("productCode")),
        color=json_int(item.get("color")),
        level_of_access=json_int(item.get("levelOfAccess")),
        is_circuit_master=master,
    )


__all__ = ["ENDPOINTS", "CallKind", "Credentials", "EaseeClient"]
