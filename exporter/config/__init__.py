"""The service's configuration: a YAML file, the environment and flags, validated into one
frozen :class:`Settings`, or a :class:`ConfigError` listing every problem with its key path.

Typical use::

    settings = load_settings(CommandLine(config_file="easee.yaml"), os.environ)
    ...
    result = reload_settings(settings, os.environ)          # on SIGHUP
    if isinstance(result, ConfigError): keep settings, log result.problems
    else: apply diff(settings, result), settings = result
"""

from exporter.config.diff import AccountChange, SettingsDiff, diff
from exporter.config.errors import ConfigError, ConfigProblem
from exporter.config.loader import load_settings, read_text_file, reload_settings
from exporter.config.model import (
    ACTIONS,
    DEFAULT_LISTEN_ADDRESS,
    DEFAULT_PORT,
    Account,
    Action,
    Charger,
    CommandLine,
    EaseeSettings,
    LivenessSettings,
    LoggingSettings,
    RateLimit,
    RequestBudget,
    Settings,
    Webhooks,
    WebhookSecret,
    WebhookToken,
    WebSettings,
)

__all__ = [
    "ACTIONS",
    "DEFAULT_LISTEN_ADDRESS",
    "DEFAULT_PORT",
    "Account",
    "AccountChange",
    "Action",
    "Charger",
    "CommandLine",
    "ConfigError",
    "ConfigProblem",
    "EaseeSettings",
    "LivenessSettings",
    "LoggingSettings",
    "RateLimit",
    "RequestBudget",
    "Settings",
    "SettingsDiff",
    "WebSettings",
    "WebhookSecret",
    "WebhookToken",
    "Webhooks",
    "diff",
    "load_settings",
    "read_text_file",
    "reload_settings",
]
