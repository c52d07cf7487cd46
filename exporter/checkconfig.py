"""``easee-exporter check-config``: validate the configuration, optionally log in to Easee.

Exit 0 when everything is fine, 2 when the configuration is invalid (every problem on stderr,
one per line), 1 when an account's credentials are refused or cannot be checked. Nothing it
prints contains a password or a token.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from exporter.cli import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    add_config_file_flag,
    add_web_config_flag,
    parse,
)
from exporter.config import Account, CommandLine, ConfigError, Settings, load_settings
from exporter.logs import Redactor

# Easee's answer to a wrong e-mail/phone or password (easee-cloud-api.md 1.2).
INVALID_USER_PASSWORD = 100
_HINTS = {
    403: "Easee blocks an address for 24 hours after too many requests",
    429: "too many requests: wait before trying again",
}


@dataclass(frozen=True, slots=True)
class LoginResult:
    """The outcome of one login attempt: ``error`` is None when the cloud accepted it."""

    account: str
    error: str | None


async def _problem_details(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return {}
    return body if isinstance(body, dict) else {}


async def check_login(
    session: aiohttp.ClientSession, api_url: str, account: Account, time_limit: float
) -> LoginResult:
    """Log in once as ``account`` (``POST {api_url}/api/accounts/login``) and say how it went."""
    username, password = account.credentials()
    url = f"{api_url}/api/accounts/login"
    try:
        async with (
            asyncio.timeout(time_limit),
            session.post(
                url,
                json={"userName": username, "password": password.get_secret_value()},
                headers={"Accept": "application/json"},
            ) as response,
        ):
            if response.status == 200:
                return LoginResult(account.name, None)
            details = await _problem_details(response)
    except TimeoutError:
        return LoginResult(account.name, f"no answer from {api_url} within {time_limit:g} s")
    except aiohttp.ClientError as error:
        return LoginResult(account.name, f"cannot reach {api_url}: {error}")
    if response.status == 400 and details.get("errorCode") == INVALID_USER_PASSWORD:
        return LoginResult(account.name, "invalid username or password")
    title = details.get("title") or response.reason or ""
    text = f"login refused: HTTP {response.status} {str(title)[:200]}".rstrip()
    hint = _HINTS.get(response.status)
    return LoginResult(account.name, f"{text} ({hint})" if hint else text)


async def verify_credentials(settings: Settings) -> list[LoginResult]:
    """Log in to every enabled account, all at once."""
    accounts = settings.enabled_accounts
    async with aiohttp.ClientSession() as session:
        return list(
            await asyncio.gather(
                *(
                    check_login(
                        session, settings.easee.api_url, account, settings.easee.request_timeout
                    )
                    for account in accounts
                )
            )
        )


def _summary(settings: Settings) -> str:
    accounts = settings.accounts
    enabled = len(settings.enabled_accounts)
    listed = len(settings.chargers)
    discovering = sum(1 for a in settings.enabled_accounts if settings.discovers(a.name))
    parts = [
        f"{len(accounts)} account(s), {enabled} enabled",
        f"{listed} charger(s) listed",
    ]
    if discovering:
        parts.append(f"{discovering} account(s) discovering their chargers")
    parts.append(
        f"{len(settings.webhooks.tokens)} webhook token(s), "
        f"{len(settings.webhooks.secrets)} HMAC secret(s)"
    )
    web = settings.web_config
    if web is not None:
        serving = "HTTPS" if web.tls else "HTTP"
        parts.append(f"{serving} with {len(web.basic_auth_users)} basic-auth user(s)")
    return "configuration OK: " + "; ".join(parts)


def main(args: Sequence[str]) -> int:
    """Run ``check-config`` with ``args`` (after the command name)."""
    parser = argparse.ArgumentParser(
        prog="easee-exporter check-config",
        description="Validate the configuration (file and environment) and exit.",
    )
    add_config_file_flag(parser)
    add_web_config_flag(parser)
    parser.add_argument(
        "--verify-credentials",
        action="store_true",
        help="also log in to every enabled account",
    )
    parsed = parse(parser, args)
    if isinstance(parsed, int):
        return parsed
    try:
        command_line = CommandLine(
            config_file=parsed.config_file, web_config_file=parsed.web_config_file
        )
        settings = load_settings(command_line, os.environ)
    except ConfigError as error:
        for line in error.lines():
            print(line, file=sys.stderr)
        return EXIT_CONFIG
    print(_summary(settings))
    if not parsed.verify_credentials:
        return EXIT_OK

    # A cloud's error text could quote what it was sent: mask before printing.
    redactor = Redactor(settings.secret_values())
    for account in settings.accounts:
        if not account.enabled:
            print(f"account {account.name!r}: disabled, not checked")
    failed = 0
    for result in asyncio.run(verify_credentials(settings)):
        if result.error is None:
            print(f"account {result.account!r}: login OK")
        else:
            failed += 1
            print(redactor.text(f"account {result.account!r}: {result.error}"), file=sys.stderr)
    return EXIT_FAILURE if failed else EXIT_OK
