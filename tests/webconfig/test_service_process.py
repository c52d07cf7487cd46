"""The service as a process with ``EASEE_EXPORTER_WEB_CONFIG``: HTTPS, the healthcheck
command against it, a certificate renewed on SIGHUP, and no password in its logs."""

from __future__ import annotations

import asyncio
import shutil
import signal
import ssl
import sys
import time
from pathlib import Path

import aiohttp
import bcrypt

from tests.test_app import free_port, service_env
from tests.test_cli import run_async
from tests.webconfig.certs import Authority

PASSWORD = "process-scrape-password-5520"
WRONG = "wrong-password-guess-9981"


async def wait_until_served(url: str, context: ssl.SSLContext, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(url, ssl=context) as answer,
            ):
                if answer.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        assert time.monotonic() < deadline, f"{url} never answered 200 with that certificate"
        await asyncio.sleep(0.1)


async def test_https_service_healthcheck_and_sighup_renewal(tmp_path: Path) -> None:
    authority = Authority(tmp_path / "ca", "test CA")
    server = authority.issue("server")
    web_config = tmp_path / "web.yml"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    web_config.write_text(
        "tls_server_config:\n  cert_file: ca/server.crt\n  key_file: ca/server.key\n"
        f"basic_auth_users:\n  prometheus: '{hashed}'\n"
    )
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    trusted = ssl.create_default_context(cafile=authority.cert_file)
    log = tmp_path / "stderr.log"
    with log.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "exporter", "--demo"),
            *("--web.listen-address", f"127.0.0.1:{port}"),
            env=service_env(EASEE_EXPORTER_WEB_CONFIG=str(web_config), EASEE_LOG_LEVEL="debug"),
            stdout=asyncio.subprocess.PIPE,
            stderr=errors,
        )
    try:
        await wait_until_served(f"{base}/readyz", trusted)
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 5)).decode()
        banner += (await asyncio.wait_for(process.stdout.readline(), 5)).decode()
        assert f"{base}/" in banner

        healthz = f"{base}/healthz"
        assert (
            await run_async("healthcheck", "--url", healthz, "--ca-file", str(authority.cert_file))
        )[0] == 0
        code, _, stderr = await run_async("healthcheck", "--url", healthz)
        assert code == 1
        assert "CERTIFICATE_VERIFY_FAILED" in stderr
        assert (await run_async("healthcheck", "--url", healthz, "--insecure"))[0] == 0

        async with aiohttp.ClientSession() as session:
            for password, status in ((WRONG, 401), (PASSWORD, 200)):
                headers = {"Authorization": aiohttp.encode_basic_auth("prometheus", password)}
                async with session.get(f"{base}/metrics", ssl=trusted, headers=headers) as answer:
                    assert answer.status == status

        renewed = Authority(tmp_path / "renewed", "renewed CA").issue("renewed")
        shutil.copyfile(renewed.key, server.key)
        shutil.copyfile(renewed.cert, server.cert)
        process.send_signal(signal.SIGHUP)
        await wait_until_served(
            f"{base}/healthz",
            ssl.create_default_context(cafile=tmp_path / "renewed" / "renewed-CA.crt"),
        )

        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
        logged = log.read_text()
        assert "configuration reloaded" in logged
        assert PASSWORD not in logged
        assert WRONG not in logged
        assert hashed not in logged
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
