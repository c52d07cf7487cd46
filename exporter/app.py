"""The service: one aiohttp application wiring the Easee accounts, the store, metrics and HTTP.

``create_app`` is the only place that knows the dependency order. Resources with a lifetime
live in ``cleanup_ctx``, appended in the order they depend on each other, and aiohttp unwinds
them in reverse: the in-process simulated cloud of ``--demo`` first, then the HTTP session,
then the accounts (stopped before the session closes), then the exit watchdog. Everything
without I/O (store, registry, metrics) is built up front, so routes can be added at once.

``run`` is what the command line calls: it configures logging, serves until SIGTERM/SIGINT
(or the exit watchdog) and reloads the configuration on SIGHUP.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, disable_created_metrics

from exporter.config import ConfigError, Settings, diff, reload_settings
from exporter.config.model import split_listen_address
from exporter.fleet import Fleet
from exporter.health import Liveness, liveness_handler, readiness_handler
from exporter.logs import LogSetup, configure_logging
from exporter.metrics import ChargerCollector, ExportFilter, MetricsEndpoint, service_registry
from exporter.selfmetrics import ServiceMetrics
from exporter.state import StateStore
from exporter.statuspage import status_page_handler
from exporter.webhooks import CommandTarget, Controller, add_routes

_log = structlog.get_logger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
#: Freeze the heap at the latest this long after start, ready or not.
FREEZE_AFTER_AT_MOST = 300.0
#: How often the heap freezer looks whether the initial state is in.
FREEZE_POLL = 0.25
#: How often the configuration file's modification time is checked; a stat is cheap.
CONFIG_POLL_INTERVAL = 5.0


@dataclass(slots=True)
class Service:
    """What the handlers and the lifecycle share; ``settings`` changes on reload."""

    settings: Settings
    store: StateStore
    registry: CollectorRegistry
    metrics: ServiceMetrics
    liveness: Liveness
    clock: Callable[[], float]
    metrics_endpoint: MetricsEndpoint
    controller: Controller | None = None
    fleet: Fleet | None = None
    log_setup: LogSetup | None = None
    config_poll_interval: float = CONFIG_POLL_INTERVAL
    #: Set to ask the process to stop; ``exit_code`` says how.
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    exit_code: int = 0


SERVICE = web.AppKey("service", Service)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    log_setup: LogSetup | None = None,
    config_poll_interval: float | None = None,
) -> web.Application:
    """The service as an aiohttp application (not yet started)."""
    store = StateStore()
    registry = service_registry()
    metrics = ServiceMetrics(registry, max_data_age=settings.liveness.max_data_age)
    liveness = Liveness(
        max_data_age=settings.liveness.max_data_age,
        started_at=clock(),
        last_data=lambda: store.view().last_received_at,
        clock=clock,
    )
    service = Service(
        settings=settings,
        store=store,
        registry=registry,
        metrics=metrics,
        metrics_endpoint=_metrics_endpoint(store, registry, settings),
        liveness=liveness,
        clock=clock,
        log_setup=log_setup,
        config_poll_interval=config_poll_interval or CONFIG_POLL_INTERVAL,
    )
    service.controller = Controller.from_settings(
        settings, accounts=_FleetLookup(service), store=store, metrics=metrics
    )
    app = web.Application(client_max_size=settings.web.max_body_size)
    app[SERVICE] = service
    if settings.demo:
        app.cleanup_ctx.append(_demo_cloud)
    app.cleanup_ctx.append(_accounts)
    app.cleanup_ctx.append(_exit_watchdog)
    app.cleanup_ctx.append(_config_watcher)
    app.cleanup_ctx.append(_heap_freezer)
    _add_routes(app, service)
    return app


@dataclass(frozen=True, slots=True)
class _FleetLookup:
    """The controller's view of the accounts, which exist only while the app runs."""

    service: Service

    def account_for(self, charger_id: str) -> CommandTarget | None:
        fleet = self.service.fleet
        return None if fleet is None else fleet.account_for(charger_id)

    def discovering(self) -> bool:
        # Before the accounts start, every charger is still to be discovered.
        fleet = self.service.fleet
        return fleet is None or fleet.discovering()


def _metrics_endpoint(
    store: StateStore, registry: CollectorRegistry, settings: Settings
) -> MetricsEndpoint:
    chosen = settings.metrics
    chargers = ChargerCollector(
        store.view,
        export_filter=ExportFilter(include=chosen.include, exclude=chosen.exclude),
        offline_after=settings.easee.charger_offline_after,
    )
    return MetricsEndpoint(registry, chargers)


