"""The command line, run as a user runs it: ``python -m exporter ...`` in a subprocess."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from exporter.healthcheck import default_url
from exporter.simulator import (
    AccountConfig,
    RequestBurst,
    SimulatorConfig,
    make_chargers,
    run_simulator,
)

ROOT = Path(__file__).resolve().parent.parent
CONFFILES = Path(__file__).parent / "config" / "conffiles"
PASSWORD = "Cli-test-password-0451"


def child_env(**extra: str) -> dict[str, str]:
    """The caller's environment without EASEE_* variables, with the checkout importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EASEE_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exporter", *args],
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def run_async(*args: str, **env: str) -> tuple[int, str, str]:
    """As run(), without blocking the event loop that serves the test's HTTP server."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "exporter",
        *args,
        env=child_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def expected_problems(path: Path) -> list[str]:
    prefix = "# expect: "
    return [
        line.removeprefix(prefix).replace("{dir}", str(path.parent))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(prefix)
    ]


class TestCheckConfig:
    def test_invalid_file_exits_2_with_one_problem_per_line(self) -> None:
        path = CONFFILES / "many_problems.yaml"
        result = run("check-config", "--config.file", str(path))
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.splitlines() == expected_problems(path)

    def test_valid_file_exits_0_with_a_summary(self) -> None:
        result = run("check-config", "--config.file", str(CONFFILES / "valid" / "full.yaml"))
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [
            "configuration OK: 3 account(s), 2 enabled; 4 charger(s) listed; "
            "2 webhook token(s), 1 HMAC secret(s)"
        ]
        assert result.stderr == ""

    def test_environment_only(self) -> None:
        result = run("check-config", EASEE_USERNAME="a@example.org", EASEE_PASSWORD=PASSWORD)
        assert result.returncode == 0, result.stderr
        assert "1 account(s) discovering their chargers" in result.stdout
        assert PASSWORD not in result.stdout + result.stderr

    def test_config_file_from_the_environment(self) -> None:
        path = CONFFILES / "charger_unknown_account.yaml"
        result = run("check-config", EASEE_EXPORTER_CONFIG=str(path))
        assert result.returncode == 2
        assert result.stderr.splitlines() == expected_problems(path)

    def test_unreachable_cloud_fails_the_credential_check(self) -> None:
        """Nothing listens on port 1: the check fails with exit 1 and says why."""
        result = run(
            "check-config",
            "--verify-credentials",
            EASEE_USERNAME="a@example.org",
            EASEE_PASSWORD=PASSWORD,
            EASEE_API_URL="http://127.0.0.1:1",
        )
        assert result.returncode == 1
        assert result.stderr.startswith("account 'default': cannot reach http://127.0.0.1:1: ")
        assert PASSWORD not in result.stdout + result.stderr

    def test_usage_errors_exit_2(self) -> None:
        result = run("check-config", "--no-such-flag")
        assert result.returncode == 2
        assert "unrecognized arguments: --no-such-flag" in result.stderr


class TestVerifyCredentials:
    """check-config --verify-credentials against the simulated Easee cloud."""

    async def test_good_credentials(self) -> None:
        async with run_simulator() as sim:
            code, stdout, stderr = await run_async(
                "check-config",
                "--verify-credentials",
                EASEE_USERNAME="demo",
                EASEE_PASSWORD="demo",
                EASEE_API_URL=sim.base_url,
            )
            logins = sim.requests.count(route="/api/accounts/login")
        assert code == 0, stderr
        assert stdout.splitlines()[1:] == ["account 'default': login OK"]
        assert logins == 1

    async def test_each_account_is_reported(self, tmp_path: Path) -> None:
        config = SimulatorConfig(
            accounts=(
                AccountConfig(
                    username="a@example.org", password="pass-a", chargers=make_chargers(1)
                ),
                AccountConfig(
                    username="b@example.org", password="pass-b", chargers=make_chargers(1, start=2)
                ),
            )
        )
        path = tmp_path / "easee.yaml"
        path.write_text(
            f"""
accounts:
  - {{name: first, username: a@example.org, password: pass-a}}
  - {{name: second, username: b@example.org, password: {PASSWORD}}}
  - {{name: third, username: c@example.org, password: pass-c, enabled: false}}
