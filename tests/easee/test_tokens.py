"""Token lifetime rules and the single refresh in flight."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from exporter.easee.errors import CloudUnavailable, RefreshTokenExpired
from exporter.easee.tokens import TokenManager, TokenSet, jwt_expiry, parse_token_answer
from tests.easee.support import ManualClock, RecordingEvents


def jwt(claims: dict[str, object]) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2lnbmF0dXJl"


def test_lifetime_is_the_earlier_of_expires_in_and_jwt_exp() -> None:
    body = {"accessToken": jwt({"exp": 10_000 + 600}), "refreshToken": "r", "expiresIn": 3600.0}
    tokens = parse_token_answer(body, endpoint="login", now=50.0, wall_now=10_000.0)
    assert tokens.lifetime == pytest.approx(600.0)
    assert tokens.expires_at == pytest.approx(650.0)


def test_expires_in_alone_and_the_legacy_opaque_token() -> None:
    body = {"accessToken": "opaque", "refreshToken": "r", "expiresIn": 86400}
    tokens = parse_token_answer(body, endpoint="login", now=0.0, wall_now=0.0)
    assert tokens.lifetime == 86400.0
    assert jwt_expiry("opaque") is None
    assert jwt_expiry("a.!!!.c") is None


def test_token_values_never_appear_in_a_repr() -> None:
    tokens = TokenSet("secret-access", "secret-refresh", 1.0, 1.0)
    assert "secret" not in repr(tokens)


class Cloud:
    """Injected login and refresh calls that count what they were asked to do."""

    def __init__(self, clock: ManualClock, lifetime: float = 3600.0) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.logins = 0
        self.refreshes = 0
        self.refuse_refresh = False
        self.fail = False
        self.gate = asyncio.Event()
        self.gate.set()

    def issue(self, kind: str) -> TokenSet:
        number = self.logins + self.refreshes - 1
        return TokenSet(f"{kind}-{number}", "refresh", self.clock() + self.lifetime, self.lifetime)

    async def login(self) -> TokenSet:
        await self.gate.wait()
        if self.fail:
            raise CloudUnavailable("login", 503, "HTTP 503")
        self.logins += 1
        return self.issue("login")

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        await self.gate.wait()
        if self.refuse_refresh:
            raise RefreshTokenExpired("refresh_token", 401, error_code=105)
        self.refreshes += 1
        return self.issue("refresh")


def manager(cloud: Cloud, events: RecordingEvents, margin: float = 120.0) -> TokenManager:
    return TokenManager(
        account="home",
        login=cloud.login,
        refresh=cloud.refresh,
        refresh_margin=margin,
        clock=cloud.clock,
        events=events,
    )


async def test_refresh_comes_before_expiry_and_only_when_due() -> None:
    clock, events = ManualClock(), RecordingEvents()
    cloud = Cloud(clock)
    tokens = manager(cloud, events)
    assert await tokens.access_token() == "login-0"
    clock.advance(3600 - 121)
    assert await tokens.access_token() == "login-0"
    clock.advance(2)
    assert await tokens.access_token() == "refresh-1"
    assert (cloud.logins, cloud.refreshes) == (1, 1)
    assert events.of("token_refresh") == [("home", "login"), ("home", "refreshed")]


async def test_concurrent_callers_share_one_refresh() -> None:
    clock, events = ManualClock(), RecordingEvents()
    cloud = Cloud(clock)
    tokens = manager(cloud, events)
    await tokens.access_token()
    clock.advance(3590)
    cloud.gate.clear()
    waiters = [asyncio.create_task(tokens.access_token()) for _ in range(20)]
    await asyncio.sleep(0)
    cloud.gate.set()
    assert set(await asyncio.gather(*waiters)) == {"refresh-1"}
    assert cloud.refreshes == 1


async def test_a_refused_token_is_renewed_once_for_all_who_saw_it_refused() -> None:
    clock, events = ManualClock(), RecordingEvents()
    cloud = Cloud(clock)
    tokens = manager(cloud, events)
    first = await tokens.access_token()
    renewed = await asyncio.gather(*(tokens.access_token(stale=first) for _ in range(5)))
    assert set(renewed) == {"refresh-1"}
    assert cloud.refreshes == 1


async def test_a_refused_refresh_falls_back_to_a_full_login() -> None:
    clock, events = ManualClock(), RecordingEvents()
    cloud = Cloud(clock)
    tokens = manager(cloud, events)
    await tokens.access_token()
    cloud.refuse_refresh = True
    clock.advance(3599)
    assert await tokens.access_token() == "login-1"
    assert events.of("token_refresh")[-2:] == [("home", "failed"), ("home", "login")]


async def test_a_cloud_outage_is_not_a_reason_to_log_in_again() -> None:
    clock, events = ManualClock(), RecordingEvents()
    cloud = Cloud(clock)
    tokens = manager(cloud, events)
    cloud.fail = True
    with pytest.raises(CloudUnavailable):
        await tokens.access_token()
    assert not tokens.logged_in
    assert events.of("token_refresh") == [("home", "failed")]


async def test_short_lived_tokens_are_refreshed_at_half_life() -> None:
    clock, events = ManualClock(), RecordingEvents()
    cloud = Cloud(clock, lifetime=60.0)
    tokens = manager(cloud, events, margin=120.0)
    await tokens.access_token()
    clock.advance(29)
    assert await tokens.access_token() == "login-0"
    clock.advance(2)
    assert await tokens.access_token() == "refresh-1"
