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

from exporter import heap
from exporter.config import ConfigError, Settings, diff, reload_settings
from exporter.config.model import split_listen_address
from exporter.fleet import Fleet
from exporter.health import Liveness, liveness_handler, readiness_handler
from exporter.httpserver import ServiceRunner
from exporter.logs import LogSetup, configure_logging
from exporter.metrics import ChargerCollector, ExportFilter, MetricsEndpoint, service_registry
from exporter.power_history import PowerHistory, sample_forever
from exporter.selfmetrics import ServiceMetrics
from exporter.state import StateStore, as_seen
from exporter.statuspage import REFRESH_SECONDS, PageSources, status_page_handler
from exporter.tls import TLSFileError
from exporter.webconfig import WebFront
from exporter.webhooks import CommandTarget, Controller, add_routes
from exporter.webhooks.routes import PREFIX as API_PREFIX

_log = structlog.get_logger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
#: Freeze the heap at the latest this long after start, ready or not.
FREEZE_AFTER_AT_MOST = 300.0
#: How often the heap freezer looks whether the initial state is in.
FREEZE_POLL = 0.25
#: How often the configuration file's modification time is checked; a stat is cheap.
CONFIG_POLL_INTERVAL = 5.0
LIVENESS_PATHS = ("/healthz", "/-/healthy", "/livez")
READINESS_PATHS = ("/readyz", "/-/ready")


@dataclass(frozen=True, slots=True)
class Configured:
    """What a reload (or the demo's simulated cloud) replaces, as one value swapped whole: the
    settings and what is built from them alone. Handlers read ``service.configured`` once per
    request, so none sees the settings of one reload with the endpoint of another."""

    settings: Settings
    metrics_endpoint: MetricsEndpoint

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: StateStore,
        registry: CollectorRegistry,
        previous: Configured | None = None,
    ) -> Configured:
        """``settings`` with its metrics endpoint; the previous endpoint (and its render
        caches) is kept when the export settings did not change."""
        if previous is not None and _export_settings(previous.settings) == _export_settings(
            settings
        ):
            return cls(settings, previous.metrics_endpoint)
        return cls(settings, _metrics_endpoint(store, registry, settings))


def _export_settings(settings: Settings) -> object:
    return settings.metrics, settings.easee.charger_offline_after


@dataclass(slots=True)
class Service:
    """What the handlers and the lifecycle share; ``configured`` is swapped whole on reload."""

    configured: Configured
    store: StateStore
    registry: CollectorRegistry
    metrics: ServiceMetrics
    liveness: Liveness
    clock: Callable[[], float]
    front: WebFront
    controller: Controller | None = None
    fleet: Fleet | None = None
    log_setup: LogSetup | None = None
    config_poll_interval: float = CONFIG_POLL_INTERVAL
    #: the status page's sparklines
    power_history: PowerHistory = field(default_factory=PowerHistory)
    #: how often the status page's script refreshes the values, seconds
    page_refresh: float = REFRESH_SECONDS
    #: Set to ask the process to stop; ``exit_code`` says how.
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    exit_code: int = 0

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        return self.configured.settings


SERVICE = web.AppKey("service", Service)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    log_setup: LogSetup | None = None,
    config_poll_interval: float | None = None,
    power_history: PowerHistory | None = None,
    page_refresh: float | None = None,
) -> web.Application:
    """The service as an aiohttp application (not yet started).

    ``power_history`` and ``page_refresh`` let tests and the screenshot script sample and
    refresh the status page faster than a person needs."""
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
        configured=Configured.build(settings, store, registry),
        store=store,
        registry=registry,
        metrics=metrics,
        liveness=liveness,
        clock=clock,
        log_setup=log_setup,
        config_poll_interval=config_poll_interval or CONFIG_POLL_INTERVAL,
        # Probes carry no credentials; the control API checks its own.
        front=WebFront(
            settings.web_config,
            open_paths=LIVENESS_PATHS + READINESS_PATHS,
            open_prefixes=(f"{API_PREFIX}/",),
        ),
        power_history=power_history or PowerHistory(),
        page_refresh=page_refresh or REFRESH_SECONDS,
    )
    service.controller = Controller.from_settings(
        settings, accounts=_FleetLookup(service), store=store, metrics=metrics
    )
    app = web.Application(
        client_max_size=settings.web.max_body_size, middlewares=[service.front.middleware]
    )
    app[SERVICE] = service
    if settings.demo:
        app.cleanup_ctx.append(_demo_cloud)
    app.cleanup_ctx.append(_accounts)
    app.cleanup_ctx.append(_exit_watchdog)
    app.cleanup_ctx.append(_config_watcher)
    app.cleanup_ctx.append(_heap_freezer)
    app.cleanup_ctx.append(_power_sampler)
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
        return await service.configured.metrics_endpoint.handle(request)

    live = liveness_handler(service.liveness)
    ready = readiness_handler(lambda: service.fleet.readiness() if service.fleet else {})
    for path in LIVENESS_PATHS:
        app.router.add_get(path, live)
    for path in READINESS_PATHS:
        app.router.add_get(path, ready)
    page = PageSources(
        store=service.store,
        history=service.power_history,
        accounts=lambda: (
            tuple(a.status for a in service.fleet.accounts.values()) if service.fleet else ()
        ),
        alive=lambda: service.liveness.verdict().alive,
        offline_after=lambda: service.settings.easee.charger_offline_after,
    )
    app.router.add_get("/", status_page_handler(page, service.clock, service.page_refresh))
    app.router.add_get("/metrics", metrics)
    app.router.add_static("/static", STATIC_DIR, append_version=False)
    app.on_response_prepare.append(_public_static)
    app.on_response_prepare.append(service.front.add_headers)
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
        demo = service.settings.with_easee_urls(sim.base_url, sim.hub_url)
        service.configured = Configured.build(
            demo, service.store, service.registry, service.configured
        )
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


