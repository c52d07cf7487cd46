"""The simulated cloud's state and every control over it, shared by the admin API and tests.

``Simulator`` owns the accounts, the charger models, the tokens, the fault switches, the
request and hub logs, and the hub. The REST handlers, the hub and the admin API all act
through its methods, so ``sim.set_faults(stall="app")`` in a test and
``POST /_sim/faults {"stall": "app"}`` are one implementation.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from exporter.simulator.catalog import DataType
from exporter.simulator.charger import ChargerModel, Update, coerce
from exporter.simulator.clock import ModelClock
from exporter.simulator.config import AccountConfig, ChargerSpec, SimulatorConfig, make_chargers
from exporter.simulator.faults import Faults, validate_faults
from exporter.simulator.hub import Hub
from exporter.simulator.logs import EventLog, RequestLog
from exporter.simulator.problems import (
    CHARGER_DISCONNECTED,
    FORBIDDEN,
    NOT_FOUND,
    VALIDATION_FAILED,
    ProblemError,
)
from exporter.simulator.tokens import TokenIssuer, TokenPair
from exporter.simulator.wire import format_model_timestamp, format_timestamp, json_value, to_ticks


class Listener(Protocol):
    """The listening socket, as far as the refuse-connections fault needs it."""

    async def refuse(self, on: bool) -> None: ...


CommandKind = Literal["pause", "resume", "start", "stop", "toggle", "lock", "dcc", "plain"]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A ``POST /api/chargers/{id}/commands/{name}`` command (ids: easee-cloud-api.md 3.4)."""

    name: str
    command_id: int
    kind: CommandKind


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec("pause_charging", 48, "pause"),
        CommandSpec("resume_charging", 48, "resume"),
        CommandSpec("start_charging", 25, "start"),
        CommandSpec("stop_charging", 26, "stop"),
        CommandSpec("toggle_charging", 48, "toggle"),
        CommandSpec("lock_state", 30, "lock"),
        CommandSpec("set_dynamic_charger_current", 48, "dcc"),
        CommandSpec("reboot", 1, "plain"),
        CommandSpec("override_schedule", 63, "plain"),
    )
}


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """A key of ``POST /api/chargers/{id}/settings``, the observation it writes, its command."""

    key: str
    obs_id: int
    command_id: int
    kind: type


SETTINGS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec("enabled", 31, 29, bool),
        SettingSpec("lockCablePermanently", 30, 30, bool),
        SettingSpec("smartCharging", 102, 11, bool),
        SettingSpec("maxChargerCurrent", 47, 47, float),
        SettingSpec("dynamicChargerCurrent", 48, 48, float),
        SettingSpec("enableIdleCurrent", 37, 34, bool),
        SettingSpec("phaseMode", 38, 38, int),
        SettingSpec("ledStripBrightness", 40, 40, int),
        SettingSpec("authorizationRequired", 42, 5, bool),
        SettingSpec("remoteStartRequired", 43, 5, bool),
        SettingSpec("smartButtonEnabled", 44, 5, bool),
        SettingSpec("offlineChargingMode", 45, 5, int),
        SettingSpec("localPreAuthorizeEnabled", 15, 5, bool),
        SettingSpec("localAuthorizeOfflineEnabled", 16, 5, bool),
        SettingSpec("allowOfflineTxForUnknownId", 17, 5, bool),
    )
}


#: Observations a circuit setting writes on each charger of the circuit, per phase.
CIRCUIT_DYNAMIC_IDS = (111, 112, 113)
CIRCUIT_MAX_IDS = (22, 23, 24)
#: What the chargers report as the dynamic circuit current when nobody set one (fixtures).
NO_CIRCUIT_LIMIT = 40.0
#: ``SetDynamicCircuitCurrent``, the CommandResponse id of every circuit setting (3.4).
CIRCUIT_COMMAND_ID = 22


