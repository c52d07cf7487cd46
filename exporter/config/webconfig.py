"""The web configuration file (``--web.config.file``): exporter-toolkit's format, validated.

The same file node_exporter and the other Prometheus exporters take, so ``promtool check
web-config`` checks it too: ``tls_server_config`` (the port then serves HTTPS only),
``http_server_config.headers`` (added to every answer) and ``basic_auth_users`` (bcrypt
hashes). Relative file names are relative to the file's directory, as in exporter-toolkit.

Keys exporter-toolkit knows but this service cannot honour (inline certificates, client SAN
lists, curve preferences, rate limits) are refused with a reason rather than ignored: a
security setting that silently does nothing is worse than an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)

from exporter.config.base import Frozen
from exporter.config.errors import ConfigProblem, Loc, format_loc

ClientAuthType = Literal[
    "NoClientCert", "RequestClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"
]
TLSVersionName = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
TLS_VERSION_ORDER: tuple[TLSVersionName, ...] = ("TLS10", "TLS11", "TLS12", "TLS13")
#: The client authentication types that verify a certificate against ``client_ca_file``.
VERIFYING_CLIENT_AUTH = frozenset({"VerifyClientCertIfGiven", "RequireAndVerifyClientCert"})


@dataclass(frozen=True, slots=True)
class CipherSuite:
    """A cipher suite by its Go name (the file's spelling) and its OpenSSL name.

    ``openssl`` is None for the TLS 1.3 suites: Go ignores them in ``cipher_suites`` and
    OpenSSL keeps all three on, so naming one changes nothing.
    """

    go: str
    openssl: str | None


#: Every name Go's ``tls.CipherSuites()`` lists, which is what exporter-toolkit accepts.
CIPHER_SUITES: tuple[CipherSuite, ...] = (
    CipherSuite("TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"),
    CipherSuite("TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"),
    CipherSuite("TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"),
    CipherSuite("TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"),
    CipherSuite("TLS_AES_128_GCM_SHA256", None),
    CipherSuite("TLS_AES_256_GCM_SHA384", None),
    CipherSuite("TLS_CHACHA20_POLY1305_SHA256", None),
    CipherSuite("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"),
    CipherSuite("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"),
    CipherSuite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"),
    CipherSuite("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"),
    CipherSuite("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    CipherSuite("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"),
    CipherSuite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"),
    CipherSuite("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"),
    CipherSuite("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"),
    CipherSuite("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"),
)
CIPHER_SUITES_BY_NAME: Mapping[str, CipherSuite] = {suite.go: suite for suite in CIPHER_SUITES}

#: The headers exporter-toolkit lets the file set, with their allowed values (None: any).
HEADER_VALUES: Mapping[str, tuple[str, ...] | None] = {
    "Strict-Transport-Security": None,
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": None,
    "Content-Security-Policy": None,
}

#: Keys of exporter-toolkit's format that this service refuses, and why.
UNSUPPORTED: Mapping[Loc, str] = {
    ("tls_server_config", "cert"): "inline certificates are not supported: use cert_file",
    ("tls_server_config", "key"): "inline keys are not supported: use key_file",
    ("tls_server_config", "client_ca"): "inline CA certificates are not supported: use "
    "client_ca_file",
    ("tls_server_config", "client_allowed_sans"): "not supported: give each client a "
    "certificate from a CA of its own in client_ca_file",
    ("tls_server_config", "curve_preferences"): "not supported: the TLS library's own curve "
    "order applies",
    ("rate_limit",): "not supported",
}

_BCRYPT = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
_MIN_BCRYPT_COST = 4
_MAX_BCRYPT_COST = 31


def _cipher_suite(value: str) -> str:
    if value not in CIPHER_SUITES_BY_NAME:
        raise ValueError("unknown cipher suite (Go names such as TLS_AES_128_GCM_SHA256)")
    return value


def _bcrypt_hash(value: SecretStr) -> SecretStr:
    match = _BCRYPT.match(value.get_secret_value())
    if match is None or not _MIN_BCRYPT_COST <= int(match.group(1)) <= _MAX_BCRYPT_COST:
        raise ValueError("not a bcrypt hash (such as htpasswd -nBC 10 '' makes)")
    return value


def _client_auth_type(value: object) -> object:
    # exporter-toolkit's older spelling, and the type that asks for a certificate without
    # verifying it: OpenSSL, as Python drives it, cannot require a certificate it does not
    # check, and such a certificate would prove nothing anyway.
    if value in ("RequireAnyClientCert", "RequireClientCert"):
        raise ValueError(
            f"{value} is not supported: use RequireAndVerifyClientCert with client_ca_file"
        )
    return value


class TLSServerConfig(Frozen):
    """``tls_server_config``: the certificate the port serves, and who may connect."""

    cert_file: Path
    key_file: Path
    client_auth_type: Annotated[ClientAuthType, BeforeValidator(_client_auth_type)] = "NoClientCert"
    client_ca_file: Path | None = None
    min_version: TLSVersionName = "TLS12"
    max_version: TLSVersionName = "TLS13"
    cipher_suites: tuple[Annotated[str, AfterValidator(_cipher_suite)], ...] = ()
    prefer_server_cipher_suites: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        verifying = self.client_auth_type in VERIFYING_CLIENT_AUTH
        if self.client_ca_file is not None and self.client_auth_type == "NoClientCert":
            raise ValueError("client_ca_file is set but client_auth_type is NoClientCert")
        if verifying and self.client_ca_file is None:
            raise ValueError(
                f"client_auth_type {self.client_auth_type} needs client_ca_file, the CA "
                "client certificates are verified against"
            )
        if TLS_VERSION_ORDER.index(self.min_version) > TLS_VERSION_ORDER.index(self.max_version):
            raise ValueError("min_version is above max_version")
        return self

    def files(self) -> tuple[Path, ...]:
        """The files this configuration reads (watched for changes)."""
        return tuple(p for p in (self.cert_file, self.key_file, self.client_ca_file) if p)

    def openssl_ciphers(self) -> str | None:
        """The OpenSSL cipher list for TLS 1.2 and below, None for the library's default."""
        names = [CIPHER_SUITES_BY_NAME[name].openssl for name in self.cipher_suites]
        chosen = [name for name in names if name is not None]
        return ":".join(chosen) if chosen else None


class HTTPServerConfig(Frozen):
    """``http_server_config``: headers added to every answer.

    ``http2`` is accepted for compatibility; the service speaks HTTP/1.1 only.
    """

    http2: bool = True
    headers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_headers(self) -> Self:
        for name, value in self.headers.items():
            if name not in HEADER_VALUES:
                raise ValueError(
                    f"header {name!r} cannot be set (allowed: {', '.join(HEADER_VALUES)})"
                )
            allowed = HEADER_VALUES[name]
            if allowed is not None and value and value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}")
        return self


