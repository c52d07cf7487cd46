"""Turn the gathered sources into :class:`Settings`, or one :class:`ConfigError` listing every
problem: pydantic's field errors, unreadable ``*_file`` secrets and the cross-entry rules.

The loader is a pure function of the command-line values, an environment mapping and a file
reader, so tests never touch ``os.environ``. Each section and each list entry is validated on
its own, so that one bad entry does not hide the problems of the others.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, SecretStr, ValidationError

from exporter.config import rules
from exporter.config.errors import ConfigError, ConfigProblem, Loc
from exporter.config.model import (
    DEMO_ACCOUNT,
    DEMO_SECRET_NAME,
    DEMO_TOKEN_NAME,
    Account,
    Action,
    Charger,
    CommandLine,
    EaseeSettings,
    Frozen,
    LivenessSettings,
    LoggingSettings,
    MetricsSettings,
    Name,
    Serial,
    Settings,
    Webhooks,
    WebhookSecret,
    WebhookToken,
    WebSettings,
    new_demo_secret,
    new_demo_token,
)
from exporter.config.sources import (
    FileReader,
    RawConfig,
    describe_read_error,
    gather,
    read_yaml_mapping,
)
from exporter.config.sources import read_text_file as read_text_file
from exporter.config.webconfig import WebConfig, validate_web_config, web_config_problem

M = TypeVar("M", bound=BaseModel)
C = TypeVar("C", WebhookToken, WebhookSecret)

# The documented order of the sections, which is also the order problems are reported in.
_SECTIONS = (
    "accounts",
    "chargers",
    "webhooks",
    "liveness",
    "logging",
    "easee",
    "web",
    "metrics",
)


class _AccountEntry(Frozen):
    name: Name
    username: str | None = None
    password: SecretStr | None = None
    password_file: str | None = None
    enabled: bool = True


class _ChargerEntry(Frozen):
    serial: Serial
    account: Name | None = None
    name: str | None = None
    enabled: bool = True
    color: str | None = None  # checked by Charger, which also normalises the case


class _TokenEntry(Frozen):
    name: Name
    token: SecretStr | None = None
    token_file: str | None = None
    actions: list[Action] | None = None
    chargers: list[Serial] | None = None


class _SecretEntry(Frozen):
    name: Name
    secret: SecretStr | None = None
    secret_file: str | None = None
    actions: list[Action] | None = None
    chargers: list[Serial] | None = None


class _Loader:
    """One run of the loader: the gathered data, and the problems found so far."""

    def __init__(self, raw: RawConfig, read_file: FileReader) -> None:
        self.raw = raw
        self.read_file = read_file
        # (rank, problem): reported section by section in the documented order, each
        # section's entry problems before the rules spanning its entries.
        self.problems: list[tuple[int, ConfigProblem]] = [(-1, p) for p in raw.problems]
        #: entries validated without their faulty keys (see :meth:`_salvage`)
        self.salvaged: set[Loc] = set()

    def problem(self, loc: Loc, message: str) -> None:
        # Unknown top-level keys first: they often explain the problems that follow.
        rank = _SECTIONS.index(loc[0]) + 1 if loc and loc[0] in _SECTIONS else 0
        self.problems.append((rank, ConfigProblem(self.raw.where(loc), message)))

    def validate(
        self, model: type[M], data: object, loc: Loc, renamed: Mapping[str, str] | None = None
    ) -> M | None:
        """``model`` from ``data``, or None after recording every error under ``loc``.

        ``renamed`` moves errors of a field to the key the user wrote (a secret read from
        ``password_file`` is validated as ``password``, but reported at ``password_file``).
        """
        try:
            return model.model_validate(data)
        except ValidationError as error:
            errors = error.errors(include_url=False, include_input=False)
        for item in errors:
            where = tuple(item["loc"])
            if renamed and where and isinstance(where[0], str) and where[0] in renamed:
                where = (renamed[where[0]], *where[1:])
            self.problem((*loc, *where), field_message(item, model, where))
        return self._salvage(model, data, loc, errors)

    def _salvage(
        self, model: type[M], data: object, loc: Loc, errors: Sequence[Mapping[str, Any]]
    ) -> M | None:
        """The entry without its faulty keys, so that the rules spanning entries (duplicate
        names and serials, unknown accounts, short tokens) still see it in this run. The
        problems are recorded already, so a salvaged entry never reaches :class:`Settings`."""
        if not isinstance(data, dict):
            return None
        faulty = {item["loc"][0] for item in errors if item["loc"]}
        try:
            salvaged = model.model_validate({k: v for k, v in data.items() if k not in faulty})
        except ValidationError:
            return None  # a required key is faulty: nothing left to check
        self.salvaged.add(loc)
        return salvaged

    def items(self, data: dict[str, Any], key: str, loc: Loc) -> list[tuple[Loc, Any]]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(loc, "must be a list")
            return []
        return [((*loc, i), item) for i, item in enumerate(value)]

    def secret(
        self, loc: Loc, inline: SecretStr | None, file: str | None, field: str
    ) -> tuple[SecretStr | None, str] | None:
        """The secret of an entry (None when absent) and the key it came from; or None
        after recording why its ``*_file`` cannot be used."""
        file_key = f"{field}_file"
        if inline is not None and file is not None:
            self.problem((*loc, file_key), f"give either {field} or {file_key}, not both")
            return None
        if file is None:
            return inline, field
        path = Path(file)
        if not path.is_absolute() and self.raw.base_dir and not self.raw.from_outside_file(loc):
            path = self.raw.base_dir / path  # relative to the configuration file, as Prometheus
        try:
            text = self.read_file(path)
        except (OSError, ValueError) as error:
            self.problem((*loc, file_key), describe_read_error(path, error))
            return None
        # Secret files usually end with the newline an editor or `echo` added.
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
        return SecretStr(text), file_key

    def credential(
        self,
        model: type[C],
        loc: Loc,
        entry: _TokenEntry | _SecretEntry,
        inline: SecretStr | None,
        file: str | None,
    ) -> C | None:
        """A webhook token or secret from its entry, with its value resolved."""
        field = "token" if model is WebhookToken else "secret"
        resolved = self.secret(loc, inline, file, field)
        if resolved is None:
            return None
        value, key = resolved
        if value is None:
            self.problem((*loc, field), f"required (or {field}_file)")
            return None
        fields = _rights(entry.actions, entry.chargers)
        return self.validate(model, {"name": entry.name, field: value, **fields}, loc, {field: key})

    def run(
        self, command_line: CommandLine, demo_token: str | None, demo_secret: str | None
    ) -> Settings:
        data = self.raw.data
        for key in data:
            if key not in _SECTIONS:
                self.problem((str(key),), _unknown_key(str(key), _SECTIONS))
        liveness = self.validate(LivenessSettings, data.get("liveness") or {}, ("liveness",))
        logging = self.validate(LoggingSettings, data.get("logging") or {}, ("logging",))
        easee = self.validate(EaseeSettings, data.get("easee") or {}, ("easee",))
        web = self.validate(WebSettings, data.get("web") or {}, ("web",))
        metrics = self.validate(MetricsSettings, data.get("metrics") or {}, ("metrics",))
        accounts, invalid_names = self.accounts(data)
        chargers = self.chargers(data, accounts, invalid_names)
        tokens, secrets = self.webhooks(data, demo=command_line.demo)
        web_config = self.web_config()

        credentials: list[tuple[Loc, WebhookToken | WebhookSecret, SecretStr]] = [
            (loc, t, t.token) for loc, t in tokens
        ] + [(loc, s, s.secret) for loc, s in secrets]
        checks = rules.check_all(
            accounts, chargers, credentials, invalid_names, frozenset(self.salvaged)
        )
        for loc, message in checks:
            self.problem(loc, message)
        # A misspelt or malformed section may be where the accounts are: say that, not this.
        accounts_unknown = (
            self.raw.file_failed
            or any(key not in _SECTIONS for key in data)
            or not isinstance(data.get("accounts") or [], list)
        )
        if not (command_line.demo or accounts or invalid_names or accounts_unknown):
            self.problem(
                ("accounts",),
                "no account configured: set EASEE_USERNAME and EASEE_PASSWORD, list accounts "
                "in the configuration file, or run with --demo",
            )
        if self.problems:
            raise ConfigError(p for _, p in sorted(self.problems, key=lambda item: item[0]))

        token_list = tuple(t for _, t in tokens)
        secret_list = tuple(s for _, s in secrets)
        account_list = tuple(a for _, a in accounts)
        charger_list = tuple(c for _, c in chargers)
        if command_line.demo:
            account_list = (
                Account(name=DEMO_ACCOUNT, username="demo", password=SecretStr("demo")),
            )
            charger_list = ()
            token_list += (
                WebhookToken(name=DEMO_TOKEN_NAME, token=SecretStr(demo_token or new_demo_token())),
            )
            secret_list += (
                WebhookSecret(
                    name=DEMO_SECRET_NAME, secret=SecretStr(demo_secret or new_demo_secret())
                ),
            )
        return Settings(
            accounts=account_list,
            chargers=charger_list,
            webhooks=Webhooks(tokens=token_list, secrets=secret_list),
            demo=command_line.demo,
            command_line=command_line,
            config_file=self.raw.config_file,
            liveness=liveness or LivenessSettings(),
            logging=logging or LoggingSettings(),
            easee=easee or EaseeSettings(),
            web=web or WebSettings(),
            metrics=metrics or MetricsSettings(),
            web_config=web_config,
            web_config_file=self.raw.web_config_file,
        )

    def web_config(self) -> WebConfig | None:
        """The web configuration file, its certificates loaded once to prove they can be."""
        path = self.raw.web_config_file
        if path is None:
            return None
        rank = len(_SECTIONS) + 1  # after the main file's problems
        data, problems = read_yaml_mapping(
            path,
            self.raw.web_config_label,
            self.read_file,
            "must hold a mapping of keys (tls_server_config, basic_auth_users, ...)",
        )
        self.problems.extend((rank, p) for p in problems)
        if problems:
            return None
        config, found = validate_web_config(data or {}, path.parent)
        self.problems.extend((rank, web_config_problem(path, loc, msg)) for loc, msg in found)
        if config is None or config.tls is None:
            return config
        # Imported here: the TLS layer is only needed when the file sets it up.
        from exporter.tls import TLSFileError, server_context

        try:
            server_context(config.tls)
        except TLSFileError as error:
            loc = ("tls_server_config", error.key)
            self.problems.append((rank, web_config_problem(path, loc, error.message)))
            return None
        return config

    def accounts(self, data: dict[str, Any]) -> tuple[list[tuple[Loc, Account]], frozenset[str]]:
        valid: list[tuple[Loc, Account]] = []
        invalid: set[str] = set()
        for loc, item in self.items(data, "accounts", ("accounts",)):
            entry = self.validate(_AccountEntry, item, loc)
            if entry is None:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    invalid.add(item["name"])
                continue
            resolved = self.secret(loc, entry.password, entry.password_file, "password")
            if resolved is None:
                invalid.add(entry.name)
                continue
            password, key = resolved
            fields = entry.model_dump(exclude={"password", "password_file"})
            account = self.validate(
                Account, {**fields, "password": password}, loc, {"password": key}
            )
            if account is None:
                invalid.add(entry.name)
            else:
                valid.append((loc, account))
        return valid, frozenset(invalid)

    def chargers(
        self,
        data: dict[str, Any],
        accounts: list[tuple[Loc, Account]],
        invalid_accounts: frozenset[str],
    ) -> list[tuple[Loc, Charger]]:
        by_name = {a.name: a for _, a in accounts}
        all_names = set(by_name) | invalid_accounts
        valid: list[tuple[Loc, Charger]] = []
        for loc, item in self.items(data, "chargers", ("chargers",)):
            entry = self.validate(_ChargerEntry, item, loc)
            if entry is None:
                continue
            account_name = entry.account
            if account_name is None:
                if len(all_names) != 1:
                    self.problem(
                        (*loc, "account"), "required unless exactly one account is configured"
                    )
                    continue
                (account_name,) = all_names
            account = by_name.get(account_name)
            # The plugin's rule: a disabled account disables its chargers.
            enabled = entry.enabled and (account is None or account.enabled)
            fields = {**entry.model_dump(), "account": account_name, "enabled": enabled}
            charger = self.validate(Charger, fields, loc)
            if charger is not None:
                valid.append((loc, charger))
        return valid

    def webhooks(
        self, data: dict[str, Any], *, demo: bool
    ) -> tuple[list[tuple[Loc, WebhookToken]], list[tuple[Loc, WebhookSecret]]]:
        section = data.get("webhooks") or {}
        if not isinstance(section, dict):
            self.problem(("webhooks",), "must be a mapping with tokens and secrets")
            return [], []
        for key in section:
            if key not in ("tokens", "secrets"):
                self.problem(("webhooks", str(key)), _unknown_key(str(key), ("tokens", "secrets")))
        tokens: list[tuple[Loc, WebhookToken]] = []
        for loc, item in self.items(section, "tokens", ("webhooks", "tokens")):
            entry = self.validate(_TokenEntry, item, loc)
            if entry is None:
                continue
            if demo and entry.name == DEMO_TOKEN_NAME:
                self.problem((*loc, "name"), "'demo' is reserved for the token --demo generates")
                continue
            token = self.credential(WebhookToken, loc, entry, entry.token, entry.token_file)
            if token is not None:
                tokens.append((loc, token))
        secrets: list[tuple[Loc, WebhookSecret]] = []
        for loc, item in self.items(section, "secrets", ("webhooks", "secrets")):
            s_entry = self.validate(_SecretEntry, item, loc)
            if s_entry is None:
                continue
            if demo and s_entry.name == DEMO_SECRET_NAME:
                self.problem(
                    (*loc, "name"),
                    f"{DEMO_SECRET_NAME!r} is reserved for the secret --demo generates",
                )
                continue
            secret = self.credential(
                WebhookSecret, loc, s_entry, s_entry.secret, s_entry.secret_file
            )
            if secret is not None:
                secrets.append((loc, secret))
        return tokens, secrets


def _rights(
    actions: Collection[str] | None, chargers: Collection[str] | None
) -> dict[str, frozenset[str]]:
    fields: dict[str, frozenset[str]] = {}
    if actions is not None:
        fields["actions"] = frozenset(actions)
    if chargers is not None:
        fields["chargers"] = frozenset(chargers)
    return fields


def _unknown_key(key: str, known: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f"unknown key (did you mean {close[0]}?)" if close else "unknown key"


def _model_at(model: type[BaseModel], where: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that owns the last key of ``where`` (for suggestions on unknown keys)."""
    for part in where[:-1]:
        if not isinstance(part, str) or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        # An optional section (``Section | None``) is owned by its model all the same.
        options = [annotation, *get_args(annotation)]
        owner = next((t for t in options if isinstance(t, type) and issubclass(t, BaseModel)), None)
        if owner is None:
            return None
        model = owner
    return model


