"""Where configuration values come from: the YAML file, the environment, the command line.

Each source is laid over the previous one as plain data (file < environment < command line),
and every value set by the environment or the command line records its origin, so a problem
with it is reported under the variable or flag the user actually set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from exporter.config.errors import ConfigProblem, Loc, format_loc
from exporter.config.model import CommandLine

FileReader = Callable[[Path], str]

ENV_CONFIG_FILE = "EASEE_EXPORTER_CONFIG"
ENV_WEB_CONFIG_FILE = "EASEE_EXPORTER_WEB_CONFIG"
ENV_ACCOUNT = "default"  # the account EASEE_USERNAME / EASEE_PASSWORD define
ENV_TOKEN = "default"  # the webhook token EASEE_WEBHOOK_TOKEN defines

# (variable, key path) for the plain values the environment may set.
ENV_VALUES: tuple[tuple[str, tuple[str, str]], ...] = (
    ("EASEE_API_URL", ("easee", "api_url")),
    ("EASEE_STREAM_URL", ("easee", "stream_url")),
    ("EASEE_EXPORTER_LISTEN", ("web", "listen_address")),
    ("EASEE_LIVENESS_MAX_DATA_AGE", ("liveness", "max_data_age")),
    ("EASEE_LIVENESS_EXIT_WATCHDOG", ("liveness", "exit_watchdog")),
    ("EASEE_CHARGER_OFFLINE_AFTER", ("easee", "charger_offline_after")),
    ("EASEE_LOG_LEVEL", ("logging", "level")),
    ("EASEE_LOG_FORMAT", ("logging", "format")),
    ("EASEE_LOG_EXTENDED_DEBUG", ("logging", "extended_debug")),
    ("EASEE_LOG_UNSAFE", ("logging", "unsafe")),
)


def read_text_file(path: Path) -> str:
    """The default file reader: the whole file as UTF-8 text."""
    return path.read_text(encoding="utf-8")


def describe_read_error(path: Path | str, error: Exception) -> str:
    """``cannot read PATH: reason``, without ever quoting the file's content."""
    if isinstance(error, UnicodeDecodeError):
        reason = "not UTF-8 text"
    elif isinstance(error, OSError):
        reason = error.strerror or type(error).__name__
    else:
        reason = type(error).__name__
    return f"cannot read {path}: {reason}"


@dataclass
class RawConfig:
    """The merged configuration as plain data, before validation."""

    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[Loc, str] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)
    config_file: Path | None = None
    # Directory that relative ``*_file`` paths of the YAML file are resolved against.
    base_dir: Path | None = None
    # The file could not be read or parsed: what it holds is unknown.
    file_failed: bool = False
    # The web configuration file (``--web.config.file``) and the flag or variable naming it.
    web_config_file: Path | None = None
    web_config_label: str = ""

    def from_outside_file(self, loc: Loc) -> bool:
        """Whether the value at ``loc`` (or its entry) came from the environment or a flag."""
        return any(loc[:end] in self.origins for end in range(len(loc), 0, -1))

    def where(self, loc: Loc) -> str:
        """The key path, preceded by the variable or flag that set it, if one did."""
        for end in range(len(loc), 0, -1):
            origin = self.origins.get(loc[:end])
            if origin is not None:
                return f"{origin} ({format_loc(loc)})"
        return format_loc(loc)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (YAML keeps the last)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, str | int | float | bool) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node))


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _read_yaml(path: Path, label: str, read_file: FileReader, raw: RawConfig) -> None:
    document, problems = read_yaml_mapping(
        path, label, read_file, "must hold a mapping of keys (accounts, chargers, ...)"
    )
    raw.problems.extend(problems)
    raw.file_failed = bool(problems)
    raw.data = document or {}


def read_yaml_mapping(
    path: Path, label: str, read_file: FileReader, expected: str
) -> tuple[dict[str, Any] | None, list[ConfigProblem]]:
    """The mapping a YAML file holds (None when empty), or the problems reading it.

    ``label`` locates a file that cannot be read (the flag or variable naming it);
    ``expected`` is the message when the document is not a mapping.
    """
    try:
        text = read_file(path)
    except (OSError, ValueError) as error:
        return None, [ConfigProblem(label, describe_read_error(path, error))]
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        # Only the problem and its position: PyYAML's own message quotes the offending
        # line, which may be a password.
        mark = error.problem_mark
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        what = error.problem or "invalid YAML"
        if error.context and error.context_mark:
            start = error.context_mark
            what += f" ({error.context} at line {start.line + 1}, column {start.column + 1})"
        return None, [ConfigProblem(where, what)]
    except yaml.YAMLError:
        return None, [ConfigProblem(str(path), "invalid YAML")]
    if document is None:
        return None, []
    if not isinstance(document, dict):
        return None, [ConfigProblem(str(path), expected)]
    return document, []


def _env(env: Mapping[str, str], name: str) -> str | None:
    # An empty variable counts as unset: compose files often pass VAR= through.
    value = env.get(name)
    return value if value else None


