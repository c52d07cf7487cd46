"""Easee's error answers: RFC 7807 problem+json with Easee's ``errorCode`` fields.

Shapes from real traces (easee_hass#44, EV#8511, EV#8560). Codes marked *invented* are not
documented anywhere; the simulator needs some value and picks a plain one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from exporter.simulator.wire import dumps

PROBLEM_CONTENT_TYPE = "application/problem+json; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Problem:
    """One kind of error answer."""

    status: int
    error_code: int
    error_code_name: str
    title: str


INVALID_USER_PASSWORD = Problem(400, 100, "InvalidUserPassword", "Username or password is invalid")
REFRESH_TOKEN_EXPIRED = Problem(401, 105, "RefreshTokenExpired", "Refresh token expired")
CHARGER_DISCONNECTED = Problem(400, 410, "ChargerDisconnected", "Charger disconnected")
# invented: no trace shows these bodies
VALIDATION_FAILED = Problem(400, 1, "ValidationFailed", "One or more validation errors occurred.")
NOT_FOUND = Problem(404, 4, "NotFound", "Not found")
FORBIDDEN = Problem(403, 3, "Forbidden", "Forbidden")


def problem_body(problem: Problem, *, instance: str | None = None, **extensions: Any) -> str:
    return dumps(
        {
            "errorCode": problem.error_code,
            "errorCodeName": problem.error_code_name,
            "type": None,
            "title": problem.title,
            "status": problem.status,
            "detail": "[Empty in production]",
            "instance": instance,
            "extensions": extensions,
        }
    )


def problem_response(problem: Problem, **extensions: Any) -> web.Response:
    """The problem as an aiohttp response, with Easee's exact content type."""
    return web.Response(
        status=problem.status,
        body=problem_body(problem, **extensions).encode("utf-8"),
        headers={"Content-Type": PROBLEM_CONTENT_TYPE},
    )


class ProblemError(Exception):
    """Raised by the simulator's operations; the REST layer turns it into a response."""

    def __init__(self, problem: Problem, **extensions: Any) -> None:
        super().__init__(problem.title)
        self.problem = problem
        self.extensions = extensions

    def response(self) -> web.Response:
        return problem_response(self.problem, **self.extensions)


def unauthorized() -> web.Response:
    """A bad or expired token: 401 with an empty body, as the real cloud answers."""
    return web.Response(status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
