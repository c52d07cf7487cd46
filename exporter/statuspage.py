"""``GET /``: the status page, the plugin's widgets grown into a page people want to open.

A header says at a glance how the service is (stream, data age, accounts ready), the power
drawn now and how many chargers are charging; banners name each account problem a person can
act on (a refused login, a rate limit until HH:MM, a stream that is down). Every charger gets a
card: its state picture, state and power first, the session energy, a sparkline of the last
hour (:mod:`exporter.power_history`), phase currents as small bars, signal strength, the
cable-lock picture, and only the buttons that can work: pause or resume only with a car
connected and the charger online and not in error (the reason is shown instead).

English or French (:mod:`exporter.page_text`). The buttons call the controller routes
(``POST /api/v1/chargers/{id}/{action}``) from ``/static/statuspage.js`` with a bearer token
the user types; the token stays in the tab's ``sessionStorage`` and never reaches this page's
HTML, a URL or a cookie. The script re-reads this page every few seconds and swaps the parts
that change; without JavaScript the first render is complete and the page reloads itself.

The handler reads immutable snapshots and does no I/O, like the collector. Every value from
the configuration or the cloud is HTML-escaped, and the Content-Security-Policy allows only
this origin's own scripts, styles and pictures (so nothing is inline: bars and sparklines are
SVG attributes, not styles).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from aiohttp import web

from exporter import __version__
from exporter.easee.enums import CHARGER_COLORS
from exporter.easee.observations import ObservationId
from exporter.easee.situations import ERROR, LOCK_PICTURES, OFFLINE, situation
from exporter.page_health import AccountSource, Notice, Overview, overview
from exporter.page_text import SCRIPT_KEYS, Text, choose_language
from exporter.power_history import PowerHistory, Sample, kilowatts
from exporter.state import ChargerView, StateStore, as_seen

#: Only this origin's files: the page's script and style are static files, not inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
#: How often the script refreshes the values, seconds (the no-script page reloads at 6x).
REFRESH_SECONDS = 10.0
#: Phase bars are full at this current (the largest Easee Home charger takes 32 A).
PHASE_BAR_FULL_AMPERES = 32.0
#: Signal strength in bars: the lowest dBm for each of 4, 3, 2 and 1 bars.
SIGNAL_BARS_DBM = (-55.0, -65.0, -75.0, -85.0)
SPARK_WIDTH, SPARK_HEIGHT = 240, 44

_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<noscript><meta http-equiv="refresh" content="{reload}"></noscript>
<title>{title}</title>
<link rel="icon" type="image/svg+xml" href="/static/icons/state-charging-light.svg">
<link rel="stylesheet" href="/static/statuspage.css?v={version}">
<script src="/static/statuspage.js?v={version}" defer></script>
</head>
<body data-refresh="{refresh}" data-text="{script_text}">
<header class="top">
<h1><img src="/static/icons/state-charging-light.svg" alt="" width="40" height="40">{title}</h1>
<a class="lang" href="?lang={other_lang}" hreflang="{other_lang}" lang="{other_lang}">{switch}</a>
</header>
<section id="overview" class="overview" aria-label="{health_label}">
{overview}
</section>
<div id="notices" class="notices">{notices}</div>
<main id="chargers" class="chargers">
{chargers}
</main>
<footer>
<p>{version_text}</p>
<p class="rules">{rules_text}</p>
<nav aria-label="{nav_label}"><a href="/metrics">{nav_metrics}</a> ·
<a href="/healthz">{nav_liveness}</a> · <a href="/readyz">{nav_readiness}</a> ·
<a href="/api/v1/openapi.json">{nav_api}</a></nav>
<p class="token-state"><button type="button" id="forget-token" data-off="true">{forget}</button></p>
</footer>
<dialog id="token-dialog" aria-labelledby="token-title">
<form method="dialog">
<h2 id="token-title">{token_title}</h2>
<p id="token-help">{token_help}</p>
<p><label for="token-input">{token_field}</label>
<input id="token-input" name="token" type="password" autocomplete="off" spellcheck="false"
aria-describedby="token-help" required></p>
<p class="dialog-buttons"><button type="button" id="token-cancel">{token_cancel}</button>
<button type="submit" value="ok" id="token-ok">{token_send}</button></p>
</form>
</dialog>
</body></html>
"""

_PICTURE = """<picture><source srcset="/static/icons/{kind}-{key}-dark.svg" \
media="(prefers-color-scheme: dark)">\
<img class="{kind}" src="/static/icons/{kind}-{key}-light.svg" alt="{alt}" title="{label}" \
width="{size}" height="{size}" data-picture="{kind}-{key}"></picture>"""

