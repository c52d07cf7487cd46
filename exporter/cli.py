"""Command-line entry point (``easee-exporter``, ``python -m exporter``).

``easee-exporter [flags]`` runs the service; ``check-config``, ``healthcheck`` and
``simulate`` are sub-commands. Exit codes: 0 fine, 2 configuration error (every problem on
stderr, one per line), 1 runtime failure.

Only the standard library is imported here: ``healthcheck`` runs every few seconds in a
container and must start fast; each command imports what it needs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

from exporter import __version__

if TYPE_CHECKING:
    from exporter.config import Settings

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2

COMMANDS = ("check-config", "healthcheck", "simulate")


def add_config_file_flag(parser: argparse.ArgumentParser) -> None:
    """``--config.file``, shared by the service and ``check-config``."""
    parser.add_argument(
        "--config.file",
        dest="config_file",
        metavar="PATH",
        help="YAML configuration file (default: $EASEE_EXPORTER_CONFIG; none: environment only)",
    )


def add_web_config_flag(parser: argparse.ArgumentParser) -> None:
    """``--web.config.file``, shared by the service and ``check-config``."""
    parser.add_argument(
        "--web.config.file",
        dest="web_config_file",
        metavar="PATH",
        help="Prometheus web configuration file: TLS, basic auth, headers "
        "(default: $EASEE_EXPORTER_WEB_CONFIG; none: plain HTTP)",
    )


def parse(parser: argparse.ArgumentParser, args: Sequence[str]) -> argparse.Namespace | int:
    """Parsed arguments, or the exit code when argparse has already answered (help, usage)."""
    try:
        return parser.parse_args(args)
    except SystemExit as stop:  # argparse exits on --help (0) and on bad usage (2)
        return stop.code if isinstance(stop.code, int) else EXIT_CONFIG


def _service_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="easee-exporter",
        description=(
            "Easee EV chargers as Prometheus metrics, and an authenticated webhook controller. "
            "Other commands: check-config, healthcheck, simulate (each has --help)."
        ),
    )
    add_config_file_flag(parser)
    add_web_config_flag(parser)
    parser.add_argument(
        "--web.listen-address",
        dest="listen_address",
        metavar="HOST:PORT",
        help="address to listen on (default: $EASEE_EXPORTER_LISTEN or 0.0.0.0:34739)",
    )
    parser.add_argument(
        "--log.level",
        dest="log_level",
        metavar="LEVEL",
        help="debug, info, warning, error or critical (default: info)",
    )
    parser.add_argument(
        "--log.format",
        dest="log_format",
        metavar="FORMAT",
        help="auto (JSON unless on a terminal), json or console",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run against an in-process simulated Easee cloud (no account, no network)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _service_runner() -> Callable[[Settings], int]:
    # Imported by name at run time: the service (aiohttp, prometheus-client, the Easee
    # client) is only loaded once the configuration is known to be valid.
    module = importlib.import_module("exporter.app")
    return cast("Callable[[Settings], int]", module.run)


def serve(args: Sequence[str]) -> int:
    """Validate the configuration, then run the service until it stops."""
    parsed = parse(_service_parser(), args)
    if isinstance(parsed, int):
        return parsed
    from exporter.config import CommandLine, ConfigError, load_settings

    command_line = CommandLine(
        config_file=parsed.config_file,
        listen_address=parsed.listen_address,
        log_level=parsed.log_level,
        log_format=parsed.log_format,
        demo=parsed.demo,
        web_config_file=parsed.web_config_file,
    )
    try:
        settings = load_settings(command_line, os.environ)
    except ConfigError as error:
        for line in error.lines():
            print(line, file=sys.stderr)
        return EXIT_CONFIG
    return _service_runner()(settings)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``easee-exporter [check-config|healthcheck|simulate] ...``; return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else ""
    if command == "simulate":
        from exporter.simulator.cli import main as simulate

        return simulate(args[1:])
    if command == "check-config":
        from exporter.checkconfig import main as check_config

        return check_config(args[1:])
    if command == "healthcheck":
        from exporter.healthcheck import main as healthcheck

        return healthcheck(args[1:])
    if command and not command.startswith("-"):
        print(
            f"easee-exporter: unknown command {command!r} (commands: {', '.join(COMMANDS)})",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    return serve(args)
