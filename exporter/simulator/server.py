"""Serving a simulator: the aiohttp application and ``run_simulator``.

``create_app`` wires the REST routes, the hub and the admin API to one ``Simulator``, with
the physics ticker and every background job in ``cleanup_ctx`` so they are cancelled and
awaited on shutdown. ``run_simulator`` serves it on a real socket for the length of an
``async with`` block.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.log import access_logger

from exporter.simulator.admin import AdminApi
from exporter.simulator.config import SimulatorConfig
from exporter.simulator.rest import RestApi, make_middleware
from exporter.simulator.simulator import Simulator

HUB_PATHS = ("/hubs/chargers", "/hubs/products")
SIMULATOR_KEY = web.AppKey("simulator", Simulator)


def create_app(sim: Simulator) -> web.Application:
    """The simulated cloud as an aiohttp application."""
    app = web.Application(middlewares=[make_middleware(sim)], client_max_size=1024 * 1024)
    app[SIMULATOR_KEY] = sim
    app.add_routes(RestApi(sim).routes())
    for path in HUB_PATHS:
        app.router.add_post(path + "/negotiate", sim.hub.negotiate)
        app.router.add_get(path, sim.hub.websocket)
    app.add_routes(AdminApi(sim).routes())
    app.cleanup_ctx.append(_background)
    app.on_shutdown.append(_close_streams)
    return app


async def _background(app: web.Application) -> AsyncIterator[None]:
    sim = app[SIMULATOR_KEY]
    ticker = asyncio.create_task(sim.run_ticker())
    yield
    ticker.cancel()
    await asyncio.gather(ticker, return_exceptions=True)
    await sim.shutdown()


async def _close_streams(app: web.Application) -> None:
    await app[SIMULATOR_KEY].hub.shutdown()


class _TcpListener:
    """The listening socket; the refuse-connections fault stops and restarts it."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self._runner = runner
        self._host = host
        self.port = port
        self._site: web.TCPSite | None = None

    async def start(self) -> None:
        site = web.TCPSite(self._runner, self._host, self.port, reuse_address=True)
        await site.start()
        self._site = site
        if self.port == 0:
            # The port a port-0 site was bound to is only known from its socket.
            sockets = getattr(site._server, "sockets", None)
            if sockets:
                self.port = int(sockets[0].getsockname()[1])

    async def refuse(self, on: bool) -> None:
        if on and self._site is not None:
            await self._site.stop()
            self._site = None
        elif not on and self._site is None:
            await self.start()


@contextlib.asynccontextmanager
async def run_simulator(
    config: SimulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    access_log: bool = True,
) -> AsyncIterator[Simulator]:
    """Serve a simulated cloud on ``host:port`` (0: a free port) for the block's length.

    Yields the ``Simulator``, with ``base_url``, ``hub_url`` and ``admin_url`` filled in.
    ``access_log=False`` keeps its requests out of the log (``--demo``, where the service's
    own log is what the user reads).
    """
    sim = Simulator(config)
    runner = web.AppRunner(
        create_app(sim),
        handle_signals=False,
        shutdown_timeout=2.0,
        access_log=access_logger if access_log else None,
    )
    await runner.setup()
    listener = _TcpListener(runner, host, port)
    try:
        await listener.start()
        sim.listener = listener
        shown = f"[{host}]" if ":" in host else host
        sim.base_url = f"http://{shown}:{listener.port}"
        sim.hub_url = f"{sim.base_url}/hubs/chargers"
        sim.admin_url = f"{sim.base_url}/_sim"
        yield sim
    finally:
        await runner.cleanup()
