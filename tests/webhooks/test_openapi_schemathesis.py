"""schemathesis against ``/api/v1/openapi.json``, on the live service over a real socket.

The service (and the simulated cloud behind it) runs in this test's event loop; the
schemathesis command line runs in a child process and calls it on 127.0.0.1. Bounded: a
fixed seed, few examples per operation and a deadline. It must find no 5xx and no answer
outside the document (status, content type, headers, body schema).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from exporter.webhooks import ControllerLimits
from exporter.webhooks.limits import Rate
from tests.webhooks.support import TOKEN, running_service

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    )
)
DEADLINE = 60.0


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    tmp_path: Path,
) -> None:
    # Commands that reach a charger are confirmed quickly; the lock rate stays out of the way.
    limits = ControllerLimits(command_timeout=2.0, lock_rate=Rate(calls=10_000, period=60))
    # The simulated cloud has no request budget to protect; the fuzzer sends many commands.
    budget = {"budget_limit": 100_000, "budget_reserve": 10}
    config = tmp_path / "schemathesis.toml"
    # 413 is how this API rejects a body over web.max_body_size, schema-violating or not.
    config.write_text(
        "[checks.negative_data_rejection]\n"
        "expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]\n"
    )
    async with running_service(limits=limits, account_options=budget) as h:
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "run",
            f"{h.base_url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {TOKEN}",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "40",
            "--seed",
            "1",
            "--workers",
            "1",
            "--no-shrink",
            "--generation-database",
            "none",
            "--generation-with-security-parameters",
            "false",
            "--request-timeout",
            "10",
            "--no-color",
        ]
        env = {**os.environ, "SCHEMATHESIS_TELEMETRY": "false", "HOME": str(tmp_path)}
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), DEADLINE)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        text = output.decode(errors="replace")
        assert process.returncode == 0, text
        # It did exercise the service: every route answered, commands were confirmed.
        exercised = (
            ("command", "200"),
            ("current", "200"),
            ("alertmanager", "200"),
            ("chargers", "200"),
            ("circuits", "200"),
            ("circuit_current", "400"),
        )
        for route, status in exercised:
            assert h.metric("easee_exporter_webhook_requests_total", route=route, status=status)
        assert h.commands(status=202) > 0
        assert TOKEN not in text