_OVERVIEW = """<div class="tile health" data-health="{health}">
<p class="tile-title"><span class="dot" aria-hidden="true"></span>{health_text}</p>
<dl>
<dt>{stream_label}</dt><dd>{stream}</dd>
<dt>{age_label}</dt><dd>{age}</dd>
<dt>{accounts_label}</dt><dd>{accounts}</dd>
</dl></div>
<div class="tile"><p class="tile-label">{power_label}</p>
<p class="big" id="total-power">{power} <span class="unit">kW</span></p></div>
<div class="tile"><p class="tile-label">{charging_label}</p>
<p class="big" id="charging-count">{charging}</p><p class="tile-note">{charging_text}</p></div>"""

_NOTICE = """<div class="notice" role="alert" data-notice="{kind}" data-account="{account}">\
<p class="notice-title"><span class="notice-mark" aria-hidden="true">!</span>{title}</p>\
<p class="notice-fix">{fix}</p></div>"""

_CHARGER = """<article class="charger" id="charger-{charger_id}" data-charger="{charger_id}" \
data-state="{state_key}" aria-labelledby="name-{charger_id}">
<div class="live">
<h2 id="name-{charger_id}">{name}</h2>
<p class="meta">{meta}</p>
<div class="hero">{state_picture}
<div class="reading">
<p class="state-label">{state_label}{paused}</p>
<p class="power"><span class="power-value">{power}</span> <span class="unit">kW</span></p>
<p class="session">{session}</p>
</div>{lock_picture}</div>
<p class="lock-label">{lock_label}</p>
{sparkline}
<div class="gauges">
{phases}
{signal}
</div>
<p class="age">{age}</p>
<div class="actions">{buttons}</div>
</div>
<p class="outcome" role="status" aria-live="polite"></p>
</article>"""


@dataclass(frozen=True, slots=True)
class PageSources:
    """What the page reads: the store, the power history, the accounts and the liveness."""

    store: StateStore
    history: PowerHistory
    accounts: AccountSource
    #: True while data is fresh enough (the liveness verdict)
    alive: Callable[[], bool]
    #: ``easee.charger_offline_after`` now (a reload may change it)
    offline_after: Callable[[], float]


def _number(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}"


def _clock_time(epoch: float) -> str:
    """``<time>`` in the service's local time; the script shows it in the browser's."""
    iso = datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
    return f'<time datetime="{iso}">{time.strftime("%H:%M", time.localtime(epoch))}</time>'


def _age(text: Text, seconds: float | None) -> str:
    if seconds is None:
        return text("health.age.never")
    if seconds < 120:
        return text("health.age.seconds", seconds=f"{seconds:.0f}")
    return text("health.age.minutes", minutes=f"{seconds / 60:.0f}")


def _overview_html(text: Text, figures: Overview) -> str:
    return _OVERVIEW.format(
        health=figures.health.value,
        health_text=escape(text(f"health.{figures.health.value}")),
        stream_label=escape(text("health.stream")),
        stream=escape(
            text(
                "health.stream.value",
                connected=figures.streams_connected,
                total=figures.accounts,
            )
        ),
        age_label=escape(text("health.age")),
        age=escape(_age(text, figures.data_age)),
        accounts_label=escape(text("health.accounts")),
        accounts=escape(
            text("health.accounts.value", ready=figures.accounts_ready, total=figures.accounts)
        ),
        power_label=escape(text("summary.power")),
        power=_number(figures.total_kilowatts, 2),
        charging_label=escape(text("summary.charging")),
        charging=figures.charging,
        charging_text=escape(
            text("summary.charging.value", charging=figures.charging, total=figures.chargers)
        ),
    )


def _notice_html(text: Text, notice: Notice) -> str:
    until = _clock_time(notice.until) if notice.until is not None else "–"
    key = f"notice.{notice.kind.value}"
    # The time is markup: escape the message around it, not the <time> element.
    fix = escape(text(f"{key}.fix", time="\0")).replace("\0", until)
    return _NOTICE.format(
        kind=notice.kind.value,
        account=escape(notice.account),
        title=escape(text(key, account=notice.account)),
        fix=fix,
    )


def _sparkline(text: Text, samples: Sequence[Sample], history: PowerHistory, now: float) -> str:
    minutes = f"{history.window / 60:.0f}"
    caption = escape(text("charger.history", minutes=minutes))
    if len(samples) < 2:
        return (
            f'<figure class="sparkline"><figcaption>{caption}</figcaption>'
            f'<p class="spark-empty">{escape(text("charger.history.empty"))}</p></figure>'
        )
    low = min(s.kilowatts for s in samples)
    high = max(s.kilowatts for s in samples)
    top = max(high, 1.0)  # an idle charger's line stays at the bottom, not mid-height
    start = now - history.window
    points = " ".join(
        f"{max(0.0, (s.at - start) / history.window) * SPARK_WIDTH:.1f},"
        f"{SPARK_HEIGHT - 2 - (s.kilowatts / top) * (SPARK_HEIGHT - 4):.1f}"
        for s in samples
    )
    label = escape(
        text("charger.history.range", minutes=minutes, low=_number(low, 2), high=_number(high, 2))
    )
    return (
        f'<figure class="sparkline"><figcaption>{caption}</figcaption>'
        f'<svg viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" preserveAspectRatio="none" '
        f'role="img" aria-label="{label}"><title>{label}</title>'
        f'<polyline class="spark-line" points="{points}"/></svg></figure>'
    )


