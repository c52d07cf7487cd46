"""Rules that span several entries (the plugin's account rules, uniqueness of names).

They work on (key path, entry) pairs so the loader can report each problem where the user
wrote it, and :class:`~exporter.config.model.Settings` can re-check the same invariants when
built directly. Messages name entries and key paths, never secret values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import SecretStr

from exporter.config.errors import Loc, format_loc

Problem = tuple[Loc, str]


class AccountLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> SecretStr | None: ...
    @property
    def enabled(self) -> bool: ...


class ChargerLike(Protocol):
    @property
    def serial(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def enabled(self) -> bool: ...


class CredentialLike(Protocol):
    @property
    def name(self) -> str: ...


def check_accounts(
    accounts: Sequence[tuple[Loc, AccountLike]], partial: frozenset[Loc] = frozenset()
) -> list[Problem]:
    """Unique names; credentials on every enabled account; no login shared by two accounts.

    Accounts in ``partial`` had faulty keys left out (already reported): they take part in
    the rules between accounts, but a missing credential may be one of the keys left out."""
    problems: list[Problem] = []
    names: dict[str, Loc] = {}
    usernames: dict[str, Loc] = {}
    for loc, account in accounts:
        if account.name in names:
            problems.append(
                (
                    (*loc, "name"),
                    f"{account.name!r} is already the name of {format_loc(names[account.name])}",
                )
            )
        else:
            names[account.name] = loc
        if not account.enabled:
            continue
        complete = loc not in partial
        if complete and account.username is None:
            problems.append(((*loc, "username"), "required for an enabled account"))
        if complete and account.password is None:
            problems.append(
                ((*loc, "password"), "required for an enabled account (or password_file)")
            )
        if account.username is not None:
            key = account.username.casefold()
            if key in usernames:
                problems.append(
                    (
                        (*loc, "username"),
                        f"same username as {format_loc(usernames[key])}: one account per login",
                    )
                )
            else:
                usernames[key] = loc
    return problems


def check_chargers(
    chargers: Sequence[tuple[Loc, ChargerLike]],
    accounts: Sequence[AccountLike],
    unchecked_accounts: frozenset[str] = frozenset(),
) -> list[Problem]:
    """Every charger names an existing account, is listed once, and is not enabled under a
    disabled account. Names in ``unchecked_accounts`` belong to accounts that were invalid
    themselves (already reported), so chargers naming them are not reported again."""
    problems: list[Problem] = []
    by_name = {a.name: a for a in accounts}
    serials: dict[str, Loc] = {}
    for loc, charger in chargers:
        account = by_name.get(charger.account)
        if account is None:
            if charger.account not in unchecked_accounts:
                problems.append(((*loc, "account"), f"no account is named {charger.account!r}"))
        elif charger.enabled and not account.enabled:
            problems.append(((*loc, "enabled"), f"account {charger.account!r} is disabled"))
        if charger.serial in serials:
            problems.append(
                (
                    (*loc, "serial"),
                    f"{charger.serial} is already listed at {format_loc(serials[charger.serial])}",
                )
            )
        else:
            serials[charger.serial] = loc
    return problems


def check_credentials(
    credentials: Sequence[tuple[Loc, CredentialLike, SecretStr]],
) -> list[Problem]:
    """Webhook token and secret names are unique (they appear in logs and metrics), and no
    two credentials share a value (the service could not tell which one was used)."""
    problems: list[Problem] = []
    names: dict[str, Loc] = {}
    values: dict[str, Loc] = {}
    for loc, credential, value in credentials:
        if credential.name in names:
            first = format_loc(names[credential.name])
            problems.append(((*loc, "name"), f"{credential.name!r} is already the name of {first}"))
        else:
            names[credential.name] = loc
        secret = value.get_secret_value()
        if secret in values:
            problems.append((loc, f"same value as {format_loc(values[secret])}"))
        else:
            values[secret] = loc
    return problems


def check_all(
    accounts: Sequence[tuple[Loc, AccountLike]],
    chargers: Sequence[tuple[Loc, ChargerLike]],
    credentials: Sequence[tuple[Loc, CredentialLike, SecretStr]],
    unchecked_accounts: frozenset[str] = frozenset(),
    partial: frozenset[Loc] = frozenset(),
) -> list[Problem]:
    """All of the rules above, in reading order (``partial``: see :func:`check_accounts`)."""
    return (
        check_accounts(accounts, partial)
        + check_chargers(chargers, [a for _, a in accounts], unchecked_accounts)
        + check_credentials(credentials)
    )
