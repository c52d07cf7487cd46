"""What changed between two configurations, so a reload touches only what it must."""

from __future__ import annotations

from dataclasses import dataclass

from exporter.config.model import Charger, Settings

#: The keys of a charger entry a reload compares.
CHARGER_KEYS = tuple(Charger.model_fields)


@dataclass(frozen=True, slots=True)
class AccountChange:
    """An account present before and after a reload, and what changed about it."""

    name: str
    credentials: bool  # username or password: log in again
    enabled: bool  # switched on or off
    chargers: bool  # its listed chargers (or discovery of all of them) changed


@dataclass(frozen=True, slots=True)
class SettingsDiff:
    """The differences between two :class:`Settings`. Names and serials only, no secrets."""

    accounts_added: tuple[str, ...] = ()
    accounts_removed: tuple[str, ...] = ()
    accounts_changed: tuple[AccountChange, ...] = ()
    chargers_added: tuple[str, ...] = ()
    chargers_removed: tuple[str, ...] = ()
    chargers_changed: tuple[str, ...] = ()  # same serial, other name/account/enabled/colour
    #: per changed charger, the keys that changed (in the order of :data:`CHARGER_KEYS`)
    charger_keys_changed: tuple[tuple[str, tuple[str, ...]], ...] = ()
    webhooks_changed: bool = False
    logging_changed: bool = False
    liveness_changed: bool = False
    easee_changed: bool = False  # URLs, timeouts, budget, intervals: clients need a restart
    web_changed: bool = False
    web_config_changed: bool = False  # the web configuration file (TLS, basic auth, headers)
    metrics_changed: bool = False
    listen_address_changed: bool = False  # cannot be applied without a restart

    @property
    def empty(self) -> bool:
        """True when the two configurations are the same."""
        return self == SettingsDiff()

    def describe(self) -> list[str]:
        """Short human lines for the reload log (names and serials only)."""
        lines = [f"account {name!r} added" for name in self.accounts_added]
        lines += [f"account {name!r} removed" for name in self.accounts_removed]
        for change in self.accounts_changed:
            what = [
                label
                for label, flag in (
                    ("credentials", change.credentials),
                    ("enabled", change.enabled),
                    ("chargers", change.chargers),
                )
                if flag
            ]
            lines.append(f"account {change.name!r} changed: {', '.join(what)}")
        lines += [f"charger {serial} added" for serial in self.chargers_added]
        lines += [f"charger {serial} removed" for serial in self.chargers_removed]
        lines += [
            f"charger {serial} changed: {', '.join(keys)}"
            for serial, keys in self.charger_keys_changed
        ]
        for label, flag in (
            ("webhooks", self.webhooks_changed),
            ("logging", self.logging_changed),
            ("liveness", self.liveness_changed),
            ("easee", self.easee_changed),
            ("web", self.web_changed),
            ("web configuration file", self.web_config_changed),
            ("metrics", self.metrics_changed),
        ):
            if flag:
                lines.append(f"{label} settings changed")
        if self.listen_address_changed:
            lines.append("listen address changed: takes effect after a restart")
        return lines


def diff(old: Settings, new: Settings) -> SettingsDiff:
    """Compare two configurations (``old`` running, ``new`` just loaded)."""
    old_accounts = {a.name: a for a in old.accounts}
    new_accounts = {a.name: a for a in new.accounts}
    changed: list[AccountChange] = []
    for name in old_accounts.keys() & new_accounts.keys():
        before, after = old_accounts[name], new_accounts[name]
        change = AccountChange(
            name=name,
            credentials=(before.username, before.password) != (after.username, after.password),
            enabled=before.enabled != after.enabled,
            chargers=old.chargers_of(name) != new.chargers_of(name),
        )
        if change.credentials or change.enabled or change.chargers:
            changed.append(change)

    old_chargers = {c.serial: c for c in old.chargers}
    new_chargers = {c.serial: c for c in new.chargers}
    charger_keys = tuple(
        (serial, keys)
        for serial, after in new_chargers.items()
        if serial in old_chargers
        and (keys := _changed_keys(old_chargers[serial], after, CHARGER_KEYS))
    )
    return SettingsDiff(
        accounts_added=tuple(n for n in new_accounts if n not in old_accounts),
        accounts_removed=tuple(n for n in old_accounts if n not in new_accounts),
        accounts_changed=tuple(sorted(changed, key=lambda c: c.name)),
        chargers_added=tuple(s for s in new_chargers if s not in old_chargers),
        chargers_removed=tuple(s for s in old_chargers if s not in new_chargers),
        chargers_changed=tuple(serial for serial, _ in charger_keys),
        charger_keys_changed=charger_keys,
        webhooks_changed=old.webhooks != new.webhooks,
        logging_changed=old.logging != new.logging,
        liveness_changed=old.liveness != new.liveness,
        easee_changed=old.easee != new.easee,
        web_changed=old.web != new.web,
        web_config_changed=old.web_config != new.web_config,
        metrics_changed=old.metrics != new.metrics,
        listen_address_changed=old.web.listen_address != new.web.listen_address,
    )


def _changed_keys(before: Charger, after: Charger, keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(key for key in keys if getattr(before, key) != getattr(after, key))