async def _power_sampler(app: web.Application) -> AsyncIterator[None]:
    """Feeds the status page's power history from the store."""
    service = app[SERVICE]
    task = asyncio.create_task(
        sample_forever(
            service.power_history,
            lambda: as_seen(
                service.store.view(), service.clock(), service.settings.easee.charger_offline_after
            ),
            service.clock,
        ),
        name="power-history",
    )
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _heap_freezer(app: web.Application) -> AsyncIterator[None]:
    """Settle the garbage collector (:func:`exporter.heap.settle`) once the first state is in.

    What is alive once every account has replayed the state of every charger it subscribed
    (modules, tables, caches, the first readings) mostly lives as long as the process, so it
    is frozen once; later objects are collected as usual. Readiness is not enough: at
    1,000-3,000 chargers it comes seconds before the replay has finished loading, and what
    arrives after the freeze stays in the collector's sight.
    """
    service = app[SERVICE]

    async def freeze_when_replayed() -> None:
        deadline = service.clock() + FREEZE_AFTER_AT_MOST
        while service.clock() < deadline:
            if service.fleet is not None and service.fleet.state_replayed():
                break
            await asyncio.sleep(FREEZE_POLL)
        _log.debug("start-up heap frozen", objects=heap.settle())

    task = asyncio.create_task(freeze_when_replayed(), name="heap-freezer")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _config_watcher(app: web.Application) -> AsyncIterator[None]:
    """Reload when a configuration file or a certificate changes, as SIGHUP does
    (Kubernetes updates a mounted ConfigMap or Secret in place and sends no signal)."""
    service = app[SERVICE]
    task: asyncio.Task[None] | None = None
    if service.settings.watched_files():
        task = asyncio.create_task(_watch_config(app))
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


def _file_stamps(paths: tuple[Path, ...]) -> dict[Path, tuple[float, int] | None]:
    return {path: _file_stamp(path) for path in paths}


async def _watch_config(app: web.Application) -> None:
    service = app[SERVICE]
    stamps = _file_stamps(service.settings.watched_files())
    while True:
        await asyncio.sleep(service.config_poll_interval)
        # The files to watch follow the configuration: a reload may name other ones.
        current = _file_stamps(service.settings.watched_files())
        changed = [
            path
            for path, stamp in current.items()
            if stamp is not None and stamps.get(path, stamp) != stamp
        ]
        stamps = current
        if changed:
            _log.info("configuration file changed", paths=[str(path) for path in changed])
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
    service.configured = Configured.build(
        result, service.store, service.registry, service.configured
    )
    if setup is not None and (changes.logging_changed or changes.webhooks_changed):
        setup.apply(result.logging, result.secret_values())
    if service.controller is not None:
        service.controller.apply_settings(result)
    service.liveness.max_data_age = result.liveness.max_data_age
    service.metrics.liveness_max_data_age.set(result.liveness.max_data_age)
    service.metrics.set_accounts(a.name for a in result.enabled_accounts)
    service.front.apply(result.web_config)
    if service.fleet is not None:
        await service.fleet.apply(result)
    # Each line is something applied (or, for the listen address, deferred to the restart).
    _log.info("configuration reloaded", changes=changes.describe() or ["nothing changed"])
    return True


async def serve(settings: Settings, setup: LogSetup | None = None) -> int:
    """Serve until asked to stop; returns the process exit code."""
    try:
        app = create_app(settings, log_setup=setup)
    except TLSFileError as error:  # changed since the configuration was checked
        _log.error("cannot serve TLS", problem=f"tls_server_config.{error.key}: {error.message}")
        return 2
    service = app[SERVICE]
    runner = ServiceRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    host, port = split_listen_address(settings.web.listen_address)
    site = web.TCPSite(runner, host, port, ssl_context=service.front.ssl_context)
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
    base = f"{service.front.scheme}://{shown}:{port}"
    _log.info("listening", url=base)
    token, secret = service.settings.demo_token, service.settings.demo_secret
    if token is not None and secret is not None:
        # The demo's generated credentials are meant to be seen: printed, never logged.
        print(
            f"easee-exporter demo is running on a simulated Easee cloud\n"
            f"  status page  {base}/\n"
            f"  metrics      {base}/metrics\n"
            f"  liveness     {base}/healthz\n"
            f"  readiness    {base}/readyz\n"
            f"  chargers     curl -H 'Authorization: Bearer {token.get_secret_value()}' "
            f"{base}/api/v1/chargers\n"
            f"  demo HMAC secret (Standard Webhooks): {secret.get_secret_value()}\n"
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
