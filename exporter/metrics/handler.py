"""``GET /metrics``: the charger collector and the service's own registry, off the event loop.

Negotiation is prometheus_client's own (:func:`prometheus_client.exposition.choose_encoder`
and :func:`~prometheus_client.exposition.gzip_accepted`): the Prometheus text format by
default, OpenMetrics when the ``Accept`` header asks for it, gzip when ``Accept-Encoding``
allows it, and the ``name[]`` query filter.

Why not ``prometheus_client.aiohttp.make_aiohttp_handler``: it renders synchronously on the
event loop with ``generate_latest``. Measured with ``python bench/scrape.py`` (2 cores,
1,000 chargers with full observation sets, 182,000 series, 12.6 MiB of text): 1.1-3.2 s per
text scrape and 2.2-4.5 s in OpenMetrics (what Prometheus asks for), the event loop frozen
all along (stream, webhooks and health checks stall for seconds). This handler takes the
store's view on the loop (constant time: the store is copy on write and the view freezes its
current state), then builds the chargers' snapshots and renders them in a worker thread
(``run_in_executor``) with the charger collector's cached renderer
(:mod:`exporter.metrics.render`, byte for byte the output of ``generate_latest``), followed by
``generate_latest`` over the service's own registry (a few hundred series: its counters,
process and platform metrics). ``bench/scrape.py`` gives the figures against
``generate_latest`` on the same data (from scratch, every charger changed between two
scrapes, nothing changed) and the event loop's longest stall; that stall was the garbage
collector's full collection over the store's ~180,000 Observation objects (60-200 ms) until
the service froze the heap once the initial state is in (``exporter.app``). The young
collection a render's allocations set off (13-15 ms at 1,000 chargers) is held off until the
answer is out (:class:`exporter.heap.CollectionHold`).

Scrapes are serialised (one render at a time, as the renderer's caches require); a second
scrape arriving meanwhile waits and is then cheap, since little has changed. The rare
``escaping=dots`` / ``escaping=values`` requests, where prometheus_client rewrites even
valid names, go through prometheus_client's encoders over the same families, in the thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Collection, Iterator

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder, gzip_accepted
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from exporter import heap
from exporter.metrics.collector import ChargerCollector
from exporter.metrics.deflate import Piece, gzip_parts, plain_parts
from exporter.state import StoreView

OPENMETRICS = "application/openmetrics-text"
#: Seconds a scrape holds garbage collections off at the most (render and answer: some
#: 100 ms at 1,000 chargers on a LAN).
COLLECTIONS_HELD_AT_MOST = 2.0
#: Escapings under which prometheus_client leaves valid names untouched in both formats.
_PLAIN_ESCAPINGS = frozenset({"underscores", "allow-utf-8"})

Encoder = Callable[[Collector], bytes]


class MetricsEndpoint:
    """Renders ``/metrics`` for one charger collector and one registry of other metrics.

    ``registry`` holds everything but the chargers (the service's own metrics, the process
    and platform collectors); do not register ``chargers`` on it as well.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        chargers: ChargerCollector,
        *,
        disable_compression: bool = False,
    ) -> None:
        self._registry = registry
        self._chargers = chargers
        self._disable_compression = disable_compression
        # One render at a time, as the renderer's caches require. The asyncio lock keeps
        # waiting scrapes off the executor; the thread lock holds even when a scrape is
        # cancelled while its thread still renders (the asyncio lock is released then).
        self._lock = asyncio.Lock()
        self._render_lock = threading.Lock()
        self._collections = heap.CollectionHold(longest=COLLECTIONS_HELD_AT_MOST)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        accept = ",".join(request.headers.getall(hdrs.ACCEPT, []))
        encoder, content_type = choose_encoder(accept)
        names = request.query.getall("name[]", None)
        compress = not self._disable_compression and gzip_accepted(
            ",".join(request.headers.getall(hdrs.ACCEPT_ENCODING, []))
        )
        loop = asyncio.get_running_loop()
        # The garbage collection a render's allocations set off runs after the answer
        # (exporter.heap.CollectionHold), not while the scraper waits.
        release = self._collections.hold()
        try:
            async with self._lock:
                view = self._chargers.snapshot()
                parts = await loop.run_in_executor(
                    None, self.render, view, encoder, content_type, names, compress
                )
            headers = {hdrs.CONTENT_TYPE: content_type, hdrs.VARY: "Accept, Accept-Encoding"}
            if compress:
                headers[hdrs.CONTENT_ENCODING] = "gzip"
            # Written part by part: the cached pieces go out as they are, without joining a
            # 13 MB body (1,000 chargers, uncompressed) into one more copy.
            response = web.StreamResponse(headers=headers)
            response.content_length = sum(len(part) for part in parts)
            await response.prepare(request)
            if request.method != hdrs.METH_HEAD:
                for part in parts:
                    await response.write(part)
            await response.write_eof()
        finally:
            release()
        return response

    def render(
        self,
        view: StoreView,
        encoder: Encoder,
        content_type: str,
        names: Collection[str] | None,
        compress: bool,
    ) -> list[bytes]:
        """The response body in parts (blocking: runs in a worker thread)."""
        with self._render_lock:
            return self._render(view, encoder, content_type, names, compress)

    def _render(
        self,
        view: StoreView,
        encoder: Encoder,
        content_type: str,
        names: Collection[str] | None,
        compress: bool,
    ) -> list[bytes]:
        wanted = None if names is None else frozenset(names)
        if _escaping(content_type) in _PLAIN_ESCAPINGS:
            pieces = self._chargers.render(
                view, openmetrics=content_type.startswith(OPENMETRICS), names=wanted
            )
            others = (
                self._registry if wanted is None else self._registry.restricted_registry(wanted)
            )
            pieces.append(Piece(encoder(others)))
        else:
            pieces = [Piece(encoder(_Everything(self._chargers, view, self._registry, wanted)))]
        return gzip_parts(pieces) if compress else plain_parts(pieces)


def make_metrics_handler(
    registry: CollectorRegistry,
    chargers: ChargerCollector,
    *,
    disable_compression: bool = False,
) -> Handler:
    """The ``GET /metrics`` handler: ``app.router.add_get("/metrics", handler)``."""
    return MetricsEndpoint(registry, chargers, disable_compression=disable_compression).handle


def _escaping(content_type: str) -> str:
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.strip().partition("=")
        if key == "escaping":
            return value
    return "underscores"


class _Everything:
    """The chargers' families then the registry's, as one collector (slow path)."""

    def __init__(
        self,
        chargers: ChargerCollector,
        view: StoreView,
        registry: CollectorRegistry,
        names: frozenset[str] | None,
    ) -> None:
        self._chargers = chargers
        self._view = view
        self._registry = registry
        self._names = names

    def collect(self) -> Iterator[Metric]:
        yield from _restricted(self._chargers.families(self._view), self._names)
        if self._names is None:
            yield from self._registry.collect()
        else:
            yield from self._registry.restricted_registry(self._names).collect()


def _restricted(metrics: list[Metric], names: frozenset[str] | None) -> Iterator[Metric]:
    """As ``CollectorRegistry.restricted_registry`` does to each family."""
    for metric in metrics:
        if names is None:
            yield metric
            continue
        samples = [sample for sample in metric.samples if sample.name in names]
        if samples:
            kept = Metric(metric.name, metric.documentation, metric.type)
            kept.samples = samples
            yield kept
