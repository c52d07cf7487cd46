"""What the status page's header and banners say: the service's health at a glance, and each
account problem a person can act on. Plain data (no HTML), read from the same account status
objects as ``/readyz`` and from the store's view; never a password, a token or a message
from the cloud.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from exporter.easee.account import AccountStatus
from exporter.easee.situations import CHARGING, situation
from exporter.power_history import kilowatts
from exporter.state import StoreView

#: Per enabled account, its status now (the fleet's accounts while the service runs).
AccountSource = Callable[[], Sequence[AccountStatus]]


class Health(StrEnum):
    OK = "ok"
    STARTING = "starting"
    DEGRADED = "degraded"


class NoticeKind(StrEnum):
    """An account's issue (:class:`AccountIssue`, same values), or its stream down."""

    LOGIN_REFUSED = "login_refused"
    RATE_LIMITED = "rate_limited"
    IP_BLOCKED = "ip_blocked"
    CLOUD_UNAVAILABLE = "cloud_unavailable"
    STREAM_DOWN = "stream_down"


@dataclass(frozen=True, slots=True)
class Notice:
    """One banner: which account, what happened, and until when (epoch seconds) if known."""

    kind: NoticeKind
    account: str
    until: float | None


@dataclass(frozen=True, slots=True)
class Overview:
    health: Health
    accounts: int
    accounts_ready: int
    streams_connected: int
    #: seconds since the newest data from the cloud, None before the first
    data_age: float | None
    total_kilowatts: float
    chargers: int
    charging: int
    notices: tuple[Notice, ...]


def notices(statuses: Sequence[AccountStatus]) -> tuple[Notice, ...]:
    """The banners for the accounts' problems, in account order."""
    found: list[Notice] = []
    for status in statuses:
        if not status.enabled:
            continue
        if status.issue is not None:
            found.append(Notice(NoticeKind(status.issue.value), status.name, status.retry_at))
        elif status.stream is not None and not status.stream.connected and status.stream.sessions:
            # Down after having been up: the first connection is not a problem yet.
            found.append(Notice(NoticeKind.STREAM_DOWN, status.name, None))
    return tuple(found)


def overview(
    view: StoreView, statuses: Sequence[AccountStatus], *, now: float, alive: bool
) -> Overview:
    """The header's figures; ``alive`` is the liveness verdict (data fresh enough)."""
    enabled = [s for s in statuses if s.enabled]
    ready = sum(1 for s in enabled if s.ready)
    streams = sum(1 for s in enabled if s.stream is not None and s.stream.connected)
    found = notices(enabled)
    newest = view.last_received_at
    total = 0.0
    charging = 0
    for charger in view.chargers.values():
        total += kilowatts(charger) or 0.0
        derived = charger.derived
        if situation(derived.op_mode, online=derived.online) is CHARGING:
            charging += 1
    if found or not alive:
        health = Health.DEGRADED
    elif enabled and ready == len(enabled):
        health = Health.OK
    else:
        health = Health.STARTING
    return Overview(
        health=health,
        accounts=len(enabled),
        accounts_ready=ready,
        streams_connected=streams,
        data_age=None if newest is None else max(0.0, now - newest),
        total_kilowatts=total,
        chargers=len(view.chargers),
        charging=charging,
        notices=found,
    )