def _section(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The mapping at ``data[key]``, created when absent; None when it is not a mapping
    (validation reports that, and overlaying into it would hide the real problem)."""
    value = data.get(key)
    if value is None:
        value = data[key] = {}
    return value if isinstance(value, dict) else None


def _list(data: dict[str, Any], key: str) -> list[Any] | None:
    value = data.get(key)
    if value is None:
        value = data[key] = []
    return value if isinstance(value, list) else None


def _named_entry(entries: list[Any], name: str) -> int:
    """Index of the mapping entry called ``name``, appending an empty one if there is none."""
    for index, entry in enumerate(entries):
        if isinstance(entry, dict) and entry.get("name") == name:
            return index
    entries.append({"name": name})
    return len(entries) - 1


def _overlay_env_account(env: Mapping[str, str], raw: RawConfig) -> None:
    username = _env(env, "EASEE_USERNAME")
    password = _env(env, "EASEE_PASSWORD")
    password_file = _env(env, "EASEE_PASSWORD_FILE")
    if username is None and password is None and password_file is None:
        return
    accounts = _list(raw.data, "accounts")
    if accounts is None:
        return
    index = _named_entry(accounts, ENV_ACCOUNT)
    entry = accounts[index]
    loc: Loc = ("accounts", index)
    if len(entry) == 1:  # created here: problems with the account as a whole are the env's
        raw.origins[loc] = "EASEE_USERNAME"
    if username is not None:
        entry["username"] = username
        raw.origins[(*loc, "username")] = "EASEE_USERNAME"
    if password is not None and password_file is not None:
        raw.problems.append(
            ConfigProblem(
                "EASEE_PASSWORD_FILE", "set EASEE_PASSWORD or EASEE_PASSWORD_FILE, not both"
            )
        )
        password_file = None
    if password is not None:
        entry.pop("password_file", None)
        entry["password"] = password
        raw.origins[(*loc, "password")] = "EASEE_PASSWORD"
    if password_file is not None:
        entry.pop("password", None)
        entry["password_file"] = password_file
        raw.origins[(*loc, "password_file")] = "EASEE_PASSWORD_FILE"


def _overlay_env_token(env: Mapping[str, str], raw: RawConfig) -> None:
    token = _env(env, "EASEE_WEBHOOK_TOKEN")
    token_file = _env(env, "EASEE_WEBHOOK_TOKEN_FILE")
    if token is None and token_file is None:
        return
    if token is not None and token_file is not None:
        raw.problems.append(
            ConfigProblem(
                "EASEE_WEBHOOK_TOKEN_FILE",
                "set EASEE_WEBHOOK_TOKEN or EASEE_WEBHOOK_TOKEN_FILE, not both",
            )
        )
        token_file = None
    webhooks = _section(raw.data, "webhooks")
    tokens = _list(webhooks, "tokens") if webhooks is not None else None
    if tokens is None:
        return
    index = _named_entry(tokens, ENV_TOKEN)
    loc: Loc = ("webhooks", "tokens", index)
    # The contract's environment token may do everything: it replaces a file entry of the
    # same name as a whole, rights included.
    if token is not None:
        tokens[index] = {"name": ENV_TOKEN, "token": token}
        raw.origins[loc] = "EASEE_WEBHOOK_TOKEN"
    elif token_file is not None:
        tokens[index] = {"name": ENV_TOKEN, "token_file": token_file}
        raw.origins[loc] = "EASEE_WEBHOOK_TOKEN_FILE"


def _set(raw: RawConfig, path: tuple[str, str], value: object, origin: str) -> None:
    section = _section(raw.data, path[0])
    if section is not None:
        section[path[1]] = value
        raw.origins[path] = origin


def gather(command_line: CommandLine, env: Mapping[str, str], read_file: FileReader) -> RawConfig:
    """Read the file (if any) and lay the environment and the command line over it."""
    raw = RawConfig()
    if command_line.config_file:
        path, label = Path(command_line.config_file), "--config.file"
    elif (from_env := _env(env, ENV_CONFIG_FILE)) is not None:
        path, label = Path(from_env), ENV_CONFIG_FILE
    else:
        path = None
    if path is not None:
        raw.config_file = path
        raw.base_dir = path.parent
        _read_yaml(path, label, read_file, raw)

    if command_line.web_config_file:
        raw.web_config_file, raw.web_config_label = (
            Path(command_line.web_config_file),
            "--web.config.file",
        )
    elif (web_from_env := _env(env, ENV_WEB_CONFIG_FILE)) is not None:
        raw.web_config_file, raw.web_config_label = Path(web_from_env), ENV_WEB_CONFIG_FILE

    _overlay_env_account(env, raw)
    _overlay_env_token(env, raw)
    for name, key in ENV_VALUES:
        if (value := _env(env, name)) is not None:
            _set(raw, key, value, name)

    if command_line.listen_address is not None:
        _set(raw, ("web", "listen_address"), command_line.listen_address, "--web.listen-address")
    if command_line.log_level is not None:
        _set(raw, ("logging", "level"), command_line.log_level, "--log.level")
    if command_line.log_format is not None:
        _set(raw, ("logging", "format"), command_line.log_format, "--log.format")
    return raw