""",
            encoding="utf-8",
        )
        async with run_simulator(config) as sim:
            code, stdout, stderr = await run_async(
                "check-config",
                "--config.file",
                str(path),
                "--verify-credentials",
                EASEE_API_URL=sim.base_url,
            )
        assert code == 1
        assert stdout.splitlines()[1:] == [
            "account 'third': disabled, not checked",
            "account 'first': login OK",
        ]
        assert stderr.splitlines() == ["account 'second': invalid username or password"]
        assert PASSWORD not in stdout + stderr

    async def test_cloud_errors_are_reported_by_status(self) -> None:
        async with run_simulator() as sim:
            sim.set_faults(server_errors=RequestBurst(count=1, status=503))
            code, _, stderr = await run_async(
                "check-config",
                "--verify-credentials",
                EASEE_USERNAME="demo",
                EASEE_PASSWORD="demo",
                EASEE_API_URL=sim.base_url,
            )
            assert code == 1
            assert stderr.startswith("account 'default': login refused: HTTP 503")

            sim.set_faults(ip_block="json")
            code, _, stderr = await run_async(
                "check-config",
                "--verify-credentials",
                EASEE_USERNAME="demo",
                EASEE_PASSWORD="demo",
                EASEE_API_URL=sim.base_url,
            )
        assert code == 1
        assert stderr.startswith("account 'default': login refused: HTTP 403")


class TestService:
    def test_invalid_configuration_exits_2_before_starting(self) -> None:
        path = CONFFILES / "bad_logging.yaml"
        result = run("--config.file", str(path), "--web.listen-address", "127.0.0.1:0")
        assert result.returncode == 2
        assert result.stderr.splitlines() == expected_problems(path)

    def test_no_account_without_demo_exits_2(self) -> None:
        result = run()
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            "accounts: no account configured: set EASEE_USERNAME and EASEE_PASSWORD, list "
            "accounts in the configuration file, or run with --demo"
        ]

    def test_bad_flags_are_configuration_errors(self) -> None:
        result = run(
            "--log.level",
            "loud",
            "--log.format",
            "xml",
            EASEE_USERNAME="a@example.org",
            EASEE_PASSWORD=PASSWORD,
        )
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            "--log.level (logging.level): Input should be 'debug', 'info', 'warning', 'error' "
            "or 'critical'",
            "--log.format (logging.format): Input should be 'auto', 'json' or 'console'",
        ]

    def test_help_lists_the_flags_and_commands(self) -> None:
        result = run("--help")
        assert result.returncode == 0
        for text in ("--config.file", "--web.listen-address", "--log.level", "--demo"):
            assert text in result.stdout
        assert "check-config, healthcheck, simulate" in result.stdout

    def test_unknown_command(self) -> None:
        result = run("chek-config")
        assert result.returncode == 2
        assert result.stderr.strip() == (
            "easee-exporter: unknown command 'chek-config' "
            "(commands: check-config, healthcheck, simulate)"
        )


def health_app(status: int, release: asyncio.Event | None = None) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        if release is not None:
            await release.wait()
        return web.json_response({"status": "ok" if status == 200 else "stale"}, status=status)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    return app


ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


class TestHealthcheck:
    async def test_200_is_healthy(self, aiohttp_server: ServerFactory) -> None:
        server = await aiohttp_server(health_app(200))
        url = str(server.make_url("/healthz"))
        code, stdout, _ = await run_async("healthcheck", "--url", url)
        assert code == 0
        assert stdout.strip() == f"healthy: {url}"

    async def test_503_is_unhealthy(self, aiohttp_server: ServerFactory) -> None:
        server = await aiohttp_server(health_app(503))
        url = str(server.make_url("/healthz"))
        code, _, stderr = await run_async("healthcheck", "--url", url)
        assert code == 1
        assert stderr.strip() == f"unhealthy: {url}: HTTP 503"

    async def test_no_answer_in_time_is_unhealthy(self, aiohttp_server: ServerFactory) -> None:
        release = asyncio.Event()
        server = await aiohttp_server(health_app(200, release))
        url = str(server.make_url("/healthz"))
        code, _, stderr = await run_async("healthcheck", "--url", url, "--timeout", "0.5")
        release.set()
        assert code == 1
        assert "timed out" in stderr

    async def test_default_url_follows_the_listen_variable(
        self, aiohttp_server: ServerFactory
    ) -> None:
        server = await aiohttp_server(health_app(200))
        code, stdout, _ = await run_async(
            "healthcheck", EASEE_EXPORTER_LISTEN=f"0.0.0.0:{server.port}"
        )
        assert code == 0
        assert stdout.strip() == f"healthy: http://127.0.0.1:{server.port}/healthz"

    def test_help_shows_the_url_it_will_use(self) -> None:
        plain = run("healthcheck", "--help")
        assert plain.returncode == 0
        assert "http://127.0.0.1:34739/healthz" in " ".join(plain.stdout.split())
        moved = run("healthcheck", "--help", EASEE_EXPORTER_LISTEN="0.0.0.0:9100")
        assert "(default: http://127.0.0.1:9100/healthz)" in " ".join(moved.stdout.split())

    def test_nothing_listening_is_unhealthy(self) -> None:
        result = run("healthcheck", "--url", "http://127.0.0.1:1/healthz")
        assert result.returncode == 1
        assert result.stderr.startswith("unhealthy: http://127.0.0.1:1/healthz: no answer")

    def test_default_urls(self) -> None:
        assert default_url({}) == "http://127.0.0.1:34739/healthz"
        assert default_url({"EASEE_EXPORTER_LISTEN": ":9595"}) == "http://127.0.0.1:9595/healthz"
        assert default_url({"EASEE_EXPORTER_LISTEN": "[::]:9595"}) == "http://[::1]:9595/healthz"
        assert default_url({"EASEE_EXPORTER_LISTEN": "10.0.0.2:80"}) == "http://10.0.0.2:80/healthz"
        assert default_url({"EASEE_EXPORTER_LISTEN": "garbage"}) == (
            "http://127.0.0.1:34739/healthz"
        )

    def test_stays_light(self) -> None:
        """Docker runs it every few seconds: no pydantic, aiohttp or structlog import."""
        code = (
            "import sys; from exporter.cli import main; "
            "main(['healthcheck', '--url', 'http://127.0.0.1:1/healthz']); "
            "print(sorted(m for m in ('pydantic', 'aiohttp', 'structlog', 'yaml') "
            "if m in sys.modules))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.stdout.strip() == "[]"
