"""What a simulated cloud is made of: accounts, their chargers, and the timings it runs with.

Everything here is immutable. Two kinds of time are kept apart on purpose: the charger
physics run on a *model clock* that ``time_scale`` speeds up (hours of charging in seconds),
while protocol timings (token lifetime, keep-alive, client timeout, command response delay)
are real seconds, because a client's timers run on real time whatever the charger does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeAlias

Scenario: TypeAlias = Literal["charging", "connected", "paused", "idle", "offline", "error"]
Grid: TypeAlias = Literal["TN", "IT"]
Network: TypeAlias = Literal["wifi", "cellular"]
BoolSpelling: TypeAlias = Literal["True", "true", "1", "mix"]

SCENARIOS: tuple[Scenario, ...] = ("charging", "connected", "paused", "idle", "offline", "error")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerSpec:
    """One charger as it is when the simulator starts.

    ``scenario``: ``charging`` (car plugged in and drawing current), ``connected`` (car
    plugged in and full: op mode 4), ``paused`` (car plugged in, dynamic current 0),
    ``idle`` (no car), ``offline`` (op mode 0, not connected to the cloud), ``error``
    (op mode 5). ``phases`` is what the car draws (1 or 3).
    """

    serial: str
    name: str = ""
    scenario: Scenario = "idle"
    grid: Grid = "TN"
    network: Network = "wifi"
    phases: int = 3
    max_current: float = 32.0
    product_code: int = 1
    color: int = 1
    firmware: int = 322
    cable_permanently_locked: bool = False
    #: the panel number of the circuit (on the account's one site) the charger is wired to
    circuit: int = 1

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}")
        if self.phases not in (1, 3):
            raise ValueError("phases must be 1 or 3")
        if not 6.0 <= self.max_current <= 32.0:
            raise ValueError("max_current must be within 6..32 A")
        if not 1 <= self.circuit <= 99:
            raise ValueError("circuit must be a panel number within 1..99")

    @property
    def display_name(self) -> str:
        return self.name or f"Easee Home {self.serial[-5:]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountConfig:
    """An Easee account: credentials and the chargers it owns."""

    username: str
    password: str
    chargers: tuple[ChargerSpec, ...] = ()
    account_id: int = 0  # 0: numbered after its position in SimulatorConfig.accounts


# The default fleet cycles through these, so three chargers cover the three situations the
# product contract requires (charging, car connected but not charging, no car), and larger
# fleets mix grids and radio technologies.
_DEFAULT_CYCLE: tuple[tuple[Scenario, Grid, Network, int], ...] = (
    ("charging", "TN", "wifi", 3),
    ("connected", "TN", "cellular", 3),
    ("idle", "IT", "wifi", 1),
    ("charging", "IT", "wifi", 1),
    ("paused", "TN", "wifi", 3),
    ("idle", "TN", "cellular", 3),
)


def make_chargers(count: int, *, start: int = 1, prefix: str = "EH") -> tuple[ChargerSpec, ...]:
    """``count`` chargers with serials ``EH000001``, ``EH000002``... from ``start`` on."""
    specs = []
    for number in range(start, start + count):
        scenario, grid, network, phases = _DEFAULT_CYCLE[(number - start) % len(_DEFAULT_CYCLE)]
        serial = f"{prefix}{number:06d}"
        specs.append(
            ChargerSpec(
                serial=serial,
                name=f"Charger {number}",
                scenario=scenario,
                grid=grid,
                network=network,
                phases=phases,
            )
        )
    return tuple(specs)


def _default_accounts() -> tuple[AccountConfig, ...]:
    return (AccountConfig(username="demo", password="demo", chargers=make_chargers(3)),)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatorConfig:
    """Settings of one simulated cloud. Times are real seconds unless named ``model``."""

    accounts: tuple[AccountConfig, ...] = field(default_factory=_default_accounts)
    seed: int = 1
    # Model seconds per real second for the charger physics (1 = real time).
    time_scale: float = 1.0
    # Model time at start; None: the current wall-clock time, whole seconds.
    start_time: datetime | None = None
    # Real seconds between two physics steps; 0 disables the ticker (advance() by hand).
    tick_interval: float = 1.0
    # Model seconds between two telemetry pushes of a charging charger.
    telemetry_interval: float = 30.0
    # Model seconds between two heartbeats (temperature, RSSI) of any online charger.
    heartbeat_interval: float = 900.0
    # Cars plug in, charge, complete and leave on their own (model clock).
    autonomous_cars: bool = True

    token_lifetime: float = 3600.0
    refresh_token_lifetime: float = 86400.0
    keepalive_interval: float = 15.0
    client_timeout: float = 30.0
    command_response_delay: float = 0.8
    # After the CommandResponse of a pause/resume, the op mode follows this much later.
    op_mode_delay: float = 1.0
    force_negotiate_v1: bool = False
    # aiohttp WebSocket PING frames from the hub every N seconds (None: none, as by default).
    ws_heartbeat: float | None = None
    max_records_per_frame: int = 20
    bool_spelling: BoolSpelling = "True"

    def __post_init__(self) -> None:
        serials = [spec.serial for account in self.accounts for spec in account.chargers]
        if len(serials) != len(set(serials)):
            raise ValueError("charger serials must be unique across accounts")
        names = [account.username for account in self.accounts]
        if len(names) != len(set(names)):
            raise ValueError("usernames must be unique")
        if self.time_scale < 0:
            raise ValueError("time_scale must not be negative")
        if self.max_records_per_frame < 1:
            raise ValueError("max_records_per_frame must be at least 1")

    @classmethod
    def single_account(
        cls,
        *,
        username: str = "demo",
        password: str = "demo",
        chargers: int = 3,
        **settings: object,
    ) -> SimulatorConfig:
        """One account owning ``chargers`` default chargers (the ``simulate`` command's cloud)."""
        account = AccountConfig(
            username=username, password=password, chargers=make_chargers(chargers)
        )
        return cls(accounts=(account,), **settings)  # type: ignore[arg-type]