def _username(value: str) -> str:
    if not value or ":" in value:
        raise ValueError("a basic-auth username must be non-empty and contain no ':'")
    return value


Username = Annotated[str, AfterValidator(_username)]
BcryptHash = Annotated[SecretStr, AfterValidator(_bcrypt_hash)]


class WebConfig(Frozen):
    """The whole web configuration file, validated, with its paths made absolute."""

    tls_server_config: TLSServerConfig | None = None
    http_server_config: HTTPServerConfig = HTTPServerConfig()
    basic_auth_users: dict[Username, BcryptHash] = Field(default_factory=dict)

    @property
    def tls(self) -> TLSServerConfig | None:
        """The TLS settings; None when the port serves plain HTTP."""
        return self.tls_server_config

    def headers(self) -> dict[str, str]:
        """The headers to add to every answer (blank values are left out, as upstream)."""
        return {name: value for name, value in self.http_server_config.headers.items() if value}

    def files(self) -> tuple[Path, ...]:
        """The certificate files this configuration reads."""
        return self.tls.files() if self.tls else ()


def _resolve(data: dict[str, Any], base_dir: Path) -> None:
    """Make the TLS file names absolute against ``base_dir`` (exporter-toolkit's rule)."""
    tls = data.get("tls_server_config")
    if not isinstance(tls, dict):
        return
    for key in ("cert_file", "key_file", "client_ca_file"):
        value = tls.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            tls[key] = str(base_dir / value)


def _strip_unsupported(data: dict[str, Any]) -> list[tuple[Loc, str]]:
    found: list[tuple[Loc, str]] = []
    for loc, reason in UNSUPPORTED.items():
        parent: Any = data
        for key in loc[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and loc[-1] in parent:
            del parent[loc[-1]]
            found.append((loc, reason))
    return found


def validate_web_config(
    data: dict[str, Any], base_dir: Path
) -> tuple[WebConfig | None, list[tuple[Loc, str]]]:
    """The :class:`WebConfig` of a parsed file, or None and every problem with its key path.

    Only the structure is checked here; whether the files can be read and hold a matching
    certificate and key is for the TLS layer, which loads them.
    """
    # Imported here: the loader imports this module.
    from exporter.config.loader import field_message

    # Sections are copied: unsupported keys are taken out and paths rewritten below.
    data = {key: dict(value) if isinstance(value, dict) else value for key, value in data.items()}
    problems = _strip_unsupported(data)
    # An empty tls_server_config means no TLS, as in exporter-toolkit.
    if data.get("tls_server_config") in ({}, None):
        data.pop("tls_server_config", None)
    _resolve(data, base_dir)
    try:
        config = WebConfig.model_validate(data)
    except ValidationError as error:
        for item in error.errors(include_url=False, include_input=False):
            # A dict key's own error ends in "[key]": the key path already names it.
            where = tuple(part for part in item["loc"] if part != "[key]")
            problems.append((where, field_message(item, WebConfig, where)))
        return None, problems
    return (None, problems) if problems else (config, [])


def web_config_problem(path: Path, loc: Loc, message: str) -> ConfigProblem:
    """A problem of the web configuration file, located as ``PATH: key.path``."""
    where = format_loc(loc)
    return ConfigProblem(f"{path}: {where}" if where else str(path), message)