def _phases(text: Text, view: ChargerView) -> str:
    currents = view.phases.currents
    rows = []
    for reading in currents:
        amperes = max(0.0, reading.value)
        width = min(1.0, amperes / PHASE_BAR_FULL_AMPERES) * 100
        label = escape(text("charger.phase", phase=reading.phase, amperes=_number(amperes)))
        rows.append(
            f'<li><span class="phase-name">{escape(reading.phase)}</span>'
            f'<svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">'
            f'<rect class="bar-track" width="100" height="8" rx="2"/>'
            f'<rect class="bar-fill" width="{width:.1f}" height="8" rx="2"/></svg>'
            f'<span class="phase-value" aria-label="{label}">{_number(amperes)} A</span></li>'
        )
    title = escape(text("charger.phases"))
    return f'<div class="phases"><p class="gauge-title">{title}</p><ul>{"".join(rows)}</ul></div>'


def _signal(text: Text, view: ChargerView) -> str:
    # As the plugin: the link in use reports a level, the other one 0.
    reading = None
    for obs_id, key in ((ObservationId.WIFI_RSSI, "wifi"), (ObservationId.CELL_RSSI, "cell")):
        value = view.value(obs_id)
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            reading = (float(value), key)
            break
    title = escape(text("charger.signal"))
    if reading is None:
        described, bars = text("charger.signal.unknown"), 0
    else:
        dbm, key = reading
        bars = sum(1 for floor in SIGNAL_BARS_DBM if dbm >= floor)
        described = text(f"charger.signal.{key}", dbm=f"{dbm:.0f}")
    rects = "".join(
        f'<rect class="{"on" if n < bars else "off"}" x="{n * 5}" y="{12 - 3 * (n + 1)}" '
        f'width="3.5" height="{3 * (n + 1)}"/>'
        for n in range(4)
    )
    bars_text = escape(text("charger.signal.bars", bars=bars))
    return (
        f'<div class="signal"><p class="gauge-title">{title}</p><p>'
        f'<svg class="signal-bars" viewBox="0 0 20 12" role="img" aria-label="{bars_text}">'
        f"{rects}</svg> {escape(described)}</p></div>"
    )


def _why_no_pause(view: ChargerView) -> str | None:
    """The catalogue key saying why pause and resume cannot work now; None when they can."""
    derived = view.derived
    state = situation(derived.op_mode, online=derived.online)
    if state is OFFLINE:
        return "why.offline"
    if state is ERROR:
        return "why.error"
    if derived.vehicle_connected is None:
        return "why.unknown"
    if not derived.vehicle_connected:
        return "why.no_car"
    return None


def _button(text: Text, action: str, name: str, why: str | None = None) -> str:
    label = escape(text(f"button.{action}.label", name=name))
    if why is None:
        return (
            f'<button type="button" data-action="{action}" aria-label="{label}">'
            f"{escape(text(f'button.{action}'))}</button>"
        )
    return (
        f'<button type="button" data-action="{action}" aria-label="{label}" '
        f'aria-disabled="true" title="{escape(text(why))}">'
        f"{escape(text(f'button.{action}'))}</button>"
    )


def _buttons(text: Text, view: ChargerView, name: str) -> str:
    derived = view.derived
    why = _why_no_pause(view)
    lock_code = derived.cable_lock_state or 0
    # The permanent lock (bit 1 of the lock state) decides between lock and unlock, as the
    # plugin's one toggle did; it needs the charger online.
    lock_why = "why.offline" if derived.online is False else None
    lock = _button(text, "unlock" if lock_code >= 2 else "lock", name, lock_why)
    if why is not None:
        # No pause or resume that cannot work: the reason stands in their place.
        return f'<p class="why" data-why="{why}">{escape(text(why))}</p>{lock}'
    # The plugin's widget shows one toggle: "continue" while paused, else "pause".
    return _button(text, "resume" if derived.paused else "pause", name) + lock


