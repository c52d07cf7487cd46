"""``GET /``: the status page, the Prometheus landing page grown into the plugin's widgets.

Every charger gets a card with its state picture and cable-lock picture (the same drawings
as the dashboards, light or dark following ``prefers-color-scheme``), its readings, and the
plugin's toggle buttons: pause or resume (the one that applies, as in the plugin's widget)
and permanent cable lock on or off. The buttons call the controller routes
(``POST /api/v1/chargers/{id}/{action}``) from ``/static/statuspage.js`` with a bearer token
the user types; the token stays in the tab's ``sessionStorage`` and never reaches this page's
HTML, a URL or a cookie. Without JavaScript the page still shows everything and refreshes
itself.

The handler reads the store's immutable view and does no I/O, like the collector. Every
value from the configuration or the cloud is HTML-escaped, and the Content-Security-Policy
allows only this origin's own scripts, styles and pictures (so nothing is inline).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape

from aiohttp import web

from exporter import __version__
from exporter.easee.enums import CHARGER_COLORS
from exporter.easee.observations import ObservationId
from exporter.easee.situations import LOCK_PICTURES, situation
from exporter.state import ChargerView, StateStore

#: Only this origin's files: the page's script and style are static files, not inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
#: How often the page refreshes its cards (and the no-script fallback reloads), seconds.
REFRESH_SECONDS = 30

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<noscript><meta http-equiv="refresh" content="{refresh}"></noscript>
<title>easee-exporter</title>
<link rel="icon" type="image/svg+xml" href="/static/icons/state-charging-light.svg">
<link rel="stylesheet" href="/static/statuspage.css?v={version}">
<script src="/static/statuspage.js?v={version}" defer></script>
</head>
<body data-refresh="{refresh}">
<header>
<h1>easee-exporter</h1>
<p>Version {version}. <span id="summary">{summary}</span></p>
<nav aria-label="Service endpoints"><a href="/metrics">Metrics</a> ·
<a href="/healthz">Liveness</a> · <a href="/readyz">Readiness</a> ·
<a href="/api/v1/openapi.json">Controller API</a></nav>
<p class="token-state"><button type="button" id="forget-token" hidden>Forget the token</button></p>
</header>
<main id="chargers" class="chargers">
{chargers}
</main>
<dialog id="token-dialog" aria-labelledby="token-title">
<form method="dialog">
<h2 id="token-title">Controller token</h2>
<p id="token-help">The buttons need a webhook token allowed that action. It stays in this
browser tab only and is sent to this service alone.</p>
<p><label for="token-input">Token</label>
<input id="token-input" name="token" type="password" autocomplete="off" spellcheck="false"
aria-describedby="token-help" required></p>
<p class="dialog-buttons"><button type="button" id="token-cancel">Cancel</button>
<button type="submit" value="ok" id="token-ok">Send</button></p>
</form>
</dialog>
</body></html>
"""

_PICTURE = """<picture><source srcset="/static/icons/{kind}-{key}-dark.svg" \
media="(prefers-color-scheme: dark)">\
<img class="{kind}" src="/static/icons/{kind}-{key}-light.svg" alt="{alt}" title="{label}" \
width="{size}" height="{size}" data-picture="{kind}-{key}"></picture>"""

_CHARGER = """<article class="charger" id="charger-{charger_id}" data-charger="{charger_id}" \
aria-labelledby="name-{charger_id}">
<div class="live">
<h2 id="name-{charger_id}">{name}</h2>
<div class="pictures">{state_picture}{lock_picture}</div>
<dl>
<dt>Serial</dt><dd>{charger_id}</dd>
<dt>Account</dt><dd>{account}</dd>
{colour}<dt>State</dt><dd class="state-label">{state_label}{paused}</dd>
<dt>Cable</dt><dd class="lock-label">{lock_label}</dd>
<dt>Power</dt><dd>{power}</dd>
<dt>Last data</dt><dd>{age}</dd>
</dl>
<div class="actions">
<button type="button" data-action="{pause_action}" aria-label="{pause_label} on {name}">\
{pause_text}</button>
<button type="button" data-action="{lock_action}" aria-label="{lock_label_button} on {name}">\
{lock_text}</button>
</div>
</div>
<p class="outcome" role="status" aria-live="polite"></p>
</article>"""


