"""The web configuration file applied to the HTTP server: TLS, basic auth, headers.

:class:`WebFront` owns what ``--web.config.file`` decides at run time:

* the listener's SSL context (HTTPS only, when ``tls_server_config`` is set), swapped for a
  freshly loaded one on every reload, so renewed certificates apply without a restart;
* basic authentication, when ``basic_auth_users`` is set, on everything except the health
  endpoints (open for probes) and the control API, which has its own credentials and must
  not take basic-auth ones in their place;
* the ``http_server_config.headers`` added to every answer.

Switching between HTTP and HTTPS needs a restart: the listener's kind is fixed.
"""

from __future__ import annotations

import base64
import binascii
import ssl
from collections.abc import Awaitable, Callable, Collection

import structlog
from aiohttp import hdrs, web

from exporter.basicauth import BasicAuthUsers
from exporter.config.webconfig import WebConfig
from exporter.tls import ListenerContext, TLSFileError, server_context

_log = structlog.get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CHALLENGE = 'Basic realm="easee-exporter", charset="UTF-8"'


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(username, password) of an ``Authorization: Basic`` header (RFC 7617), else None."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None


class WebFront:
    """The current web configuration, as the server applies it."""

    def __init__(
        self,
        config: WebConfig | None,
        *,
        open_paths: Collection[str],
        open_prefixes: tuple[str, ...],
    ) -> None:
        """Raises :class:`~exporter.tls.TLSFileError` when the TLS files cannot be used."""
        self._open_paths = frozenset(open_paths)
        self._open_prefixes = open_prefixes
        self.config = config or WebConfig()
        tls = self.config.tls
        self.listener: ListenerContext | None = (
            ListenerContext(server_context(tls)) if tls else None
        )
        self._users = self._users_of(self.config)
        self._headers = self.config.headers()

    @staticmethod
    def _users_of(config: WebConfig) -> BasicAuthUsers | None:
        return BasicAuthUsers(config.basic_auth_users) if config.basic_auth_users else None

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """The context to listen with; None for plain HTTP."""
        return self.listener

    @property
    def scheme(self) -> str:
        return "https" if self.listener else "http"

    def apply(self, config: WebConfig | None) -> bool:
        """Apply a reloaded configuration; on a TLS file problem keep the running one.

        Certificates are loaded again even when the configuration is the same: their files
        may have changed. Returns False when the new configuration was refused.
        """
        config = config or WebConfig()
        tls = config.tls
        if (tls is None) != (self.listener is None):
            _log.warning("switching between HTTP and HTTPS takes effect only at restart")
        if tls is not None and self.listener is not None:
            try:
                context = server_context(tls)
            except TLSFileError as error:
                _log.error(
                    "web configuration reload refused: keeping the running certificate",
                    problem=f"tls_server_config.{error.key}: {error.message}",
                )
                return False
            self.listener.use(context)
        if config.basic_auth_users != self.config.basic_auth_users:
            self._users = self._users_of(config)
        self._headers = config.headers()
        self.config = config
        return True

    def _open(self, path: str) -> bool:
        return path in self._open_paths or path.startswith(self._open_prefixes)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Basic authentication for everything but the open paths."""
        users = self._users
        if users is None or self._open(request.path):
            return await handler(request)
        credentials = basic_credentials(request.headers.get(hdrs.AUTHORIZATION, ""))
        if credentials is not None and await users.verify(*credentials):
            return await handler(request)
        return web.Response(
            status=401,
            text="401: Unauthorized\n",
            headers={hdrs.WWW_AUTHENTICATE: CHALLENGE},
        )

    async def add_headers(self, _request: web.Request, response: web.StreamResponse) -> None:
        """``on_response_prepare``: the configured headers on every answer, errors included."""
        for name, value in self._headers.items():
            response.headers[name] = value
