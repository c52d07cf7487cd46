"""Tunables of the Easee client, one frozen value per service (the lead maps Settings to it).

Every interval of the client is here, so tests can run hours of behaviour in seconds. The
defaults are the production values and each one says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from exporter.easee.backoff import Backoff


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountOptions:
    """Timings, limits and URLs shared by every account of the service."""

    api_url: str = "https://api.easee.com"
    stream_url: str = "https://streams.easee.com/hubs/chargers"

    #: Seconds for one REST attempt; Easee lags at times (evcc waits 20 s).
    request_timeout: float = 20.0
    #: Our own ceiling per account, far below Easee's 500 calls per 300 s.
    budget_limit: int = 100
    budget_window: float = 300.0
    #: Slots only commands and logins may use, so snapshots never starve a pause.
    budget_reserve: int = 20
    #: How long a background call (discovery, snapshot) may wait for a budget slot.
    background_max_wait: float = 300.0

    #: Refresh the access token this long before it expires (Easee's clients: >= 60 s).
    refresh_margin: float = 120.0
    #: Wait after a 429 that carries no ``Retry-After``.
    default_retry_after: float = 60.0
    #: Account-wide pause after an IP block with no ``Retry-After`` (Easee blocks for 24 h
    #: after abuse; probing every 15 minutes costs a few calls a day).
    ip_block_backoff: float = 900.0
    #: Pause before logging in again after a refused password: retrying cannot help and
    #: repeated failures may lock the account.
    auth_failure_backoff: float = 1800.0

    #: While the account's stream has delivered nothing for this long, each charger gets a
    #: REST snapshot this often (an idle charger's heartbeat comes only every ~15 minutes;
    #: 5 minutes keeps the 15-minute liveness from flapping).
    snapshot_interval: float = 300.0
    #: Each charger's snapshot interval while the stream is down (HA polls once a minute).
    snapshot_interval_stream_down: float = 60.0
    #: A charger silent this long on a healthy stream gets a snapshot anyway (idle chargers
    #: heartbeat every ~15 minutes): at most one call per charger per hour.
    charger_snapshot_after: float = 3600.0
    #: Sites and circuits are looked up at start and again this often (one
    #: ``GET /api/accounts/products`` per account): wiring changes are rare, and Easee
    #: throttles the site documents to 10 calls an hour.
    site_refresh_interval: float = 6 * 3600.0
    #: Observation ids asked for by a snapshot; empty means the decoder's whole table.
    snapshot_ids: tuple[int, ...] = field(default_factory=tuple)

    #: End a stream session when the hub sent nothing, pings included, for this long
    #: (at least twice Easee's 15 s keep-alive).
    silence_timeout: float = 45.0
    #: Reconnect when the stream delivered no observation for this long while a snapshot
    #: shows fresher readings (idle chargers send a heartbeat about every 15 minutes).
    watchdog_silence: float = 1200.0
    #: A session that is not open within this long is abandoned.
    connect_timeout: float = 30.0
    #: SignalR ping (type 6) interval; the hub drops clients silent for about 30 s.
    hub_ping_interval: float = 15.0
    #: WebSocket-level ping interval, which detects a hard-stalled peer.
    ws_ping_interval: float = 20.0

    #: Reconnect back-off: full jitter from ``backoff_base`` doubling up to ``backoff_cap``.
    backoff_base: float = 5.0
    backoff_cap: float = 300.0
    #: First retry after a healthy session: a random delay in this range.
    quick_retry: tuple[float, float] = (0.5, 5.0)
    #: A session that delivered data resets the back-off; so does one without data (an account
    #: with no charger) that lasted this long.
    stable_after: float = 60.0
    #: Attempts (negotiates, logins) come from a bucket of this many tokens that refills one
    #: every ``attempt_refill`` seconds: 12 an hour sustained, and back within 5 minutes of
    #: the cloud's recovery however long it failed (see ``backoff.py``).
    attempt_burst: int = 6
    attempt_refill: float = 300.0
    #: Wait after negotiate answers 429 or 403 (its ``Retry-After`` is not visible to us).
    negotiate_block_backoff: float = 900.0

    #: How long to wait for the charger's ``CommandResponse`` (it sometimes takes > 10 s).
    command_timeout: float = 30.0

    def backoff(self, clock: Callable[[], float]) -> Backoff:
        """A fresh reconnect policy with these timings (stream, start-up, token renewal)."""
        return Backoff(
            base=self.backoff_base,
            cap=self.backoff_cap,
            quick=self.quick_retry,
            burst=self.attempt_burst,
            refill=self.attempt_refill,
            clock=clock,
        )
