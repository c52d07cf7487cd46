"""TLS for the service's port: an SSL context from ``tls_server_config``, and a listener
context that lets certificates change under a live listener.

asyncio wraps every accepted connection with the listener's ``SSLContext.wrap_bio``.
:class:`ListenerContext` hands that call to the context of the newest configuration, so a
reload (a renewed certificate, another client CA) applies to the next connection while the
listening socket and the open connections stay as they are. A context is only swapped in
once it has loaded completely: a bad new file leaves the running one in place.
"""

from __future__ import annotations

import ssl
import warnings
from pathlib import Path
from typing import Final

from exporter.config.webconfig import TLSServerConfig

_VERSIONS: Final = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
# RequestClientCert lets every client in, with or without a certificate, and verifies none:
# not asking for one has the same outcome.
_VERIFY_MODES: Final = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}


class TLSFileError(ValueError):
    """A file of ``tls_server_config`` cannot be used; ``key`` is the key that names it.

    The message names the file and the reason, never its content.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def _readable(key: str, path: Path) -> None:
    try:
        with path.open("rb") as file:
            file.read(1)
    except OSError as error:
        raise TLSFileError(key, f"cannot read {path}: {error.strerror or error}") from None


def server_context(config: TLSServerConfig) -> ssl.SSLContext:
    """A server-side SSL context as ``config`` says; raises :class:`TLSFileError`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # TLS 1.0 and 1.1 are deprecated in Python too; the file asked for them explicitly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = _VERSIONS[config.min_version]
        context.maximum_version = _VERSIONS[config.max_version]
    if config.prefer_server_cipher_suites:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    ciphers = config.openssl_ciphers()
    if ciphers is not None:
        try:
            context.set_ciphers(ciphers)
        except ssl.SSLError:
            raise TLSFileError(
                "cipher_suites", "none of these cipher suites is available in this OpenSSL"
            ) from None
    _readable("cert_file", config.cert_file)
    _readable("key_file", config.key_file)
    try:
        context.load_cert_chain(config.cert_file, config.key_file)
    except ssl.SSLError:
        raise TLSFileError(
            "key_file",
            f"{config.cert_file} and {config.key_file} are not a PEM certificate and "
            "the private key that matches it",
        ) from None
    context.verify_mode = _VERIFY_MODES[config.client_auth_type]
    if config.client_ca_file is not None:
        _readable("client_ca_file", config.client_ca_file)
        try:
            context.load_verify_locations(cafile=config.client_ca_file)
        except ssl.SSLError:
            raise TLSFileError(
                "client_ca_file", f"{config.client_ca_file} holds no PEM CA certificate"
            ) from None
    return context


class ListenerContext(ssl.SSLContext):
    """The listening socket's context: wraps each new connection with the current one.

    Its own settings are never used: asyncio only calls :meth:`wrap_bio`, which delegates.
    """

    _current: ssl.SSLContext

    def __new__(cls, current: ssl.SSLContext) -> ListenerContext:
        self = super().__new__(cls, ssl.PROTOCOL_TLS_SERVER)
        self._current = current
        return self

    def __init__(self, current: ssl.SSLContext) -> None:
        # SSLContext's own __init__ takes the protocol; __new__ has set everything.
        pass

    @property
    def current(self) -> ssl.SSLContext:
        """The context new connections get."""
        return self._current

    def use(self, context: ssl.SSLContext) -> None:
        """Serve new connections with ``context``; open connections keep theirs."""
        self._current = context

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        return self._current.wrap_bio(incoming, outgoing, server_side, server_hostname, session)