def field_message(item: Mapping[str, Any], model: type[BaseModel], where: tuple[Any, ...]) -> str:
    """A pydantic error as a short message without the value (unknown keys get a hint)."""
    kind = item["type"]
    if kind == "extra_forbidden":
        owner = _model_at(model, where)
        known = list(owner.model_fields) if owner is not None else []
        return _unknown_key(str(where[-1]), known)
    if kind == "missing":
        return "required"
    if kind in ("model_type", "dict_type"):
        return "must be a mapping of keys"
    message = str(item["msg"])
    return message.removeprefix("Value error, ")


def load_settings(
    command_line: CommandLine,
    env: Mapping[str, str],
    read_file: FileReader = read_text_file,
    *,
    demo_token: str | None = None,
    demo_secret: str | None = None,
) -> Settings:
    """Build the service's :class:`Settings` from its sources, or raise :class:`ConfigError`.

    ``command_line`` carries the flags, ``env`` the environment (``os.environ`` in the
    service), ``read_file`` reads the YAML file and ``*_file`` secrets. ``demo_token`` and
    ``demo_secret`` keep the generated credentials of ``--demo`` across reloads.
    """
    raw = gather(command_line, env, read_file)
    return _Loader(raw, read_file).run(command_line, demo_token, demo_secret)


def reload_settings(
    current: Settings, env: Mapping[str, str], read_file: FileReader = read_text_file
) -> Settings | ConfigError:
    """Read the same sources again (for SIGHUP). On error the caller keeps ``current``."""
    token, secret = current.demo_token, current.demo_secret
    try:
        return load_settings(
            current.command_line,
            env,
            read_file,
            demo_token=token.get_secret_value() if token is not None else None,
            demo_secret=secret.get_secret_value() if secret is not None else None,
        )
    except ConfigError as error:
        return error