@dataclass(slots=True)
class Circuit:
    """A circuit of the account's site: a fuse in the panel and the chargers wired to it."""

    circuit_id: int
    panel: int
    rated_current: float = 25.0
    serials: list[str] = field(default_factory=list)
    #: model time at which a dynamic current set with a time to live lapses (None: never)
    dynamic_until: float | None = None
    #: the time to live the last dynamic current came with (None: through the settings)
    ttl_minutes: int | None = None


@dataclass(slots=True)
class Account:
    """An account at run time; its charger list can grow and shrink."""

    account_id: int
    username: str
    password: str
    site_id: int
    created: float
    serials: list[str] = field(default_factory=list)
    #: by panel number
    circuits: dict[int, Circuit] = field(default_factory=dict)

    def circuit(self, panel: int) -> Circuit:
        """The circuit of that panel number, created on first use."""
        circuit = self.circuits.get(panel)
        if circuit is None:
            circuit_id = 60000 + self.account_id + 10000 * (panel - 1)
            circuit = self.circuits[panel] = Circuit(circuit_id=circuit_id, panel=panel)
        return circuit

    def circuit_by_id(self, circuit_id: int) -> Circuit | None:
        return next((c for c in self.circuits.values() if c.circuit_id == circuit_id), None)

    def circuit_of(self, serial: str) -> Circuit | None:
        return next((c for c in self.circuits.values() if serial in c.serials), None)


@dataclass(frozen=True, slots=True)
class CommandAck:
    """The 202 body of a command: ``{"device","commandId","ticks"}``."""

    device: str
    command_id: int
    ticks: int

    def as_json(self) -> dict[str, Any]:
        return {"device": self.device, "commandId": self.command_id, "ticks": self.ticks}


