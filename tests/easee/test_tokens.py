"""Token lifetime rules and the single refresh in flight."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from exporter.easee.backoff import Backoff
from exporter.easee.errors import CloudUnavailable, InvalidCredentials, RefreshTokenExpired
from exporter.easee.tokens import TokenManager, TokenSet, jwt_expiry, parse_token_answer
from tests.easee.support import ManualClock, RecordingEvents, wait_until


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
        self.fail_refresh = False
        self.refuse_login = False
        self.fail = False
        #: (clock, share of the old token's lifetime used) at every renewal
        self.renewals: list[tuple[float, float]] = []
        self.held: TokenSet | None = None
        self.gate = asyncio.Event()
        self.gate.set()

    def issue(self, kind: str) -> TokenSet:
        number = self.logins + self.refreshes - 1
        old = self.held
        if old is not None:
            used = 1.0 - (old.expires_at - self.clock()) / old.lifetime
            self.renewals.append((self.clock(), used))
        self.held = TokenSet(
            f"{kind}-{number}", "refresh", self.clock() + self.lifetime, self.lifetime
        )
        return self.held

    async def login(self) -> TokenSet:
        await self.gate.wait()
        if self.refuse_login:
            raise InvalidCredentials("login", 400, error_code=100)
        if self.fail:
            raise CloudUnavailable("login", 503, "HTTP 503")
        self.logins += 1
        return self.issue("login")

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        await self.gate.wait()
        if self.refuse_refresh:
            raise RefreshTokenExpired("refresh_token", 401, error_code=105)
        if self.fail_refresh:
            raise CloudUnavailable("refresh_token", 503, "HTTP 503")
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


class FakeSleep:
    """``asyncio.sleep`` on the manual clock: moves it and yields once. A sleep that would
    pass ``until`` parks there, so a scenario covers exactly that stretch of model time."""

    def __init__(self, clock: ManualClock, until: float = float("inf")) -> None:
        self.clock = clock
        self.until = until
        self.waits: list[float] = []
        self.resume = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.clock.now + seconds > self.until:
            self.clock.now = self.until
            await self.resume.wait()
            self.resume.clear()
        self.clock.advance(seconds)
        await asyncio.sleep(0)

    @property
    def parked(self) -> bool:
        return self.clock.now >= self.until


def retry_policy(clock: ManualClock) -> Backoff:
    return Backoff(base=5.0, cap=300.0, quick=(0.5, 5.0), burst=6, refill=300.0, clock=clock)


async def renewing(
    tokens: TokenManager, clock: ManualClock, sleep: FakeSleep
) -> asyncio.Task[None]:
    return asyncio.create_task(
        tokens.keep_fresh(retry_policy(clock), refused_wait=1800.0, sleep=sleep)
    )


async def test_tokens_are_renewed_ahead_of_expiry_without_any_call() -> None:
    """Over twenty lifetimes with no REST call: each token renewed at 75-85 % of its life,
    never expired, always by refresh (one login only)."""
    clock, events = ManualClock(), RecordingEvents()
    cloud = Cloud(clock, lifetime=3600.0)
    tokens = manager(cloud, events)
    await tokens.access_token()
    task = await renewing(tokens, clock, FakeSleep(clock))
    await wait_until(lambda: cloud.refreshes >= 20, what="twenty renewals")
    task.cancel()
    shares = [used for _, used in cloud.renewals]
    assert all(0.75 <= used <= 0.85 for used in shares), shares
    assert len(set(shares)) > 10  # jittered, not a fixed instant
    assert cloud.logins == 1
    assert tokens.logged_in
    assert events.of("token_refresh").count(("home", "refreshed")) >= 20


async def test_a_refused_refresh_ahead_of_expiry_falls_back_to_a_login() -> None:
    clock, events = ManualClock(), RecordingEvents()
    cloud = Cloud(clock, lifetime=600.0)
    tokens = manager(cloud, events)
    await tokens.access_token()
    cloud.refuse_refresh = True
    task = await renewing(tokens, clock, FakeSleep(clock))
    await wait_until(lambda: cloud.logins >= 3, what="logins instead of refreshes")
    task.cancel()
    assert cloud.refreshes == 0
    assert all(0.75 <= used <= 0.85 for _, used in cloud.renewals)
    assert ("home", "failed") in events.of("token_refresh")
    assert tokens.logged_in


async def test_renewal_failures_back_off_and_keep_the_account_logged_in() -> None:
    """The refresh and login endpoints fail for a while: retries back off (never more often
    than the bucket allows), every failure is counted, the account stays logged in; once the
    cloud answers, the token is renewed."""
    clock, events = ManualClock(), RecordingEvents()
    cloud = Cloud(clock, lifetime=600.0)
    tokens = manager(cloud, events)
    await tokens.access_token()
    cloud.fail_refresh = cloud.fail = True
    sleep = FakeSleep(clock, until=clock.now + 2 * 3600)
    task = await renewing(tokens, clock, sleep)
    await wait_until(lambda: sleep.parked, what="two hours of failures")
    failures = events.of("token_refresh").count(("home", "failed"))
    # The first try at 75-85 % of the life, then the bucket: 6 at once, 12 an hour.
    assert 6 <= failures <= 1 + 6 + 24
    assert max(sleep.waits[1:]) <= 300.0  # backing off, never parking past the cap
    assert tokens.logged_in
    assert "token renewal failed" in tokens.problem
    cloud.fail_refresh = cloud.fail = False
    healthy = clock.now
    sleep.until = float("inf")
    sleep.resume.set()
    await wait_until(lambda: cloud.refreshes >= 1, what="the renewal after the outage")
    task.cancel()
    assert cloud.renewals[0][0] - healthy <= 300.0
    assert tokens.problem == ""


async def test_a_refused_login_makes_the_account_not_logged_in_and_waits() -> None:
    clock, events = ManualClock(), RecordingEvents()
    cloud = Cloud(clock, lifetime=600.0)
    tokens = manager(cloud, events)
    await tokens.access_token()
    cloud.refuse_refresh = cloud.refuse_login = True
    sleep = FakeSleep(clock)
    task = await renewing(tokens, clock, sleep)
    await wait_until(lambda: not tokens.logged_in, what="the refusal")
    await wait_until(lambda: len(sleep.waits) >= 3, what="the wait after the refusal")
    task.cancel()
    assert max(sleep.waits) >= 1800.0
    assert tokens.problem.startswith("login refused")