@dataclass(frozen=True, slots=True)
class _Button:
    action: str
    text: str
    #: what a screen reader says, with the charger's name appended
    label: str


_BUTTONS = {
    b.action: b
    for b in (
        _Button("pause", "Pause", "Pause charging"),
        _Button("resume", "Resume", "Resume charging"),
        _Button("lock", "Lock cable", "Lock cable permanently"),
        _Button("unlock", "Unlock cable", "Unlock cable, permanent lock off"),
    )
}


def _colour_html(code: int | None) -> str:
    """The charger's colour (the plugin's card picture choice) as a swatch and its name."""
    entry = CHARGER_COLORS.get(code)
    if entry is None:
        return ""
    return (
        f'<dt>Colour</dt><dd class="colour"><span class="swatch" data-colour="{entry.label}" '
        f'aria-hidden="true"></span>{escape(entry.description)}</dd>\n'
    )


def _charger_html(view: ChargerView, now: float) -> str:
    derived = view.derived
    state = situation(derived.op_mode, online=derived.online)
    lock_code = derived.cable_lock_state or 0
    lock_key, lock_label = LOCK_PICTURES.get(lock_code, LOCK_PICTURES[0])
    power = view.value(ObservationId.TOTAL_POWER)
    shown_power = f"{float(power):.2f} kW" if isinstance(power, int | float) else "unknown"
    last = view.last_received_at
    age = "never" if last is None else f"{max(0.0, now - last):.0f} s ago"
    name = escape(view.meta.name or view.meta.charger_id)
    # The plugin's widgets show one toggle each: "continue" while paused, else "pause"; the
    # permanent lock (bit 1 of the lock state) decides between "lock" and "unlock".
    pause = _BUTTONS["resume" if derived.paused else "pause"]
    lock = _BUTTONS["unlock" if lock_code >= 2 else "lock"]
    return _CHARGER.format(
        charger_id=escape(view.meta.charger_id),
        name=name,
        account=escape(view.meta.account),
        colour=_colour_html(view.meta.color),
        state_picture=_PICTURE.format(
            kind="state",
            key=state.key,
            alt=escape(f"State: {state.label}"),
            label=escape(state.label),
            size=96,
        ),
        lock_picture=_PICTURE.format(
            kind="lock",
            key=lock_key,
            alt=escape(f"Cable: {lock_label}"),
            label=escape(lock_label),
            size=64,
        ),
        state_label=escape(state.label),
        paused=" (paused)" if derived.paused else "",
        lock_label=escape(lock_label),
        power=shown_power,
        age=age,
        pause_action=pause.action,
        pause_text=pause.text,
        pause_label=pause.label,
        lock_action=lock.action,
        lock_text=lock.text,
        lock_label_button=lock.label,
    )


def render_page(store: StateStore, now: float) -> str:
    """The whole page for the store's current view."""
    view = store.view()
    chargers = sorted(view.chargers.values(), key=lambda c: (c.meta.name, c.meta.charger_id))
    count = len(chargers)
    return _PAGE.format(
        version=escape(__version__),
        refresh=REFRESH_SECONDS,
        summary=f"{count} charger{'s' if count != 1 else ''}.",
        chargers="\n".join(_charger_html(c, now) for c in chargers)
        or '<p class="empty">No charger known yet.</p>',
    )


def status_page_handler(
    store: StateStore, clock: Callable[[], float] = time.time
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET /``: the status page of every charger in the store."""

    async def handle(_request: web.Request) -> web.Response:
        response = web.Response(text=render_page(store, clock()), content_type="text/html")
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        # The script re-reads this page for fresh cards: a cached copy would show old state.
        response.headers["Cache-Control"] = "no-store"
        return response

    return handle
