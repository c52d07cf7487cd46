"""The service serving HTTPS, client certificates and basic auth from its web configuration,
over real sockets, against the simulated cloud."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import bcrypt
import pytest
from aiohttp import web

from exporter.app import SERVICE, create_app, reload
from exporter.config import CommandLine, load_settings
from exporter.simulator import Simulator, SimulatorConfig, run_simulator
from tests.prometheus_harness import async_running_prometheus
from tests.webconfig.certs import Authority, Issued

PASSWORD = "scrape-password-7731"
TOKEN = "control-token-0123456789abcdef"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
HEALTH_PATHS = ("/healthz", "/-/healthy", "/livez", "/readyz", "/-/ready")


@dataclass
class Served:
    app: web.Application
    base: str
    port: int


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    config = SimulatorConfig.single_account(password="demo-password", chargers=2)
    async with run_simulator(config) as simulator:
        yield simulator


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return Authority(tmp_path / "ca", "test CA")


def tls_section(server: Issued, extra: str = "") -> str:
    return f"tls_server_config:\n  cert_file: {server.cert}\n  key_file: {server.key}\n{extra}"


@contextlib.asynccontextmanager
async def serving(
    sim: Simulator, web_config: Path, poll_interval: float | None = None
) -> AsyncIterator[Served]:
    """The service on a free port of 127.0.0.1, listening as ``serve`` does.

    Everything is in files, so that a reload (which reads the process environment) finds
    the same configuration again.
    """
    config = web_config.parent / "easee.yaml"
    config.write_text(
        f"easee: {{api_url: '{sim.base_url}', stream_url: '{sim.hub_url}'}}\n"
        "accounts: [{name: home, username: demo, password: demo-password}]\n"
        f"webhooks: {{tokens: [{{name: control, token: {TOKEN}}}]}}\n"
    )
    command_line = CommandLine(config_file=str(config), web_config_file=str(web_config))
    settings = load_settings(command_line, {})
    app = create_app(settings, config_poll_interval=poll_interval)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=app[SERVICE].front.ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    scheme = app[SERVICE].front.scheme
    try:
        yield Served(app, f"{scheme}://127.0.0.1:{port}", port)
    finally:
        await runner.cleanup()


def client_context(ca: Path, client: Issued | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca)
    if client is not None:
        context.load_cert_chain(client.cert, client.key)
    return context


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": aiohttp.encode_basic_auth(username, password)}


async def status_of(
    url: str, context: ssl.SSLContext | bool, headers: dict[str, str] | None = None
) -> int:
    """One request on a fresh connection; raises ``aiohttp.ClientError`` if TLS refuses."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, ssl=context, headers=headers) as answer,
    ):
        await answer.read()
        return answer.status


async def test_https_only_basic_auth_on_pages_and_metrics_health_and_api_unchanged(
    sim: Simulator, authority: Authority, tmp_path: Path
) -> None:
    server = authority.issue("server")
    web_config = tmp_path / "web.yml"
    web_config.write_text(
        tls_section(server)
        + "http_server_config:\n  headers: {X-Content-Type-Options: nosniff}\n"
        + f"basic_auth_users:\n  prometheus: '{HASH}'\n"
    )
    ca = client_context(authority.cert_file)
    good = basic("prometheus", PASSWORD)
    async with serving(sim, web_config) as served, aiohttp.ClientSession() as session:
        assert served.base.startswith("https://")
        with pytest.raises(aiohttp.ClientError):
            await status_of(f"http://127.0.0.1:{served.port}/metrics", False)

        for path in ("/metrics", "/", "/static/statuspage.css", "/no-such-page"):
            async with session.get(served.base + path, ssl=ca) as answer:
                assert answer.status == 401, path
                assert answer.headers["WWW-Authenticate"].startswith("Basic ")
                assert answer.headers["X-Content-Type-Options"] == "nosniff"
            for wrong in (
                basic("prometheus", "not-the-password"),
                basic("nobody", PASSWORD),
                {"Authorization": "Basic not-base64!"},
            ):
                async with session.get(served.base + path, ssl=ca, headers=wrong) as answer:
                    assert answer.status == 401, (path, wrong)
        for path in ("/metrics", "/", "/static/statuspage.css"):
            async with session.get(served.base + path, ssl=ca, headers=good) as answer:
                assert answer.status == 200, path
                assert answer.headers["X-Content-Type-Options"] == "nosniff"
        async with session.get(served.base + "/metrics", ssl=ca, headers=good) as answer:
            assert "easee_exporter_build_info" in await answer.text()
        # A path the router would not normalise is still not a way around the password.
        async with session.get(served.base + "/api/v1/../metrics", ssl=ca) as answer:
            assert answer.status != 200

        for path in HEALTH_PATHS:
            async with session.get(served.base + path, ssl=ca) as answer:
                assert answer.status in (200, 503), path

        chargers = served.base + "/api/v1/chargers"
        async with session.get(chargers, ssl=ca, headers=good) as answer:
            assert answer.status == 401
            assert answer.content_type == "application/problem+json"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        async with session.get(chargers, ssl=ca, headers=bearer) as answer:
            assert answer.status == 200
            assert len(await answer.json()) == 2
        serial = sim.serials("demo")[0]
        command = f"{served.base}/api/v1/chargers/{serial}/lock"
        async with session.post(command, ssl=ca, headers=bearer) as answer:
            assert answer.status == 200, await answer.text()
            assert (await answer.json())["result"] in ("confirmed", "unchanged")
        async with session.post(command, ssl=ca, headers=good) as answer:
            assert answer.status == 401


