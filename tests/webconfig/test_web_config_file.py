"""The web configuration file as the configuration loads it, check-config reports it, and
promtool (exporter-toolkit's own validator) agrees."""

from __future__ import annotations

import ssl
from pathlib import Path

import bcrypt
import pytest

from exporter.config import CommandLine, ConfigError, Settings, load_settings
from exporter.config.webconfig import CIPHER_SUITES
from tests.test_cli import run
from tests.webconfig.certs import Authority
from tests.webconfig.support import promtool

ENV = {"EASEE_USERNAME": "owner@example.org", "EASEE_PASSWORD": "an-easee-password"}
PASSWORD = "scrape-password-7731"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()


def load(path: Path, **env: str) -> Settings:
    return load_settings(CommandLine(web_config_file=str(path)), {**ENV, **env})


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path)
    return caught.value.lines()


def promtool_accepts(path: Path) -> bool:
    return promtool("check", "web-config", str(path)).returncode == 0


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return Authority(tmp_path / "tls")


def test_a_full_file_loads_with_paths_relative_to_it(tmp_path: Path, authority: Authority) -> None:
    server = authority.issue("server")
    web = tmp_path / "web-config.yml"
    web.write_text(
        "tls_server_config:\n"
        "  cert_file: tls/server.crt\n"
        "  key_file: tls/server.key\n"
        "  client_auth_type: VerifyClientCertIfGiven\n"
        "  client_ca_file: tls/test-CA.crt\n"
        "  min_version: TLS13\n"
        "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]\n"
        "http_server_config:\n"
        "  headers: {X-Frame-Options: deny, Strict-Transport-Security: max-age=31536000}\n"
        f"basic_auth_users:\n  prometheus: '{HASH}'\n"
    )
    settings = load(web)
    config = settings.web_config
    assert config is not None
    assert config.tls is not None
    assert config.tls.cert_file == server.cert
    assert config.tls.client_ca_file == authority.cert_file
    assert config.tls.openssl_ciphers() == "ECDHE-ECDSA-AES128-GCM-SHA256"
    assert config.headers() == {
        "X-Frame-Options": "deny",
        "Strict-Transport-Security": "max-age=31536000",
    }
    assert list(config.basic_auth_users) == ["prometheus"]
    assert settings.watched_files() == (web, server.cert, server.key, authority.cert_file)
    assert HASH in settings.secret_values()
    assert promtool_accepts(web)


def test_every_problem_is_listed_with_its_key_path(tmp_path: Path) -> None:
    web = tmp_path / "web.yml"
    web.write_text(
        "tls_server_config:\n"
        "  cert_file: server.crt\n"
        "  client_auth_type: RequireAnyClientCert\n"
        "  cipher_suites: [TLS_NOT_A_SUITE]\n"
        "  client_allowed_sans: [prometheus]\n"
        "  min_versoin: TLS12\n"
        "http_server_config:\n"
        "  headers: {X-Powered-By: easee}\n"
        "basic_auth_users:\n"
        f"  alice: not-a-hash-{PASSWORD}\n"
        "rate_limit: {interval: 1s, burst: 2}\n"
    )
    lines = problems(web)
    assert lines == [
        f"{web}: tls_server_config.client_allowed_sans: not supported: give each client a "
        "certificate from a CA of its own in client_ca_file",
        f"{web}: rate_limit: not supported",
        f"{web}: tls_server_config.key_file: required",
        f"{web}: tls_server_config.client_auth_type: RequireAnyClientCert is not supported: "
        "use RequireAndVerifyClientCert with client_ca_file",
        f"{web}: tls_server_config.cipher_suites[0]: unknown cipher suite (Go names such as "
        "TLS_AES_128_GCM_SHA256)",
        f"{web}: tls_server_config.min_versoin: unknown key (did you mean min_version?)",
        f"{web}: http_server_config: header 'X-Powered-By' cannot be set (allowed: "
        "Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, "
        "X-XSS-Protection, Content-Security-Policy)",
        f"{web}: basic_auth_users.alice: not a bcrypt hash (such as htpasswd -nBC 10 '' makes)",
    ]
    assert PASSWORD not in "\n".join(lines)


@pytest.mark.parametrize(
    ("tls", "message"),
    [
        (
            "{cert_file: c, key_file: k, client_ca_file: ca}",
            "client_ca_file is set but client_auth_type is NoClientCert",
        ),
        (
            "{cert_file: c, key_file: k, client_auth_type: RequireAndVerifyClientCert}",
            "client_auth_type RequireAndVerifyClientCert needs client_ca_file, the CA client "
            "certificates are verified against",
        ),
        (
            "{cert_file: c, key_file: k, min_version: TLS13, max_version: TLS12}",
            "min_version is above max_version",
        ),
        ("{cert_file: c, key_file: k, max_version: TLS14}", None),
    ],
)
def test_inconsistent_tls_settings(tmp_path: Path, tls: str, message: str | None) -> None:
    web = tmp_path / "web.yml"
    web.write_text(f"tls_server_config: {tls}\n")
    (line,) = problems(web)
    assert line.startswith(f"{web}: tls_server_config")
    if message is not None:
        assert line.endswith(f": {message}")
    # exporter-toolkit refuses these too, or cannot serve them.
    if "TLS14" in tls:
        assert not promtool_accepts(web)


