"""The control API on a real socket, in front of a real Easee account and the simulated cloud.

``running_service()`` starts, all on 127.0.0.1: the simulated Easee cloud, one
:class:`~exporter.easee.account.EaseeAccount` logged in to it and streaming into a real
:class:`~exporter.state.StateStore`, and an aiohttp application with the control API mounted
by :func:`exporter.webhooks.add_routes` (plus a plain ``/metrics`` route, to show that the
gate stays on ``/api/v1``). ``Accounts`` is the tests' small fleet: the lookup the
controller needs, built from what the account reports.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from pydantic import SecretStr

from exporter.config.model import Webhooks, WebhookSecret, WebhookToken
from exporter.easee.account import AccountConfig, EaseeAccount
from exporter.easee.client import Credentials
from exporter.easee.models import ChargerSummary
from exporter.httpserver import ServiceRunner
from exporter.selfmetrics import ServiceMetrics
from exporter.simulator.server import run_simulator
from exporter.simulator.simulator import Simulator
from exporter.state import ChargerMeta, StateStore
from exporter.webhooks import Controller, ControllerLimits, add_routes
from exporter.webhooks.standard_webhooks import sign
from tests.easee.support import fast_options, sim_config, wait_until

CHARGING, CONNECTED, IDLE = "EH000001", "EH000002", "EH000003"
CHARGERS = (CHARGING, CONNECTED, IDLE)
COMMAND_ROUTE = "/api/chargers/{id}/commands/{command}"

TOKEN = "all-rights-token-0123456789abcdef"
READER_TOKEN = "read-only-token-0123456789abcdef"
PAUSER_TOKEN = "pause-one-token-0123456789abcdef"
SECRET_BYTES = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(SECRET_BYTES).decode()
OLD_SECRET = "an-older-signing-secret-of-32-bytes!"
SECRET_VALUES = (TOKEN, READER_TOKEN, PAUSER_TOKEN, SECRET, OLD_SECRET)


def default_webhooks() -> Webhooks:
    """Three tokens (all rights, read only, pause/resume of one charger) and two secrets."""
    return Webhooks(
        tokens=(
            WebhookToken(name="automation", token=SecretStr(TOKEN)),
            WebhookToken(name="dashboard", token=SecretStr(READER_TOKEN), actions=["read"]),
            WebhookToken(
                name="grafana",
                token=SecretStr(PAUSER_TOKEN),
                actions=["pause", "resume"],
                chargers=[CHARGING],
            ),
        ),
        secrets=(
            WebhookSecret(name="old-signer", secret=SecretStr(OLD_SECRET)),
            WebhookSecret(name="signer", secret=SecretStr(SECRET)),
        ),
    )


class Accounts:
    """The tests' fleet: which account owns which charger, and the store's charger set."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._owner: dict[str, EaseeAccount] = {}
        self._accounts: dict[str, EaseeAccount] = {}

    def add(self, account: EaseeAccount) -> None:
        self._accounts[account.name] = account

    def on_chargers(self, account: str, chargers: Sequence[ChargerSummary]) -> None:
        for charger in chargers:
            self._store.upsert_charger(
                ChargerMeta(charger_id=charger.charger_id, name=charger.name, account=account)
            )
            self._owner[charger.charger_id] = self._accounts[account]

    def account_for(self, charger_id: str) -> EaseeAccount | None:
        return self._owner.get(charger_id)

    def discovering(self) -> bool:
        return any(not account.chargers for account in self._accounts.values())


@dataclass
class Reply:
    """An answer as the client saw it."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip()


@dataclass
class Harness:
    """Everything a test touches: the cloud, the store, the metrics and an HTTP client."""

    sim: Simulator
    store: StateStore
    registry: CollectorRegistry
    controller: Controller
    base_url: str
    client: aiohttp.ClientSession

    def commands(self, charger_id: str | None = None, *, status: int | None = None) -> int:
        """Commands the cloud received (for one charger), from its request log."""
        return sum(
            1
            for e in self.sim.requests.entries
            if e.route == COMMAND_ROUTE
            and (charger_id is None or e.path.startswith(f"/api/chargers/{charger_id}/"))
            and (status is None or e.status == status)
        )

    def metric(self, name: str, **labels: str) -> float:
        value = self.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value

    def exposition(self) -> str:
        return generate_latest(self.registry).decode()

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = TOKEN,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = body.encode() if isinstance(body, str) else body
        async with self.client.request(
            method, self.base_url + path, data=data, headers=sent
        ) as response:
            return Reply(response.status, dict(response.headers), await response.read())

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("POST", path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", path, **kwargs)

    async def signed(
        self,
        path: str,
        body: bytes = b"{}",
        *,
        key: bytes = SECRET_BYTES,
        webhook_id: str = "msg_1",
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> Reply:
        """A Standard Webhooks request, signed with ``key`` unless ``signature`` is given."""
        stamp = int(time.time()) if timestamp is None else timestamp
        headers = {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signature or sign(key, webhook_id, stamp, body),
            "Content-Type": "application/json",
        }
        return await self.post(path, token=None, body=body, headers=headers)


def command_path(charger_id: str, action: str, query: str = "") -> str:
    return f"/api/v1/chargers/{charger_id}/{action}" + (f"?{query}" if query else "")


FAST_LIMITS = ControllerLimits(command_timeout=3.0, cloud_retry_after=30.0)


@asynccontextmanager
async def running_service(
    *,
    webhooks: Webhooks | None = None,
    limits: ControllerLimits = FAST_LIMITS,
    account_options: Mapping[str, Any] | None = None,
    **sim_settings: Any,
) -> AsyncIterator[Harness]:
    """The control API over a live account on the simulated cloud, ready for requests."""
    async with (
        run_simulator(sim_config(**sim_settings)) as sim,
        aiohttp.ClientSession() as session,
    ):
        store = StateStore()
        accounts = Accounts(store)
        registry = CollectorRegistry()
        metrics = ServiceMetrics(registry, max_data_age=900)
        account = EaseeAccount(
            AccountConfig(name="home", credentials=Credentials("demo", "demo")),
            session=session,
            options=fast_options(sim, **(account_options or {})),
            events=metrics,
            sink=store.apply,
            on_chargers=accounts.on_chargers,
            on_sites=lambda name, sites: store.set_sites(name, tuple(sites)),
        )
        accounts.add(account)
        controller = Controller(
            accounts=accounts,
            store=store,
            webhooks=webhooks if webhooks is not None else default_webhooks(),
            metrics=metrics,
            limits=limits,
        )
        app = web.Application()

        async def plain_metrics(_request: web.Request) -> web.Response:
            return web.Response(body=generate_latest(registry), content_type="text/plain")

        app.router.add_get("/metrics", plain_metrics)
        add_routes(app, controller)
        runner = ServiceRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            async with account:
                await wait_until(lambda: all(c in store for c in CHARGERS), what="discovery")
                await wait_until(lambda: bool(store.view().sites), what="the sites")
                for charger_id in CHARGERS:
                    await store.wait_for(
                        charger_id,
                        lambda v: (
                            v.derived.op_mode is not None
                            and v.derived.paused is not None
                            and v.derived.cable_lock_state is not None
                        ),
                        timeout=5.0,
                    )
                async with aiohttp.ClientSession() as client:
                    yield Harness(
                        sim=sim,
                        store=store,
                        registry=registry,
                        controller=controller,
                        base_url=f"http://127.0.0.1:{port}",
                        client=client,
                    )
        finally:
            await runner.cleanup()