def _meta(text: Text, view: ChargerView) -> str:
    meta = view.meta
    parts = [escape(text("charger.serial", serial=meta.charger_id))]
    if meta.account:
        parts.append(escape(text("charger.account", account=meta.account)))
    colour = CHARGER_COLORS.get(meta.color)
    if colour is not None:
        parts.append(
            f'<span class="colour"><span class="swatch" data-colour="{colour.label}" '
            f'aria-hidden="true"></span>{escape(text(f"colour.{colour.label}"))}</span>'
        )
    return " · ".join(parts)


def _charger_html(text: Text, view: ChargerView, history: PowerHistory, now: float) -> str:
    derived = view.derived
    state = situation(derived.op_mode, online=derived.online)
    lock_key, _ = LOCK_PICTURES.get(derived.cable_lock_state or 0, LOCK_PICTURES[0])
    state_label = text(f"state.{state.key}")
    lock_label = text(f"lock.{lock_key}")
    power = kilowatts(view)
    session = view.value(ObservationId.SESSION_ENERGY)
    name = view.meta.name or view.meta.charger_id
    last = view.last_received_at
    return _CHARGER.format(
        charger_id=escape(view.meta.charger_id),
        state_key=state.key,
        name=escape(name),
        meta=_meta(text, view),
        state_picture=_PICTURE.format(
            kind="state",
            key=state.key,
            alt=escape(text("state.picture", label=state_label)),
            label=escape(state_label),
            size=120,
        ),
        lock_picture=_PICTURE.format(
            kind="lock",
            key=lock_key,
            alt=escape(text("lock.picture", label=lock_label)),
            label=escape(lock_label),
            size=56,
        ),
        state_label=escape(state_label),
        paused=f' <span class="paused">({escape(text("state.paused"))})</span>'
        if derived.paused
        else "",
        power=escape(text("charger.power.unknown")) if power is None else _number(power, 2),
        session=escape(text("charger.session", energy=_number(float(session), 2)))
        if isinstance(session, int | float) and not isinstance(session, bool)
        else "",
        lock_label=escape(lock_label),
        sparkline=_sparkline(text, history.of(view.meta.charger_id), history, now),
        phases=_phases(text, view),
        signal=_signal(text, view),
        age=escape(
            text("charger.age", age=_age(text, None if last is None else max(0.0, now - last)))
        ),
        buttons=_buttons(text, view, name),
    )


def render_page(
    sources: PageSources, now: float, text: Text, refresh: float = REFRESH_SECONDS
) -> str:
    """The whole page for the current state, in ``text``'s language."""
    view = as_seen(sources.store.view(), now, sources.offline_after())
    figures = overview(view, sources.accounts(), now=now, alive=sources.alive())
    chargers = sorted(view.chargers.values(), key=lambda c: (c.meta.name, c.meta.charger_id))
    empty_key = "empty.problem" if figures.notices else "empty"
    script_text = json.dumps({key: text(key) for key in SCRIPT_KEYS}, ensure_ascii=False)
    return _PAGE.format(
        lang=text.lang,
        other_lang="en" if text.lang == "fr" else "fr",
        switch=escape(text("lang.switch")),
        title=escape(text("title")),
        version=escape(__version__),
        version_text=escape(text("version", version=__version__)),
        rules_text=escape(text("rules", minutes=round(sources.offline_after() / 60))),
        refresh=f"{refresh:g}",
        reload=f"{refresh * 6:.0f}",
        script_text=escape(script_text),
        health_label=escape(text("health.label")),
        overview=_overview_html(text, figures),
        notices="".join(_notice_html(text, n) for n in figures.notices),
        chargers="\n".join(_charger_html(text, c, sources.history, now) for c in chargers)
        or f'<p class="empty">{escape(text(empty_key))}</p>',
        nav_label=escape(text("nav.label")),
        nav_metrics=escape(text("nav.metrics")),
        nav_liveness=escape(text("nav.liveness")),
        nav_readiness=escape(text("nav.readiness")),
        nav_api=escape(text("nav.api")),
        forget=escape(text("token.forget")),
        token_title=escape(text("token.title")),
        token_help=escape(text("token.help")),
        token_field=escape(text("token.field")),
        token_cancel=escape(text("token.cancel")),
        token_send=escape(text("token.send")),
    )


def status_page_handler(
    sources: PageSources,
    clock: Callable[[], float] = time.time,
    refresh: float = REFRESH_SECONDS,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET /``: the status page of every charger, in the visitor's language."""

    async def handle(request: web.Request) -> web.Response:
        lang = choose_language(request.query.get("lang"), request.headers.get("Accept-Language"))
        page = render_page(sources, clock(), Text(lang), refresh)
        response = web.Response(text=page, content_type="text/html")
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Language"] = lang
        response.headers["Vary"] = "Accept-Language"
        # The script re-reads this page for fresh values: a cached copy would show old state.
        response.headers["Cache-Control"] = "no-store"
        return response

    return handle