async def test_bcrypt_runs_off_the_event_loop_and_once_per_credential(
    sim: Simulator, authority: Authority, tmp_path: Path
) -> None:
    slow = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(13)).decode()
    server = authority.issue("server")
    web_config = tmp_path / "web.yml"
    web_config.write_text(tls_section(server) + f"basic_auth_users:\n  prometheus: '{slow}'\n")
    ca = client_context(authority.cert_file)
    good = basic("prometheus", PASSWORD)
    async with serving(sim, web_config) as served:
        started = time.monotonic()
        first = asyncio.create_task(status_of(served.base + "/metrics", ca, good))
        # While the first check hashes, the loop keeps answering: no probe waits for it.
        latencies = []
        while not first.done():
            probe_started = time.monotonic()
            assert await status_of(served.base + "/healthz", ca) == 200
            latencies.append(time.monotonic() - probe_started)
        assert await first == 200
        uncached = time.monotonic() - started
        assert max(latencies) < uncached / 2, (latencies, uncached)
        started = time.monotonic()
        assert await status_of(served.base + "/metrics", ca, good) == 200
        cached = time.monotonic() - started
        assert cached < uncached / 3, (cached, uncached)


@pytest.mark.parametrize(
    ("client_auth_type", "without", "trusted", "untrusted"),
    [
        ("RequireAndVerifyClientCert", False, True, False),
        ("VerifyClientCertIfGiven", True, True, False),
        ("RequestClientCert", True, True, True),
        ("NoClientCert", True, True, True),
    ],
)
async def test_client_certificates_as_client_auth_type_says(
    sim: Simulator,
    authority: Authority,
    tmp_path: Path,
    client_auth_type: str,
    without: bool,
    trusted: bool,
    untrusted: bool,
) -> None:
    server = authority.issue("server")
    client = authority.issue("prometheus", server=False)
    stranger = Authority(tmp_path / "other", "other CA").issue("stranger", server=False)
    extra = f"  client_auth_type: {client_auth_type}\n"
    if client_auth_type != "NoClientCert":
        extra += f"  client_ca_file: {authority.cert_file}\n"
    web_config = tmp_path / "web.yml"
    web_config.write_text(tls_section(server, extra))

    async def admitted(certificate: Issued | None) -> bool:
        try:
            status = await status_of(
                served.base + "/metrics", client_context(authority.cert_file, certificate)
            )
        except aiohttp.ClientError:
            return False
        assert status == 200
        return True

    async with serving(sim, web_config) as served:
        assert await admitted(None) is without
        assert await admitted(client) is trusted
        assert await admitted(stranger) is untrusted


async def test_a_new_certificate_is_served_on_the_live_listener(
    sim: Simulator, authority: Authority, tmp_path: Path
) -> None:
    first = authority.issue("server")
    web_config = tmp_path / "web.yml"
    web_config.write_text(tls_section(first))
    renewed = Authority(tmp_path / "renewed", "renewed CA")
    later = Authority(tmp_path / "later", "later CA")
    old_ca = client_context(authority.cert_file)
    new_ca = client_context(renewed.cert_file)
    async with (
        serving(sim, web_config, poll_interval=0.05) as served,
        aiohttp.ClientSession() as kept,
    ):
        url = served.base + "/metrics"
        async with kept.get(url, ssl=old_ca) as answer:
            assert answer.status == 200
        with pytest.raises(aiohttp.ClientError):
            await status_of(url, new_ca)

        # The renewed pair replaces the files in place, as cert-manager or certbot do.
        issued = renewed.issue("renewed")
        shutil.copyfile(issued.cert, first.cert)
        shutil.copyfile(issued.key, first.key)
        assert await reload(served.app)
        assert await status_of(url, new_ca) == 200
        with pytest.raises(aiohttp.ClientError):
            await status_of(url, old_ca)
        # The connection opened before the reload stays up with the old certificate.
        async with kept.get(url, ssl=old_ca) as answer:
            assert answer.status == 200
        assert kept.connector is not None

        # A broken key file is refused: the renewed certificate stays in service.
        first.key.write_text("not a key\n")
        assert not await reload(served.app)
        assert await status_of(url, new_ca) == 200

        # A change of the files is picked up without a signal.
        issued = later.issue("later")
        shutil.copyfile(issued.key, first.key)
        shutil.copyfile(issued.cert, first.cert)
        later_ca = client_context(later.cert_file)
        deadline = time.monotonic() + 10
        while True:
            try:
                if await status_of(url, later_ca) == 200:
                    break
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, "the changed certificate was never served"
            await asyncio.sleep(0.05)


async def test_prometheus_scrapes_over_tls_with_basic_auth(
    sim: Simulator, authority: Authority, tmp_path: Path
) -> None:
    server = authority.issue("server")
    web_config = tmp_path / "web.yml"
    web_config.write_text(tls_section(server) + f"basic_auth_users:\n  prometheus: '{HASH}'\n")
    password_file = tmp_path / "scrape-password"
    password_file.write_text(PASSWORD)
    options = {
        "scheme": "https",
        "tls_config": {"ca_file": str(authority.cert_file)},
        "basic_auth": {"username": "prometheus", "password_file": str(password_file)},
    }
    async with (
        serving(sim, web_config) as served,
        async_running_prometheus([f"127.0.0.1:{served.port}"], scrape_options=options) as prom,
    ):

        def scraped_up() -> list[dict[str, object]]:
            targets = prom.targets()
            return targets if targets and targets[0]["health"] == "up" else []

        (target,) = await prom.wait_for_async(scraped_up, description="TLS target up")
        assert str(target["scrapeUrl"]).startswith("https://")
        samples = await prom.wait_for_async(
            lambda: prom.query('easee_exporter_build_info{job="easee"}'),
            description="build info scraped",
        )
        assert samples[0]["value"][1] == "1"
