"""Typed errors of the Easee client: every failure of a REST call becomes one of these.

They are raised at one boundary (:mod:`exporter.easee.client`) and chained with ``from`` to
the transport error when there is one. Messages hold the endpoint name, the HTTP status and
Easee's own error code and title, never a request body, a token or a password, so they are
safe to log and to return to a webhook caller.

The controller maps them to HTTP answers: :class:`RateLimited` (and its subclasses) and
:class:`CloudUnavailable` to 503 with ``Retry-After``, :class:`ChargerDisconnected` to 409,
:class:`CommandRejected` to 502 ``rejected``, :class:`CommandTimeout` to 504, any other
:class:`EaseeApiError` to 502.
"""

from __future__ import annotations


class EaseeError(Exception):
    """Base of every error the Easee client raises."""


class CloudUnavailable(EaseeError):
    """The cloud did not answer usefully: a 5xx, a timeout or a connection failure.

    ``status`` is the HTTP status, or ``None`` when no answer came at all.
    """

    def __init__(self, endpoint: str, status: int | None, reason: str) -> None:
        self.endpoint = endpoint
        self.status = status
        self.reason = reason
        super().__init__(f"Easee cloud unavailable on {endpoint}: {reason}")


class RateLimited(EaseeError):
    """No call may be made yet; ``retry_after`` says how many seconds to wait.

    Raised without calling Easee while an earlier 429's ``Retry-After`` has not elapsed.
    """

    def __init__(self, endpoint: str, retry_after: float) -> None:
        self.endpoint = endpoint
        self.retry_after = retry_after
        super().__init__(f"rate limited on {endpoint}: retry after {retry_after:.0f} s")


class BudgetExceeded(RateLimited):
    """Our own request budget for the account is spent (no call to Easee was made)."""

    def __init__(self, endpoint: str, retry_after: float) -> None:
        super().__init__(endpoint, retry_after)
        self.args = (f"request budget spent for {endpoint}: retry after {retry_after:.0f} s",)


class IpBlocked(RateLimited):
    """Easee refused us as abusive (an IP block); the whole account backs off for long."""

    def __init__(self, endpoint: str, retry_after: float) -> None:
        super().__init__(endpoint, retry_after)
        self.args = (f"Easee blocks this IP address; retry after {retry_after:.0f} s",)


class EaseeApiError(EaseeError):
    """Easee answered with an error (usually ``application/problem+json``)."""

    def __init__(
        self,
        endpoint: str,
        status: int,
        *,
        error_code: int | None = None,
        error_code_name: str | None = None,
        title: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.status = status
        self.error_code = error_code
        self.error_code_name = error_code_name
        self.title = title
        detail = f"HTTP {status}"
        if error_code is not None:
            detail += f", errorCode {error_code}"
            if error_code_name:
                detail += f" {error_code_name}"
        if title:
            detail += f": {title}"
        super().__init__(f"Easee refused {endpoint} ({detail})")


class AuthenticationError(EaseeApiError):
    """The cloud did not accept our identity (a 401 that survived a fresh token)."""


class InvalidCredentials(AuthenticationError):
    """Login refused the user name or password (errorCode 100)."""


class RefreshTokenExpired(AuthenticationError):
    """The refresh token was refused (errorCode 105, or any 400/401 on refresh)."""


class ChargerDisconnected(EaseeApiError):
    """Pause or resume without a car plugged in (errorCode 410)."""


class ProtocolError(EaseeError):
    """Easee answered 2xx with a body we cannot read."""

    def __init__(self, endpoint: str, reason: str) -> None:
        self.endpoint = endpoint
        self.reason = reason
        super().__init__(f"unexpected answer from {endpoint}: {reason}")


class CommandRejected(EaseeError):
    """Easee answered a command synchronously with ``wasAccepted`` false (or null): refused
    at once, nothing will follow on the stream (easee-cloud-api.md 3.2)."""

    def __init__(self, endpoint: str, charger_id: str, result_code: int | None) -> None:
        self.endpoint = endpoint
        self.charger_id = charger_id
        self.result_code = result_code
        code = "" if result_code is None else f", resultCode {result_code}"
        super().__init__(
            f"Easee rejected {endpoint} for {charger_id} at once (wasAccepted false{code})"
        )


class CommandTimeout(EaseeError):
    """No ``CommandResponse`` arrived for an accepted command within the timeout."""

    def __init__(self, charger_id: str, command_id: int, timeout: float) -> None:
        self.charger_id = charger_id
        self.command_id = command_id
        self.timeout = timeout
        super().__init__(
            f"no CommandResponse from {charger_id} for command {command_id} within {timeout:g} s"
        )


class AccountNotReady(EaseeError):
    """The account is stopped, disabled or not logged in yet."""

    def __init__(self, account: str, reason: str) -> None:
        self.account = account
        self.reason = reason
        super().__init__(f"account {account} is not ready: {reason}")


class UnknownCharger(EaseeError):
    """The charger does not belong to this account (or is not enabled)."""

    def __init__(self, charger_id: str) -> None:
        self.charger_id = charger_id
        super().__init__(f"unknown charger {charger_id}")
