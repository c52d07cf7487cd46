"""The service's Easee accounts and the charger store they feed, kept in step with the settings.

One :class:`~exporter.easee.account.EaseeAccount` runs per enabled account, each in its own
task, so one account's bad password or IP block never stops another's data. The fleet maps
the configuration onto them (credentials, listed chargers with their names and colours) and
applies a reloaded configuration without a restart: only the accounts whose settings changed
are restarted, and the chargers that left (removed from the configuration, their account
disabled or gone) leave the store, hence ``/metrics``, at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

import aiohttp
import structlog

from exporter.config import Settings
from exporter.easee.account import AccountConfig, ChargerRef, EaseeAccount, EqualizerSelection
from exporter.easee.client import Credentials
from exporter.easee.enums import CHARGER_COLORS
from exporter.easee.events import ClientEvents
from exporter.easee.models import ChargerSummary, Circuit, Site
from exporter.easee.options import AccountOptions
from exporter.state import ChargerMeta, StateStore

_log = structlog.get_logger(__name__)


def account_options(settings: Settings) -> AccountOptions:
    """The Easee client's tunables from the service settings."""
    easee = settings.easee
    return AccountOptions(
        api_url=str(easee.api_url),
        stream_url=str(easee.stream_url),
        request_timeout=easee.request_timeout,
        budget_limit=easee.request_budget.calls,
        budget_window=easee.request_budget.period,
        # Commands and logins keep a fifth of the budget for themselves.
        budget_reserve=max(1, easee.request_budget.calls // 5),
        snapshot_interval=easee.snapshot_interval,
        snapshot_interval_stream_down=easee.snapshot_interval_stream_down,
        watchdog_silence=easee.stream_silence_timeout,
        command_timeout=easee.command_timeout,
    )


def account_configs(settings: Settings) -> dict[str, AccountConfig]:
    """One client configuration per configured account (disabled ones included)."""
    configs: dict[str, AccountConfig] = {}
    for account in settings.accounts:
        listed = settings.chargers_of(account.name)
        refs = tuple(ChargerRef(c.serial, c.name) for c in listed if c.enabled)
        # Listed chargers that are all disabled leave nothing to watch: an empty list would
        # mean "discover every charger" to the client.
        enabled = account.enabled and (not listed or bool(refs))
        credentials = Credentials(username="", password="")
        if enabled:
            username, password = account.credentials()
            credentials = Credentials(username=username, password=password.get_secret_value())
        configs[account.name] = AccountConfig(
            name=account.name,
            credentials=credentials,
            enabled=enabled,
            chargers=refs,
            equalizers=EqualizerSelection(account.equalizers, account.exclude_equalizers),
        )
    return configs


class Fleet:
    """Every account of the service, and the store their observations go to."""

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        store: StateStore,
        events: ClientEvents,
        account_factory: Callable[..., EaseeAccount] = EaseeAccount,
    ) -> None:
        self._session = session
        self._store = store
        self._events = events
        self._factory = account_factory
        self._accounts: dict[str, EaseeAccount] = {}
        self._configs: dict[str, AccountConfig] = {}
        self._options: AccountOptions | None = None
        self._settings: Settings | None = None
        self._owner: dict[str, str] = {}  # charger id -> account name
        self._sites: dict[str, tuple[Site, ...]] = {}

    @property
    def accounts(self) -> Mapping[str, EaseeAccount]:
        return self._accounts

    def account_for(self, charger_id: str) -> EaseeAccount | None:
        """The running account that owns ``charger_id``, if any."""
        owner = self._owner.get(charger_id)
        return None if owner is None else self._accounts.get(owner)

    def discovering(self) -> bool:
        """True while an enabled account does not know its chargers yet."""
        return any(not account.chargers for account in self._accounts.values())

    def readiness(self) -> dict[str, tuple[bool, str]]:
        """Per enabled account: logged in and subscribed, or why not."""
        verdicts: dict[str, tuple[bool, str]] = {}
        for name, account in self._accounts.items():
            status = account.status
            if not status.enabled:
                continue
            missing = status.not_ready_because
            verdicts[name] = (missing is None, missing or "subscribed")
        return verdicts

    def state_replayed(self) -> bool:
        """Whether every enabled account holds the replayed state of all its chargers (the
        initial state is in). False while there is no enabled account."""
        statuses = [a.status for a in self._accounts.values()]
        enabled = [status for status in statuses if status.enabled]
        return bool(enabled) and all(status.state_replayed for status in enabled)

    async def apply(self, settings: Settings) -> None:
        """Start, restart or stop accounts so that they match ``settings``."""
        options = account_options(settings)
        configs = account_configs(settings)
        restart_all = self._options is not None and options != self._options
        self._options = options
        self._settings = settings
        stops = [
            name
            for name in self._accounts
            if name not in configs or restart_all or configs[name] != self._configs.get(name)
        ]
        await asyncio.gather(*(self._stop(name) for name in stops))
        for name, config in configs.items():
            if name in self._accounts or not config.enabled:
                continue
            self._configs[name] = config
            self._accounts[name] = self._new_account(config, options)
            await self._accounts[name].start()
        # Listed names and colours may change without a restart.
        for name, account in self._accounts.items():
            self._on_chargers(name, account.chargers)

    async def stop(self) -> None:
        """Stop every account and wait for them."""
        await asyncio.gather(*(self._stop(name) for name in list(self._accounts)))

    async def _stop(self, name: str) -> None:
        account = self._accounts.pop(name, None)
        self._configs.pop(name, None)
        if account is not None:
            await account.stop()
            _log.info("account stopped", account=name)
        self._forget_chargers(name, keep=())
        self._sites.pop(name, None)
        self._store.set_sites(name, ())
        self._store.equalizers.set_equalizers(name, ())

    def _new_account(self, config: AccountConfig, options: AccountOptions) -> EaseeAccount:
        return self._factory(
            config,
            session=self._session,
            options=options,
            events=self._events,
            sink=self._store.apply,
            on_chargers=self._on_chargers,
            on_sites=self._on_sites,
            equalizer_sink=self._store.equalizers.apply,
        )

    def _on_sites(self, account: str, sites: Sequence[Site]) -> None:
        self._sites[account] = tuple(sites)
        self._store.set_sites(account, tuple(sites))
        running = self._accounts.get(account)
        if running is not None:
            # The chargers' site and circuit labels come from the sites.
            self._on_chargers(account, running.chargers)
        selected = set() if running is None else {e.equalizer_id for e in running.equalizers}
        self._store.equalizers.set_equalizers(
            account,
            [
                (equalizer, site)
                for site in sites
                for equalizer in site.equalizers
                if equalizer.equalizer_id in selected
            ],
        )

    def _on_chargers(self, account: str, chargers: Sequence[ChargerSummary]) -> None:
        settings = self._settings
        listed = {c.serial: c for c in settings.chargers_of(account)} if settings else {}
        for summary in chargers:
            configured = listed.get(summary.charger_id)
            name = (configured.name if configured else None) or summary.name
            color = summary.color
            if configured is not None and configured.color is not None:
                entry = next(
                    (e for e in CHARGER_COLORS.entries if e.label == configured.color), None
                )
                color = int(entry.code) if entry is not None else color
            site, circuit = self._placement(account, summary.charger_id)
            self._store.upsert_charger(
                ChargerMeta(
                    charger_id=summary.charger_id,
                    name=name or summary.charger_id,
                    account=account,
                    color=color,
                    product_code=summary.product_code,
                    site_id=None if site is None else site.site_id,
                    site_name=None if site is None else site.name,
                    circuit_id=None if circuit is None else circuit.circuit_id,
                )
            )
            self._owner[summary.charger_id] = account
        self._forget_chargers(account, keep={c.charger_id for c in chargers})

    def _placement(self, account: str, charger_id: str) -> tuple[Site | None, Circuit | None]:
        """The site and circuit a charger is wired to, as far as its account's sites say."""
        for site in self._sites.get(account, ()):
            circuit = site.circuit_of(charger_id)
            if circuit is not None:
                return site, circuit
        return None, None

    def _forget_chargers(self, account: str, keep: Sequence[str] | set[str]) -> None:
        for charger_id, owner in list(self._owner.items()):
            if owner == account and charger_id not in keep:
                del self._owner[charger_id]
                self._store.remove_charger(charger_id)