class Simulator:
    """One simulated Easee cloud. Create it, then serve it with ``run_simulator``."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        cfg = self.config
        self.requests = RequestLog()
        self.hub_events = EventLog()
        self.faults = Faults(force_negotiate_v1=cfg.force_negotiate_v1)
        self.tokens = TokenIssuer(
            access_lifetime=cfg.token_lifetime, refresh_lifetime=cfg.refresh_token_lifetime
        )
        start = cfg.start_time.timestamp() if cfg.start_time else float(int(time.time()))
        self.clock = ModelClock(start, time_scale=cfg.time_scale, tick_interval=cfg.tick_interval)
        self.accounts: dict[str, Account] = {}
        self._accounts_by_id: dict[int, Account] = {}
        self.chargers: dict[str, ChargerModel] = {}
        self.hub = Hub(self)
        self._rng = random.Random(f"{cfg.seed}:simulator")
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_ticks = 0
        self._burst_seq = 0
        self.base_url = ""
        self.hub_url = ""
        self.admin_url = ""
        self.listener: Listener | None = None
        for index, account in enumerate(cfg.accounts):
            self.add_account(account, index=index)

    # ------------------------------------------------------------ accounts

    def add_account(self, account: AccountConfig, *, index: int | None = None) -> Account:
        """Add an account with its chargers (also at run time)."""
        if account.username in self.accounts:
            raise ValueError(f"account {account.username!r} exists")
        number = index if index is not None else len(self.accounts)
        account_id = account.account_id or 1001 + number
        runtime = Account(
            account_id=account_id,
            username=account.username,
            password=account.password,
            site_id=50000 + account_id,
            created=float(int(self.clock.now() - 400 * 86400)),
        )
        self.accounts[account.username] = runtime
        self._accounts_by_id[account_id] = runtime
        for spec in account.chargers:
            self._install(runtime, spec)
        return runtime

    def account(self, username: str) -> Account:
        try:
            return self.accounts[username]
        except KeyError:
            raise KeyError(f"no account {username!r}") from None

    def account_by_id(self, account_id: int) -> Account | None:
        return self._accounts_by_id.get(account_id)

    def username_of(self, account_id: int | None) -> str | None:
        account = self._accounts_by_id.get(account_id) if account_id is not None else None
        return account.username if account is not None else None

    def serials(self, username: str | None = None) -> list[str]:
        """Serials of one account, or of every account."""
        if username is not None:
            return list(self.account(username).serials)
        return list(self.chargers)

    # ------------------------------------------------------------ chargers

    def _install(self, account: Account, spec: ChargerSpec) -> ChargerModel:
        if spec.serial in self.chargers:
            raise ValueError(f"charger {spec.serial} exists")
        model = ChargerModel(
            spec,
            account_id=account.account_id,
            site_id=account.site_id,
            sequence=len(account.serials) + 1,
            seed=self.config.seed,
            now=self.clock.now(),
            telemetry_interval=self.config.telemetry_interval,
            heartbeat_interval=self.config.heartbeat_interval,
            autonomous=self.config.autonomous_cars,
        )
        self.chargers[spec.serial] = model
        account.serials.append(spec.serial)
        account.circuit(spec.circuit).serials.append(spec.serial)
        return model

    def add_charger(self, username: str, spec: ChargerSpec | None = None) -> str:
        """Give the account a new charger (a default one when ``spec`` is None)."""
        if spec is None:
            return self.add_chargers(username, 1)[0]
        self._install(self.account(username), spec)
        return spec.serial

    def add_chargers(self, username: str, count: int, *, prefix: str = "EH") -> list[str]:
        """Give the account ``count`` default chargers with the next free serials."""
        account = self.account(username)
        numbers = [s[len(prefix) :] for s in self.chargers if s.startswith(prefix)]
        start = 1 + max((int(n) for n in numbers if n.isdigit()), default=0)
        specs = make_chargers(count, start=start, prefix=prefix)
        for spec in specs:
            self._install(account, spec)
        return [spec.serial for spec in specs]

    def remove_charger(self, serial: str) -> None:
        """The charger disappears from its account (subscriptions just stop receiving)."""
        model = self.charger(serial)
        del self.chargers[serial]
        account = self._accounts_by_id[model.account_id]
        account.serials.remove(serial)
        circuit = account.circuit_of(serial)
        if circuit is not None:
            circuit.serials.remove(serial)

    def charger(self, serial: str) -> ChargerModel:
        try:
            return self.chargers[serial]
        except KeyError:
            raise KeyError(f"no charger {serial!r}") from None

    # ------------------------------------------------------------ truth

    def value(self, serial: str, obs_id: int) -> bool | int | float | str | None:
        """The current (typed) value of one observation of one charger."""
        return self.charger(serial).value(obs_id)

    def truth(self, serial: str) -> dict[str, Any]:
        """Everything about one charger, JSON-ready (the ``GET /_sim/chargers/{id}`` body)."""
        model = self.charger(serial)
        car = model.car
        return {
            "serial": serial,
            "account": self.username_of(model.account_id),
            "online": model.online,
            "silent": model.silent,
            "error": model.error,
            "op_mode": model.op_mode,
            "car_connected": car is not None,
            "car_energy_needed_kwh": round(car.energy_needed_kwh, 4) if car else None,
            "power_kw": model.power_kw,
            "session_energy_kwh": round(model.session_kwh, 6),
            "lifetime_energy_kwh": round(model.lifetime_kwh, 6),
            "model_time": format_model_timestamp(model.clock),
            "observations": {
                str(obs_id): {
                    "value": json_value(stored.value, stored.data_type),
                    "dataType": int(stored.data_type),
                    "timestamp": format_model_timestamp(stored.timestamp),
                }
                for obs_id, stored in sorted(model.observations.items())
            },
        }

    # ------------------------------------------------------------ auth

    def change_password(self, username: str, password: str) -> None:
        """The owner changed the account's password: later logins need the new one (tokens
        already issued keep working until they expire or are revoked)."""
        self.accounts[username].password = password

    def login(self, username: str, password: str) -> tuple[Account, TokenPair] | None:
        account = self.accounts.get(username)
        if account is None or account.password != password:
            return None
        return account, self.tokens.issue(account.account_id, account.username)

    def refresh(self, refresh_token: str) -> tuple[Account, TokenPair] | None:
        if self.faults.reject_refresh:
            return None
        account_id = self.tokens.account_of(refresh_token, "Refresh")
        account = self._accounts_by_id.get(account_id) if account_id is not None else None
        if account is None:
            return None
        return account, self.tokens.issue(account.account_id, account.username)

    def account_for_token(self, token: str) -> Account | None:
        account_id = self.tokens.account_of(token)
        return self._accounts_by_id.get(account_id) if account_id is not None else None

    def expire_tokens(self, username: str | None = None) -> int:
        """Every access token issued so far stops working; refresh tokens still work."""
        account_id = self.account(username).account_id if username else None
        return self.tokens.invalidate(account_id=account_id, kinds=("Bearer",))

    def revoke_tokens(self, username: str | None = None) -> int:
        """Every access and refresh token issued so far stops working: log in again."""
        account_id = self.account(username).account_id if username else None
        return self.tokens.invalidate(account_id=account_id, kinds=("Bearer", "Refresh"))

    # ------------------------------------------------------------ faults

    def set_faults(self, **changes: Any) -> Faults:
        """Switch faults on or off, e.g. ``set_faults(stall="app")``, ``set_faults(stall=None)``."""
        merged = {name: getattr(self.faults, name) for name in Faults.__dataclass_fields__}
        merged.update(changes)
        new = validate_faults(merged)
        stall_changed = new.stall != self.faults.stall
        self.faults = new
        self.hub_events.add("faults", changes=sorted(changes))
        if stall_changed:
            self.hub.stall_changed()
        return new

    def clear_faults(self) -> Faults:
        """Every fault off."""
        self.faults = Faults(force_negotiate_v1=self.config.force_negotiate_v1)
        self.hub.stall_changed()
        return self.faults

    def take_request_burst(self, path: str) -> tuple[int, int | None] | None:
        """Consume one request from an active 429 or 5xx burst matching ``path``."""
        for name in ("rate_limit", "server_errors"):
            burst = getattr(self.faults, name)
            if burst is None or burst.count <= 0:
                continue
            if burst.path_prefix is not None and not path.startswith(burst.path_prefix):
                continue
            remaining = replace(burst, count=burst.count - 1) if burst.count > 1 else None
            if name == "rate_limit":
                self.faults = replace(self.faults, rate_limit=remaining)
            else:
                self.faults = replace(self.faults, server_errors=remaining)
            return burst.status, burst.retry_after
        return None

    async def drop_streams(self, mode: Literal["close", "abort", "close_msg"] = "close") -> int:
        """End every hub connection; returns how many."""
        return await self.hub.drop_all(mode)

    async def refuse_connections(self, on: bool = True, *, seconds: float | None = None) -> None:
        """Stop (or resume) accepting TCP connections, as a cloud that is down; open
        connections stay up (drop them with ``drop_streams``). With ``seconds`` the
        listener comes back by itself: the admin API shares the port, so over HTTP that is
        the only way back."""
        if self.listener is None:
            raise RuntimeError("the simulator is not serving")
        await self.listener.refuse(on)
        self.hub_events.add("refuse", on=on, seconds=seconds)
        if on and seconds is not None:
            self.spawn(self._refuse_for(seconds))

    async def _refuse_for(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.refuse_connections(False)

    # ------------------------------------------------------------ scenario

    def _publish(self, updates: Iterable[Update | None]) -> list[Update]:
        done = [u for u in updates if u is not None]
        self.hub.publish(done)
        return done

    def plug_car(self, serial: str, *, energy_kwh: float | None = None) -> None:
        """A car is plugged in; it wants ``energy_kwh`` (random when None)."""
        model = self.charger(serial)
        self._publish(model.plug_car(self.clock.now(), energy_kwh=energy_kwh))

    def unplug_car(self, serial: str) -> None:
        model = self.charger(serial)
        self._publish(model.unplug_car(self.clock.now()))

    def set_error(self, serial: str, on: bool = True) -> None:
        """Op mode 5 with error code 5, or back to normal."""
        model = self.charger(serial)
        self._publish(model.set_error(on, self.clock.now()))

    def set_online(self, serial: str, on: bool = True) -> None:
        """Offline: 250 false and op mode 0; the charger then sends nothing until back."""
        model = self.charger(serial)
        self._publish(model.set_online(on, self.clock.now()))

    def set_silent(self, serial: str, on: bool = True) -> None:
        """The charger falls silent (it lost power) while the cloud still calls it connected:
        250 stays true, nothing more is pushed or stored, a replay or a REST snapshot gives the
        last values with their old timestamps, commands get no answer. ``on=False``: it wakes
        up, and its next physics step pushes fresh readings."""
        self.charger(serial).silent = on

    def set_observation(
        self, serial: str, obs_id: int, value: Any, *, timestamp: float | None = None
    ) -> None:
        """Store and push any observation (``timestamp``: model epoch seconds, default now)."""
        model = self.charger(serial)
        ts = self.clock.now() if timestamp is None else timestamp
        self._publish([model.set(obs_id, value, ts, force=True)])

    def advance(self, model_seconds: float) -> list[Update]:
        """Run the physics ``model_seconds`` forward in one step; returns what was published."""
        t = self.clock.advance(model_seconds)
        updates: list[Update] = []
        for model in list(self.chargers.values()):
            updates.extend(model.step(t))
            if model.dcc_until is not None and t >= model.dcc_until and model.online:
                # The time to live ran out: the charger goes back to its maximum.
                model.dcc_until = None
                updates.extend(model.apply_dynamic_current(model.max_current, t))
                updates.extend(model.settle(t))
        for account in self.accounts.values():
            for circuit in account.circuits.values():
                if circuit.dynamic_until is not None and t >= circuit.dynamic_until:
                    circuit.dynamic_until = None
                    limit = (NO_CIRCUIT_LIMIT,) * 3
                    for serial in circuit.serials:
                        updates.extend(self._circuit_values(serial, CIRCUIT_DYNAMIC_IDS, limit, t))
        return self._publish(updates)

    def push_burst(self, count: int, serials: list[str] | None = None, obs_id: int = 150) -> int:
        """Push ``count`` updates of ``obs_id`` round-robin over ``serials`` (default: every
        subscribed charger), for load tests. Values count up so a client can check order."""
        targets = (
            serials
            if serials is not None
            else [s for s in self.chargers if self.hub.subscribers(s)]
        )
        if not targets or count <= 0:
            return 0
        ts = self.clock.now()
        updates = []
        for n in range(count):
            self._burst_seq += 1
            model = self.chargers.get(targets[n % len(targets)])
            if model is None:
                continue
            value = 20.0 + (self._burst_seq % 1000) / 10.0
            update = model.set(
                obs_id, value if obs_id == 150 else coerce(obs_id, self._burst_seq), ts, force=True
            )
            if update is not None:
                updates.append(update)
        self.hub.publish(updates)
        return len(updates)

    def push_raw(self, text: str, serial: str | None = None) -> int:
        """Send a raw frame (nothing added, so it may be malformed) to subscribers or all."""
        return self.hub.publish_raw(text, serial)

    # ------------------------------------------------------------ commands

    def _ticks(self) -> int:
        ticks = max(to_ticks(time.time()), self._last_ticks + 1)
        self._last_ticks = ticks
        return ticks

    def owned_charger(self, account: Account, serial: str) -> ChargerModel:
        """The charger, if the account may use it (404 unknown, 403 someone else's)."""
        model = self.chargers.get(serial)
        if model is None:
            raise ProblemError(NOT_FOUND)
        if model.account_id != account.account_id:
            raise ProblemError(FORBIDDEN)
        return model

    def command(
        self, account: Account, serial: str, name: str, body: Any
    ) -> CommandAck | dict[str, Any] | None:
        """Run ``POST /api/chargers/{serial}/commands/{name}``; raises ProblemError.

        The 202 acknowledgement, or with ``synchronous_commands`` the body of a 200 answer
        (``None``: an empty one).
        """
        spec = COMMANDS[name]
        model = self.owned_charger(account, serial)
        kind = spec.kind
        if kind == "toggle":
            kind = "pause" if model.dynamic_current > 0 and model.op_mode == 3 else "resume"
        if kind in ("pause", "resume") and model.op_mode in (0, 1):
            raise ProblemError(CHARGER_DISCONNECTED)
        action = self._command_action(model, kind, body)
        ack = CommandAck(serial, spec.command_id, self._ticks())
        foreign = self.faults.foreign_command_responses
        if foreign is not None:
            self._foreign_response(ack, foreign)
        sync = self.faults.synchronous_commands
        if sync is None:
            self._execute(model, [(ack, action)])
            return ack
        if sync == "rejected":
            return {"id": spec.command_id, "wasAccepted": False, "resultCode": 4}
        if model.online and self._apply(model, action, self.clock.now()):
            self.spawn(self._settle_later(serial))
        if sync == "empty":
            return None
        return {"id": spec.command_id, "wasAccepted": True, "resultCode": 0}

    def _foreign_response(self, ours: CommandAck, seconds_before: float) -> None:
        """Another app's command with our command id, refused, made ``seconds_before`` ours."""
        theirs = CommandAck(ours.device, ours.command_id, ours.ticks - int(seconds_before * 1e7))
        self.hub.command_response(ours.device, self._command_response(theirs, accepted=False))

    def _command_action(self, model: ChargerModel, kind: str, body: Any) -> _Action:
        if kind == "pause":
            return _Action(dcc=0.0)
        if kind == "resume":
            return _Action(dcc=model.max_current)
        if kind == "start":
            return _Action(authorize=True)
        if kind == "stop":
            return _Action(authorize=False)
        if kind == "lock":
            state = body.get("state") if isinstance(body, dict) else None
            if isinstance(state, str) and state.lower() in ("true", "false"):
                state = state.lower() == "true"
            if not isinstance(state, bool):
                raise ProblemError(VALIDATION_FAILED, errors={"state": ["A boolean is required."]})
            return _Action(setting=(30, state))
        if kind == "dcc":
            amps = body.get("amps") if isinstance(body, dict) else None
            if isinstance(amps, bool) or not isinstance(amps, int | float) or amps < 0:
                raise ProblemError(
                    VALIDATION_FAILED, errors={"amps": ["A number >= 0 is required."]}
                )
            minutes = body.get("minutes", 0) if isinstance(body, dict) else 0
            if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
                raise ProblemError(
                    VALIDATION_FAILED, errors={"minutes": ["An integer >= 0 is required."]}
                )
            return _Action(dcc=float(amps), ttl_minutes=minutes)
        return _Action()

    def settings(self, account: Account, serial: str, body: Any) -> list[CommandAck]:
        """Run ``POST /api/chargers/{serial}/settings``: one ack per setting that changes."""
        model = self.owned_charger(account, serial)
        if not isinstance(body, dict):
            raise ProblemError(VALIDATION_FAILED, errors={"body": ["A JSON object is required."]})
        planned: list[tuple[CommandAck, _Action]] = []
        for key, raw in body.items():
            spec = SETTINGS.get(key)
            if spec is None or raw is None:
                continue  # ASP.NET ignores unknown members and nulls mean "leave as is"
            if spec.kind is bool and not isinstance(raw, bool):
                raise ProblemError(VALIDATION_FAILED, errors={key: ["A boolean is required."]})
            if spec.kind is not bool and (
                isinstance(raw, bool) or not isinstance(raw, int | float)
            ):
                raise ProblemError(VALIDATION_FAILED, errors={key: ["A number is required."]})
            value = coerce(spec.obs_id, raw)
            if model.value(spec.obs_id) == value:
                continue
            action = (
                _Action(dcc=float(value))
                if spec.obs_id == 48
                else _Action(setting=(spec.obs_id, value))
            )
            planned.append((CommandAck(serial, spec.command_id, self._ticks()), action))
        self._execute(model, planned)
        return [ack for ack, _ in planned]

    def _execute(self, model: ChargerModel, planned: list[tuple[CommandAck, _Action]]) -> None:
        if not planned or not model.online or model.silent:
            # An offline charger never answers: the command times out on the client side.
            return
        accepted = not self.faults.reject_commands
        now = self.clock.now()
        settle = False
        if accepted:
            for _, action in planned:
                settle = self._apply(model, action, now) or settle
        self.spawn(self._respond(model.serial, [ack for ack, _ in planned], accepted, settle))

    def _apply(self, model: ChargerModel, action: _Action, now: float) -> bool:
        """Carry out one action on the model; True when the op mode must settle later."""
        settle = False
        if action.dcc is not None:
            self._publish(model.apply_dynamic_current(action.dcc, now))
            model.dcc_ttl_minutes = action.ttl_minutes
            model.dcc_until = now + 60 * action.ttl_minutes if action.ttl_minutes else None
            settle = True
        if action.authorize is not None:
            model.authorize(action.authorize, now)
            settle = True
        if action.setting is not None:
            self._publish(model.apply_setting(action.setting[0], action.setting[1], now))
        return settle

    async def _respond(
        self, serial: str, acks: list[CommandAck], accepted: bool, settle: bool
    ) -> None:
        delay = self.faults.command_response_delay
        await asyncio.sleep(self.config.command_response_delay if delay is None else delay)
        for ack in acks:
            self.hub.command_response(serial, self._command_response(ack, accepted))
        if settle and accepted:
            await self._settle_later(serial)

    async def _settle_later(self, serial: str) -> None:
        await asyncio.sleep(self.config.op_mode_delay)
        model = self.chargers.get(serial)
        if model is not None:
            self._publish(model.settle(self.clock.now()))

    def _command_response(self, ack: CommandAck, accepted: bool) -> dict[str, Any]:
        issued = (ack.ticks - to_ticks(0)) / 10_000_000
        # The charger's clock runs a little off the cloud's: deliveredAt can be earlier.
        delivered = issued + self._rng.uniform(-0.8, 0.6)
        return {
            "serialNumber": ack.device,
            "id": ack.command_id,
            "timestamp": format_timestamp(issued, digits=6),
            "deliveredAt": format_timestamp(delivered, digits=3),
            "wasAccepted": accepted,
            "resultCode": 0 if accepted else 4,
            "comment": "" if accepted else "Rejected by charger",
            "ticks": ack.ticks,
        }

    # ------------------------------------------------------------ circuits

    def owned_circuit(self, account: Account, site_id: str, circuit_id: str) -> Circuit:
        """The circuit of the account's site (404 for any other)."""
        circuit = account.circuit_by_id(int(circuit_id)) if circuit_id.isdigit() else None
        if site_id != str(account.site_id) or circuit is None:
            raise ProblemError(NOT_FOUND)
        return circuit

    def circuit_settings(self, circuit: Circuit) -> dict[str, Any]:
        """``GET /api/sites/{site}/circuits/{circuit}/settings``, read from its first charger."""
        first = self.chargers.get(circuit.serials[0]) if circuit.serials else None

        def value(obs_id: int, default: float) -> float:
            read = first.value(obs_id) if first is not None else None
            return float(read) if isinstance(read, int | float) else default

        settings: dict[str, Any] = {
            "allowOfflineMaxCircuitCurrent": False,
            "equalizerId": None,
            "masterChargerId": circuit.serials[0] if circuit.serials else None,
            "useDynamicMaster": False,
            "enableIdleCurrent": False,
        }
        for phase, (dynamic, maximum) in enumerate(
            zip(CIRCUIT_DYNAMIC_IDS, CIRCUIT_MAX_IDS, strict=True), start=1
        ):
            settings[f"dynamicCircuitCurrentP{phase}"] = value(dynamic, NO_CIRCUIT_LIMIT)
            settings[f"maxCircuitCurrentP{phase}"] = value(maximum, circuit.rated_current)
            settings[f"offlineMaxCircuitCurrentP{phase}"] = 16
        return settings

    def set_circuit(self, circuit: Circuit, body: Any, *, ttl_endpoint: bool) -> None:
        """``POST .../circuits/{id}/settings`` or ``.../dynamicCurrent``: the new values reach
        every charger of the circuit (pushed on the stream), each of which then sends a
        CommandResponse 22. Raises ProblemError for a bad body."""
        if not isinstance(body, dict):
            raise ProblemError(VALIDATION_FAILED, errors={"body": ["A JSON object is required."]})
        keys = (
            ("phase1", "phase2", "phase3")
            if ttl_endpoint
            else tuple(f"dynamicCircuitCurrentP{n}" for n in (1, 2, 3))
        )
        dynamic = [_amperes(body, key) for key in keys]
        maximum = [
            None if ttl_endpoint else _amperes(body, f"maxCircuitCurrentP{n}") for n in (1, 2, 3)
        ]
        ttl = body.get("timeToLive", 0)
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl < 0:
            raise ProblemError(VALIDATION_FAILED, errors={"timeToLive": ["Minutes >= 0."]})
        now = self.clock.now()
        accepted = not self.faults.reject_commands
        answering: list[CommandAck] = []
        for serial in circuit.serials:
            model = self.chargers[serial]
            if not model.online or model.silent:
                continue  # an offline charger never hears of it
            answering.append(CommandAck(serial, CIRCUIT_COMMAND_ID, self._ticks()))
        if accepted:
            circuit.ttl_minutes = int(ttl) if ttl_endpoint else None
            circuit.dynamic_until = now + 60 * ttl if ttl_endpoint and ttl else None
            for ack in answering:
                updates = self._circuit_values(ack.device, CIRCUIT_MAX_IDS, maximum, now)
                updates += self._circuit_values(ack.device, CIRCUIT_DYNAMIC_IDS, dynamic, now)
                self._publish(updates)
        for ack in answering:
            self.spawn(self._respond(ack.device, [ack], accepted, settle=False))

    def _circuit_values(
        self, serial: str, ids: tuple[int, ...], values: Any, ts: float
    ) -> list[Update]:
        model = self.chargers[serial]
        updates = [
            update
            for obs_id, value in zip(ids, values, strict=True)
            if value is not None and (update := model.set(obs_id, value, ts, force=True))
        ]
        return updates + model.settle(ts) if updates else updates

    # ------------------------------------------------------------ tasks

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a background job that ``shutdown`` cancels and awaits."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run_ticker(self) -> None:
        """Step the physics every ``tick_interval`` real seconds, on a fixed schedule."""
        interval = self.config.tick_interval
        if interval <= 0:
            return
        loop = asyncio.get_running_loop()
        step = interval * self.config.time_scale
        next_at = loop.time() + interval
        while True:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            next_at += interval
            if loop.time() - next_at > 10 * interval:
                next_at = loop.time() + interval  # far behind (suspended): skip, no catch-up storm
            self.advance(step)

    async def shutdown(self) -> None:
        """Cancel and await every background job, then close every hub connection."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.hub.shutdown()


def _amperes(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ProblemError(VALIDATION_FAILED, errors={key: ["A number >= 0 is required."]})
    return float(value)


@dataclass(frozen=True, slots=True)
class _Action:
    """What one command or setting does to the charger model."""

    dcc: float | None = None
    #: the dynamic charger current's time to live (0 or None: until changed)
    ttl_minutes: int | None = None
    authorize: bool | None = None
    setting: tuple[int, Any] | None = None


__all__ = ["COMMANDS", "SETTINGS", "Account", "Circuit", "CommandAck", "DataType", "Simulator"]
