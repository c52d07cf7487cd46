"""``GET /``: a small status page, the Prometheus rulebook's landing page grown a little.

Every charger with its state picture (the plugin's widget, as an image), cable-lock picture,
power and freshness, plus links to the service's endpoints. It reads the store's immutable
view and does no I/O, like the collector.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from html import escape

from aiohttp import web

from exporter import __version__
from exporter.easee.observations import ObservationId
from exporter.easee.situations import LOCK_PICTURES, situation
from exporter.state import ChargerView, StateStore

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>easee-exporter</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1d2330; }}
.chargers {{ display: flex; flex-wrap: wrap; gap: 1rem; }}
.charger {{ border: 1px solid #d6dae3; border-radius: 8px; padding: 1rem; width: 15rem; }}
.charger h2 {{ font-size: 1.1rem; margin: 0 0 .5rem; }}
.pictures img {{ width: 6rem; height: 6rem; }}
.pictures img.lock {{ width: 3rem; height: 3rem; }}
dl {{ display: grid; grid-template-columns: auto 1fr; gap: .2rem .8rem; margin: .5rem 0 0; }}
dt {{ color: #5b6475; }}
</style></head>
<body>
<h1>easee-exporter</h1>
<p>Version {version}. {summary}</p>
<p><a href="/metrics">Metrics</a> · <a href="/healthz">Liveness</a> ·
<a href="/readyz">Readiness</a> · <a href="/api/v1/openapi.json">Controller API</a></p>
<div class="chargers">
{chargers}
</div>
</body></html>
"""

_CHARGER = """<section class="charger" id="{charger_id}">
<h2>{name}</h2>
<div class="pictures">
<img src="/static/icons/state-{state_key}-light.svg" alt="{state_label}" title="{state_label}">
<img class="lock" src="/static/icons/lock-{lock_key}-light.svg" alt="{lock_label}" \
title="{lock_label}">
</div>
<dl>
<dt>Serial</dt><dd>{charger_id}</dd>
<dt>Account</dt><dd>{account}</dd>
<dt>State</dt><dd>{state_label}{paused}</dd>
<dt>Cable</dt><dd>{lock_label}</dd>
<dt>Power</dt><dd>{power}</dd>
<dt>Last data</dt><dd>{age}</dd>
</dl>
</section>"""


def _charger_html(view: ChargerView, now: float) -> str:
    derived = view.derived
    state = situation(derived.op_mode, online=derived.online)
    lock_key, lock_label = LOCK_PICTURES.get(derived.cable_lock_state or 0, LOCK_PICTURES[0])
    power = view.value(ObservationId.TOTAL_POWER)
    shown_power = f"{float(power):.2f} kW" if isinstance(power, int | float) else "unknown"
    last = view.last_received_at
    age = "never" if last is None else f"{max(0.0, now - last):.0f} s ago"
    return _CHARGER.format(
        charger_id=escape(view.meta.charger_id),
        name=escape(view.meta.name or view.meta.charger_id),
        account=escape(view.meta.account),
        state_key=state.key,
        state_label=escape(state.label),
        paused=" (paused)" if derived.paused else "",
        lock_key=lock_key,
        lock_label=escape(lock_label),
        power=shown_power,
        age=age,
    )


def status_page_handler(
    store: StateStore, clock: Callable[[], float] = time.time
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET /``: the status page of every charger in the store."""

    async def handle(_request: web.Request) -> web.Response:
        view = store.view()
        now = clock()
        chargers = sorted(view.chargers.values(), key=lambda c: (c.meta.name, c.meta.charger_id))
        count = len(chargers)
        summary = f"{count} charger{'s' if count != 1 else ''}."
        body = _PAGE.format(
            version=escape(__version__),
            summary=summary,
            chargers="\n".join(_charger_html(c, now) for c in chargers)
            or "<p>No charger known yet.</p>",
        )
        return web.Response(text=body, content_type="text/html")

    return handle