def _add_routes(app: web.Application, service: Service) -> None:
    async def metrics(request: web.Request) -> web.StreamResponse:
        # Looked up per request: a reload may narrow or widen what is exported.
        return await service.metrics_endpoint.handle(request)

    live = liveness_handler(service.liveness)
    ready = readiness_handler(lambda: service.fleet.readiness() if service.fleet else {})
    for path in ("/healthz", "/-/healthy", "/livez"):
        app.router.add_get(path, live)
    for path in ("/readyz", "/-/ready"):
        app.router.add_get(path, ready)
    app.router.add_get("/", status_page_handler(service.store, service.clock))
    app.router.add_get("/metrics", metrics)
    app.router.add_static("/static", STATIC_DIR, append_version=False)
    app.on_response_prepare.append(_public_static)
    if service.controller is not None:
        add_routes(app, service.controller)


async def _public_static(request: web.Request, response: web.StreamResponse) -> None:
    # Grafana's canvas panel fetches the pictures from the browser (CORS applies); they are
    # public drawings, so any origin may read them.
    if request.path.startswith("/static/"):
        response.headers["Access-Control-Allow-Origin"] = "*"


async def _demo_cloud(app: web.Application) -> AsyncIterator[None]:
    """``--demo``: an in-process simulated Easee cloud the accounts talk to over loopback."""
    from exporter.simulator import SimulatorConfig, run_simulator

    service = app[SERVICE]
    config = SimulatorConfig.single_account(chargers=3)
    async with run_simulator(config, access_log=False) as sim:
        service.settings = service.settings.with_easee_urls(sim.base_url, sim.hub_url)
        _log.info("demo cloud started", api_url=sim.base_url)
        yield


