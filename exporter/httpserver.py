"""The service's HTTP server: aiohttp's, with its own answer to a request it cannot parse.

aiohttp answers a request whose start line or headers it cannot parse with a plain-text 400
that quotes the offending bytes, and logs the exception with the same text. After
``Authorization: Bearer <token>`` followed by a control character, that hands a valid token
back to the caller and writes it into the log. Here such a request gets a problem+json
answer that quotes nothing (431 for an over-long header line, 400 otherwise), and one log
line naming only the kind of error.

aiohttp offers no hook for this: the error answer is made by its per-connection
``RequestHandler`` before any application or middleware sees the request. So the runner
hands out a ``Server`` whose connections use a ``RequestHandler`` subclass;
``tests/test_httpserver.py`` fails if a new aiohttp stops calling it.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from exporter.webhooks.problems import Problem

_log = structlog.get_logger(__name__)


class _Handler(RequestHandler):
    __slots__ = ()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError) or status >= 500:
            return super().handle_error(request, status, exc, message)
        _log.warning(
            "unreadable HTTP request refused", error=type(exc).__name__, client=request.remote
        )
        if isinstance(exc, LineTooLong):
            problem = Problem("headers-too-large", "a line of the request is too long")
        else:
            problem = Problem("bad-request", "the request line or a header is malformed")
        response = problem.response()
        response.force_close()
        return response


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _Handler(self, loop=self._loop, **self._kwargs)


class ServiceRunner(web.AppRunner):
    """``web.AppRunner`` whose connections answer unparsable requests as described above."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The application's own server, built by aiohttp; only its protocol factory differs.
        server.__class__ = _Server
        return server
