"""The gate in front of every ``/api/v1`` route: CORS, counting, errors, size, credentials.

One aiohttp middleware, installed on the ``/api/v1`` sub-application only (``/metrics``,
the health checks and the status page never see it). For each request, in this order
(conventions.md 5.5):

1. CORS preflight (``OPTIONS``) is answered here, for the one configured origin;
2. an address that failed authentication too often gets 429 with ``Retry-After``;
3. the raw body is read up to ``max_body_size`` (413 beyond), *before* authentication,
   because an HMAC covers the exact bytes and re-serialised JSON would not match;
4. the credentials are checked (401 with ``WWW-Authenticate``); a failure counts against
   the client address and in ``easee_exporter_webhook_auth_failures_total``;
5. a signed request goes through the replay cache, so a replayed ``webhook-id`` is answered
   from memory without running again;
6. the handler runs; a :class:`~exporter.webhooks.problems.Problem` it raises becomes a
   problem+json answer. Every answer of a counted route lands in
   ``easee_exporter_webhook_requests_total{route,status}``, and carries the CORS headers
   for the allowed origin so that a browser can read errors too.

The client address is the TCP peer (``request.remote``): behind a reverse proxy every
caller shares the proxy's address, which then shares one failure budget.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from aiohttp import web

from exporter.selfmetrics import ServiceMetrics
from exporter.webhooks.auth import Authenticator, AuthFailure, Principal
from exporter.webhooks.limits import Rate, SlidingWindow
from exporter.webhooks.problems import Problem
from exporter.webhooks.replay import REPLAYED_HEADER, ReplayCache, StoredResponse

_log = structlog.get_logger(__name__)

PRINCIPAL = web.RequestKey("principal", Principal)
BODY = web.RequestKey("body", bytes)

#: Route names counted in ``easee_exporter_webhook_requests_total{route}``.
COUNTED_ROUTES = frozenset(
    {"command", "current", "alertmanager", "chargers", "circuits", "circuit_current"}
)
#: Routes anyone may call.
PUBLIC_ROUTES = frozenset({"openapi"})

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "authorization, content-type, webhook-id, webhook-timestamp, webhook-signature"
EXPOSED_HEADERS = f"Retry-After, WWW-Authenticate, {REPLAYED_HEADER}"
PREFLIGHT_MAX_AGE = "600"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class GateSettings:
    """The gate's limits; replaced as a whole on reload."""

    max_body_size: int
    auth_failure_rate: Rate
    cors_origin: str | None


async def read_body(request: web.Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes (413) before reading them all."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise Problem("body-too-large", f"the body may be at most {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise Problem("body-too-large", f"the body may be at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def render(handler: Handler, request: web.Request) -> web.Response:
    """The handler's answer, with a raised :class:`Problem` turned into its response."""
    try:
        response = await handler(request)
    except Problem as problem:
        return problem.response()
    if not isinstance(response, web.Response):
        raise TypeError("control API handlers answer with a complete web.Response")
    return response


class Gate:
    """The ``/api/v1`` middleware and the state it needs (limits, caches, credentials)."""

    def __init__(
        self,
        *,
        authenticator: Authenticator,
        replay: ReplayCache,
        metrics: ServiceMetrics,
        settings: GateSettings,
        clock: Callable[[], float],
    ) -> None:
        self._authenticator = authenticator
        self._replay = replay
        self._metrics = metrics
        self._settings = settings
        self._failures = SlidingWindow(settings.auth_failure_rate, clock=clock)

    def configure(self, settings: GateSettings) -> None:
        """New limits from a reload (failures counted so far stay counted)."""
        self._settings = settings
        self._failures.set_rate(settings.auth_failure_rate)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.name
        if request.method == "OPTIONS" and request.match_info.http_exception is None:
            return self._preflight(request)
        try:
            response = await self._guarded(request, handler, route)
        except Problem as problem:
            response = problem.response()
        except Exception:
            # A bug still answers in the API's format, and is counted.
            _log.exception("control API request failed", method=request.method, path=request.path)
            response = Problem("internal-error", "the request failed unexpectedly").response()
        self._add_cors(request, response)
        if route in COUNTED_ROUTES:
            self._metrics.webhook_request(route, response.status)
        return response

    async def _guarded(
        self, request: web.Request, handler: Handler, route: str | None
    ) -> web.Response:
        unmatched = request.match_info.http_exception
        if route is None or unmatched is not None:
            raise _routing_problem(request, unmatched)
        if route in PUBLIC_ROUTES:
            return await render(handler, request)
        address = request.remote or "unknown"
        wait = self._failures.retry_after(address)
        if wait is not None:
            self._metrics.webhook_auth_failure("rate_limited")
            _log.warning("webhook caller blocked after failed authentications", client=address)
            raise Problem(
                "too-many-auth-failures",
                f"too many failed authentications from this address; retry in {wait:.0f} s",
                retry_after=wait,
            )
        body = await read_body(request, self._settings.max_body_size)
        result = self._authenticator.authenticate(request.headers, body)
        if isinstance(result, AuthFailure):
            self._failures.hit(address)
            self._metrics.webhook_auth_failure(result.reason)
            _log.warning(
                "webhook authentication failed",
                reason=result.reason,
                client=address,
                method=request.method,
                path=request.path,
            )
            raise Problem("unauthorized", result.detail)
        request[PRINCIPAL] = result
        request[BODY] = body
        if result.webhook_id is None:
            return await render(handler, request)

        async def run() -> StoredResponse:
            return StoredResponse.of(await render(handler, request))

        stored, replayed = await self._replay.run((result.name, result.webhook_id), run)
        if replayed:
            _log.info(
                "replayed webhook answered from cache",
                credential=result.name,
                webhook_id=result.webhook_id,
                status=stored.status,
            )
        return stored.response(replayed=replayed)

    def _cors_origin(self, request: web.Request) -> str | None:
        origin = self._settings.cors_origin
        if origin is not None and request.headers.get("Origin") == origin:
            return origin
        return None

    def _add_cors(self, request: web.Request, response: web.StreamResponse) -> None:
        origin = self._cors_origin(request)
        if origin is None:
            return
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        response.headers["Vary"] = "Origin"

    def _preflight(self, request: web.Request) -> web.Response:
        origin = self._cors_origin(request)
        if origin is None:
            return Problem(
                "origin-not-allowed",
                "cross-origin requests are allowed only from the configured web.cors_origin",
            ).response()
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                "Vary": "Origin",
            },
        )


def _routing_problem(request: web.Request, error: web.HTTPException | None) -> Problem:
    if isinstance(error, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(error.allowed_methods))
        return Problem(
            "method-not-allowed",
            f"{request.method} is not allowed here; use {allowed}",
            headers={"Allow": allowed},
        )
    return Problem("not-found", f"no such route: {request.path}")