async def _accounts(app: web.Application) -> AsyncIterator[None]:
    """The HTTP session and the accounts using it; accounts stop before the session closes."""
    service = app[SERVICE]
    service.metrics.set_accounts(a.name for a in service.settings.enabled_accounts)
    timeout = aiohttp.ClientTimeout(total=service.settings.easee.request_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        fleet = Fleet(session=session, store=service.store, events=service.metrics)
        service.fleet = fleet
        await fleet.apply(service.settings)
        try:
            yield
        finally:
            await fleet.stop()
            service.fleet = None


async def _exit_watchdog(app: web.Application) -> AsyncIterator[None]:
    """Exit once liveness has failed for a while: plain Docker never restarts an unhealthy
    container, but ``restart: unless-stopped`` restarts one that exited."""
    service = app[SERVICE]
    task: asyncio.Task[None] | None = None
    if service.settings.liveness.exit_watchdog:
        task = asyncio.create_task(_watch_liveness(service), name="exit-watchdog")
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _watch_liveness(service: Service) -> None:
    failing_since: float | None = None
    period = min(30.0, max(0.5, service.settings.liveness.max_data_age / 10))
    while True:
        await asyncio.sleep(period)
        verdict = service.liveness.verdict()
        now = service.clock()
        if verdict.alive:
            failing_since = None
            continue
        failing_since = now if failing_since is None else failing_since
        if now - failing_since >= service.settings.liveness.exit_watchdog_delay:
            _log.error(
                "no data from the Easee cloud; exiting so that the service restarts",
                reason=verdict.reason,
            )
            service.exit_code = 1
            service.stop.set()
            return


async def _heap_freezer(app: web.Application) -> AsyncIterator[None]:
    """Move the start-up heap out of the garbage collector's sight once the first state is in.

    A full collection walks every tracked object; at a thousand chargers the store and the
    metric caches hold a few hundred thousand, and a full pass stalled the event loop for up
    to 200 ms in ``bench/scrape.py``. What is alive once every account has replayed the state
    of every charger it subscribed (modules, tables, caches, the first readings) mostly lives
    as long as the process, so it is frozen once; later objects are collected as usual.
    Readiness is not enough: at 1,000-3,000 chargers it comes seconds before the replay has
    finished loading, and what arrives after the freeze stays in the collector's sight.
    """
    service = app[SERVICE]

    async def freeze_when_replayed() -> None:
        deadline = service.clock() + FREEZE_AFTER_AT_MOST
        while service.clock() < deadline:
            if service.fleet is not None and service.fleet.state_replayed():
                break
            await asyncio.sleep(FREEZE_POLL)
        gc.collect()
        gc.freeze()
        _log.debug("start-up heap frozen", objects=gc.get_freeze_count())

    task = asyncio.create_task(freeze_when_replayed(), name="heap-freezer")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _config_watcher(app: web.Application) -> AsyncIterator[None]:
    """Reload when the configuration file changes, as SIGHUP does (Kubernetes updates a
    mounted ConfigMap in place and sends no signal)."""
    service = app[SERVICE]
    task: asyncio.Task[None] | None = None
    if service.settings.config_file is not None:
        task = asyncio.create_task(_watch_config(app, service.settings.config_file))
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _file_stamp(path: Path) -> tuple[float, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime, stat.st_size


async def _watch_config(app: web.Application, path: Path) -> None:
    service = app[SERVICE]
    stamp = _file_stamp(path)
    while True:
        await asyncio.sleep(service.config_poll_interval)
        current = _file_stamp(path)
        if current != stamp and current is not None:
            stamp = current
            _log.info("configuration file changed", path=str(path))
            await reload(app)


async def reload(app: web.Application) -> bool:
    """Re-read the configuration and apply it; on error keep the running one. True if applied."""
    service = app[SERVICE]
    setup = service.log_setup
    current = service.settings
    result = reload_settings(current, os.environ)
    if isinstance(result, ConfigError):
        for line in result.lines():
            _log.error("configuration reload refused", problem=line)
        return False
    if current.demo:
        result = result.with_easee_urls(str(current.easee.api_url), str(current.easee.stream_url))
    changes = diff(current, result)
    if changes.listen_address_changed:
        _log.warning("the listen address changes only at restart")
    service.settings = result
    if setup is not None and (changes.logging_changed or changes.webhooks_changed):
        setup.apply(result.logging, result.secret_values())
    if service.controller is not None:
        service.controller.apply_settings(result)
    if (result.metrics, result.easee.charger_offline_after) != (
        current.metrics,
        current.easee.charger_offline_after,
    ):
        service.metrics_endpoint = _metrics_endpoint(service.store, service.registry, result)
    service.liveness.max_data_age = result.liveness.max_data_age
    service.metrics.liveness_max_data_age.set(result.liveness.max_data_age)
    service.metrics.set_accounts(a.name for a in result.enabled_accounts)
    if service.fleet is not None:
        await service.fleet.apply(result)
    _log.info("configuration reloaded", changes=changes.describe())
    return True


async def serve(settings: Settings, setup: LogSetup | None = None) -> int:
    """Serve until asked to stop; returns the process exit code."""
    app = create_app(settings, log_setup=setup)
    service = app[SERVICE]
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    host, port = split_listen_address(settings.web.listen_address)
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as error:
        _log.error("cannot listen", address=settings.web.listen_address, error=str(error))
        await runner.cleanup()
        return 1
    loop = asyncio.get_running_loop()
    reloads: set[asyncio.Task[bool]] = set()

    def on_hup() -> None:
        task = asyncio.create_task(reload(app))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, service.stop.set)
    loop.add_signal_handler(signal.SIGHUP, on_hup)
    _announce(service, host, port)
    try:
        await service.stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)
        _log.info("stopping")
        await runner.cleanup()
    return service.exit_code


def _announce(service: Service, host: str, port: int) -> None:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{shown}:{port}"
    _log.info("listening", url=base)
    token = service.settings.demo_token
    if token is not None:
        # The demo's generated token is meant to be seen: it is printed, never logged.
        print(
            f"easee-exporter demo is running on a simulated Easee cloud\n"
            f"  status page  {base}/\n"
            f"  metrics      {base}/metrics\n"
            f"  liveness     {base}/healthz\n"
            f"  readiness    {base}/readyz\n"
            f"  chargers     curl -H 'Authorization: Bearer {token.get_secret_value()}' "
            f"{base}/api/v1/chargers\n"
            f"  demo webhook token: {token.get_secret_value()}",
            flush=True,
        )


def run(settings: Settings) -> int:
    """Run the service (the command line's default command)."""
    setup = configure_logging(settings.logging, secrets=settings.secret_values())
    # In the text format each counter's ``_created`` sample becomes a gauge family of its
    # own: noise on every dashboard's metric list, and nothing uses it.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    try:
        return asyncio.run(serve(settings, setup))
    except KeyboardInterrupt:
        return 0
    finally:
        sys.stdout.flush()