def test_unreadable_and_mismatched_files(tmp_path: Path, authority: Authority) -> None:
    missing = tmp_path / "absent.yml"
    assert problems(missing) == [
        f"--web.config.file: cannot read {missing}: No such file or directory"
    ]
    with pytest.raises(ConfigError) as caught:
        load_settings(CommandLine(), {**ENV, "EASEE_EXPORTER_WEB_CONFIG": str(missing)})
    assert caught.value.lines() == [
        f"EASEE_EXPORTER_WEB_CONFIG: cannot read {missing}: No such file or directory"
    ]

    one, other = authority.issue("one"), authority.issue("other")
    web = tmp_path / "web.yml"
    web.write_text(f"tls_server_config: {{cert_file: {one.cert}, key_file: nowhere.key}}\n")
    assert problems(web) == [
        f"{web}: tls_server_config.key_file: cannot read {tmp_path / 'nowhere.key'}: "
        "No such file or directory"
    ]
    web.write_text(f"tls_server_config: {{cert_file: {one.cert}, key_file: {other.key}}}\n")
    assert problems(web) == [
        f"{web}: tls_server_config.key_file: {one.cert} and {other.key} are not a PEM "
        "certificate and the private key that matches it"
    ]
    web.write_text("- a list\n")
    assert problems(web) == [
        f"{web}: must hold a mapping of keys (tls_server_config, basic_auth_users, ...)"
    ]


def test_an_empty_tls_section_serves_plain_http(tmp_path: Path) -> None:
    web = tmp_path / "web.yml"
    web.write_text(f"tls_server_config: {{}}\nbasic_auth_users: {{u: '{HASH}'}}\n")
    config = load(web).web_config
    assert config is not None
    assert config.tls is None
    assert promtool_accepts(web)


def test_check_config_reports_the_web_file_and_exits_2(
    tmp_path: Path, authority: Authority
) -> None:
    server = authority.issue("server")
    web = tmp_path / "web.yml"
    web.write_text(
        f"tls_server_config: {{cert_file: {server.cert}, key_file: {server.key}}}\n"
        f"basic_auth_users: {{prometheus: '{HASH}'}}\n"
    )
    env = {**ENV, "EASEE_EXPORTER_WEB_CONFIG": str(web)}
    good = run("check-config", **env)
    assert good.returncode == 0, good.stderr
    assert "HTTPS with 1 basic-auth user(s)" in good.stdout

    web.write_text(f"basic_auth_users: {{prometheus: x{HASH}}}\ntls_server_config: {{a: 1}}\n")
    bad = run("check-config", "--web.config.file", str(web), **ENV)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.splitlines() == [
        f"{web}: tls_server_config.cert_file: required",
        f"{web}: tls_server_config.key_file: required",
        f"{web}: tls_server_config.a: unknown key",
        f"{web}: basic_auth_users.prometheus: not a bcrypt hash (such as htpasswd -nBC 10 '' "
        "makes)",
    ]
    assert HASH not in bad.stderr

    service = run("--web.config.file", str(web), **ENV)
    assert service.returncode == 2
    assert service.stderr.splitlines() == bad.stderr.splitlines()


def test_cipher_suites_are_the_names_go_and_openssl_know(
    tmp_path: Path, authority: Authority
) -> None:
    server = authority.issue("server")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    for suite in CIPHER_SUITES:
        if suite.openssl is not None:
            context.set_ciphers(suite.openssl)
            tls12 = [c["name"] for c in context.get_ciphers() if c["protocol"] != "TLSv1.3"]
            assert tls12 == [suite.openssl], suite
    web = tmp_path / "web.yml"
    names = ", ".join(suite.go for suite in CIPHER_SUITES)
    web.write_text(
        f"tls_server_config:\n  cert_file: {server.cert}\n  key_file: {server.key}\n"
        f"  cipher_suites: [{names}]\n"
    )
    assert promtool_accepts(web), promtool("check", "web-config", str(web)).stderr
    assert load(web).web_config is not None
    web.write_text(web.read_text().replace("TLS_AES_128_GCM_SHA256", "TLS_AES_128_CCM_SHA256"))
    assert not promtool_accepts(web)
    assert len(problems(web)) == 1
