"""The status page in headless Chromium, against the service and the simulated cloud.

The browser loads ``GET /`` from the service on 127.0.0.1, which reads chargers that the
simulated cloud put into known states; the tests look at what a person would see: the
cards, the pictures in a screenshot, the buttons and what they say.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from PIL import Image, ImageChops, ImageStat

from exporter.app import SERVICE, STATIC_DIR, create_app
from exporter.config import CommandLine, load_settings
from exporter.easee.account import AccountIssue
from exporter.easee.situations import LOCK_PICTURES, situation
from exporter.page_text import CATALOGUE
from tests.statuspage.browser import Browser, Page
from tests.statuspage.conftest import (
    BUTTON_CHARGER,
    HOSTILE_NAME,
    PICTURE_COUNT,
    TOKEN,
    Running,
    eventually,
    serve,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

OFFLINE = "offline"
#: Per picture charger (EH000001..): the op mode it is put in (or offline) and its lock state.
#: Together they cover the eight state pictures and, twice, the four lock pictures.
PICTURE_STATES: tuple[tuple[int | str, int], ...] = (
    (OFFLINE, 0),
    (1, 1),
    (2, 2),
    (3, 3),
    (4, 0),
    (5, 1),
    (6, 2),
    (7, 3),
)
STATE_KEYS = {
    "offline",
    "disconnected",
    "waiting",
    "charging",
    "completed",
    "error",
    "ready",
    "awaiting-authorization",
}
LOCK_KEYS = {key for key, _ in LOCK_PICTURES.values()}
ICON_DIR = STATIC_DIR / "icons"
OP_MODE = 109
CABLE_LOCKED = 103
PERMANENTLY_LOCKED = 30
TOTAL_POWER = 120


def picture_serial(index: int) -> str:
    return f"EH{index + 1:06d}"


def expected_pictures() -> dict[str, tuple[str, str]]:
    """serial -> (state picture key, lock picture key)."""
    expected = {}
    for index, (mode, lock) in enumerate(PICTURE_STATES):
        state = situation(None if mode == OFFLINE else int(mode), online=mode != OFFLINE)
        expected[picture_serial(index)] = (state.key, LOCK_PICTURES[lock][0])
    return expected


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pictured(running: Running) -> Running:
    """The picture chargers put into their states, once the service has seen them."""
    assert len(PICTURE_STATES) == PICTURE_COUNT
    sim = running.sim
    for index, (mode, lock) in enumerate(PICTURE_STATES):
        serial = picture_serial(index)
        sim.set_observation(serial, CABLE_LOCKED, bool(lock & 1))
        sim.set_observation(serial, PERMANENTLY_LOCKED, bool(lock & 2))
        if mode == OFFLINE:
            sim.set_online(serial, False)
        else:
            sim.set_observation(serial, OP_MODE, mode)

    def seen() -> bool:
        chargers = running.service.store.view().chargers
        for serial, (state_key, lock_key) in expected_pictures().items():
            derived = chargers[serial].derived
            if situation(derived.op_mode, online=derived.online).key != state_key:
                return False
            if LOCK_PICTURES[derived.cable_lock_state or 0][0] != lock_key:
                return False
        return True

    await eventually(seen)
    return running


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh tab (fresh sessionStorage); it must end with no script error or CSP report."""
    opened = await browser.new_page()
    await opened.set_viewport(1280, 2400)
    try:
        yield opened
        assert opened.problems == []
    finally:
        await opened.close()


async def load(page: Page, url: str, query: str = "") -> None:
    await page.goto(f"{url}/{query}")
    await page.wait_for("document.body.dataset.ready === 'true'")
    await page.wait_for("[...document.images].every(i => i.complete)")


async def test_the_page_lists_every_charger_of_the_account(page: Page, running: Running) -> None:
    await load(page, running.url)
    cards = await page.evaluate(
        """[...document.querySelectorAll('article.charger')].map(c => ({
            id: c.dataset.charger,
            name: c.querySelector('h2').textContent,
            alts: [...c.querySelectorAll('img')].map(i => i.alt),
            buttons: [...c.querySelectorAll('button')].map(b => b.getAttribute('aria-label')),
        }))"""
    )
    assert sorted(c["id"] for c in cards) == sorted(running.sim.serials("demo"))
    assert await page.evaluate("document.getElementById('charging-count').textContent") == "1"
    assert await page.evaluate("document.querySelector('#overview .tile-note').textContent") == (
        f"1 of {len(cards)} chargers"
    )
    for card in cards:
        assert all(alt.startswith(("State: ", "Cable: ")) for alt in card["alts"]), card
        assert len(card["alts"]) == 2
        assert 1 <= len(card["buttons"]) <= 2
        assert all(label.endswith(f" on {card['name']}") for label in card["buttons"]), card
    garage = next(c for c in cards if c["id"] == "EH000100")
    assert garage["name"] == "Garage"
    colour = await page.evaluate("document.querySelector('#charger-EH000100 .colour').textContent")
    assert colour == "Black"


async def test_names_from_the_cloud_are_shown_as_text(page: Page, running: Running) -> None:
    await load(page, running.url)
    assert await page.evaluate("document.getElementById('name-EH000099').textContent") == (
        HOSTILE_NAME
    )
    assert await page.evaluate("document.getElementById('injected')") is None


async def test_the_page_allows_only_its_own_origin(running: Running) -> None:
    async with aiohttp.ClientSession() as session, session.get(running.url + "/") as answer:
        policy = answer.headers["Content-Security-Policy"]
        body = await answer.text()
    assert "default-src 'self'" in policy
    assert "<script>" not in body
    assert "<style>" not in body
    assert " on" + "click=" not in body
    assert TOKEN not in body


def svg_colours(path: Path) -> set[tuple[int, int, int]]:
    found = re.findall(r'(?:fill|stroke)="#([0-9a-fA-F]{6})"', path.read_text())
    return {(int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)) for c in found}


def signature_colours(name: str) -> set[tuple[int, int, int]]:
    """The colours only this picture has among its kind and theme (each state picture's
    badge colour; the lock pictures share theirs and have none)."""
    kind, theme = name.split("-", 1)[0], name.removesuffix(".svg").rsplit("-", 1)[1]
    own = svg_colours(ICON_DIR / name)
    for other in ICON_DIR.glob(f"{kind}-*-{theme}.svg"):
        if other.name != name:
            own -= svg_colours(other)
    return own


def colour_share(crop: Image.Image, colour: tuple[int, int, int]) -> float:
    """The share of the crop's pixels within a small distance of ``colour``."""
    data = crop.convert("RGB").tobytes()
    pixels = [tuple(data[i : i + 3]) for i in range(0, len(data), 3)]
    near = sum(1 for p in pixels if sum(abs(a - b) for a, b in zip(p, colour, strict=True)) < 24)
    return near / len(pixels)


def blank(crop: Image.Image) -> bool:
    """Nearly one colour: nothing was drawn there."""
    return max(ImageStat.Stat(crop).stddev) < 8


def distance(a: Image.Image, b: Image.Image) -> float:
    """Mean per-channel difference of two pictures, compared at 32 x 32 (0-255)."""
    small_a = a.resize((32, 32), Image.Resampling.BOX)
    small_b = b.resize((32, 32), Image.Resampling.BOX)
    return sum(ImageStat.Stat(ImageChops.difference(small_a, small_b)).mean) / 3


async def reference(page: Page, url: str, name: str, background: list[int]) -> Image.Image:
    """The picture file rendered alone by the same browser, at its natural 120 px, on the
    card's background (the pictures' rounded corners let it through)."""
    red, green, blue = background
    await page.send(
        "Emulation.setDefaultBackgroundColorOverride",
        color={"r": red, "g": green, "b": blue, "a": 1},
    )
    await page.goto(f"{url}/static/icons/{name}")
    return await page.screenshot({"x": 0, "y": 0, "width": 120, "height": 120})


@pytest.mark.parametrize(
    ("width", "theme"), [(1280, "light"), (1280, "dark"), (390, "light")], ids=str
)
async def test_every_state_and_lock_picture_renders(
    browser: Browser, pictured: Running, width: int, theme: str
) -> None:
    page = await browser.new_page()
    try:
        await page.set_viewport(width, 1600, dark=theme == "dark")
        await load(page, pictured.url)
        # The whole page in one screenshot: a viewport as tall as the page.
        height = await page.evaluate("document.documentElement.scrollHeight")
        await page.set_viewport(width, height, dark=theme == "dark")
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        pictures = await page.evaluate(
            """[...document.querySelectorAll('article.charger img')].map(i => {
                const r = i.getBoundingClientRect();
                return {charger: i.closest('article').dataset.charger,
                        picture: i.dataset.picture, src: i.currentSrc,
                        natural: [i.naturalWidth, i.naturalHeight],
                        box: {x: r.x, y: r.y, width: r.width, height: r.height}};
            })"""
        )
        background = await page.evaluate(
            """getComputedStyle(document.querySelector('article.charger')).backgroundColor
                .match(/\\d+/g).slice(0, 3).map(Number)"""
        )
        assert await page.evaluate("document.documentElement.scrollHeight") <= height
        shot = await page.screenshot()
        assert page.problems == []

        shown = {(p["charger"], p["picture"]) for p in pictures}
        for serial, (state_key, lock_key) in expected_pictures().items():
            assert (serial, f"state-{state_key}") in shown
            assert (serial, f"lock-{lock_key}") in shown
        assert {p["picture"] for p in pictures} >= {f"state-{k}" for k in STATE_KEYS} | {
            f"lock-{k}" for k in LOCK_KEYS
        }

        names = {p["src"].rsplit("/", 1)[1] for p in pictures}
        references = {name: await reference(page, pictured.url, name, background) for name in names}
        for picture in pictures:
            name = picture["src"].rsplit("/", 1)[1]
            assert name == f"{picture['picture']}-{theme}.svg", picture
            assert picture["natural"][0] > 0
            assert picture["natural"][1] > 0
            box = picture["box"]
            assert box["width"] > 0
            assert box["height"] > 0
            crop = shot.crop(
                (
                    round(box["x"]),
                    round(box["y"]),
                    round(box["x"] + box["width"]),
                    round(box["y"] + box["height"]),
                )
            )
            assert not blank(crop), picture
            # The right drawing: closer to its own file than to any other of its kind.
            kind = name.split("-", 1)[0]
            own = distance(crop, references[name])
            others = {
                other: distance(crop, image)
                for other, image in references.items()
                if other != name and other.startswith(kind)
            }
            assert own < 6, (picture, own)
            assert all(own * 2 < d for d in others.values()), (own, min(others.values()), picture)
            # A state picture's own colour (its badge) is really on the screen.
            for colour in signature_colours(name):
                share = colour_share(crop, colour)
                assert share > 0.02, (picture, colour, share)
    finally:
        await page.close()


async def test_pause_asks_for_the_token_calls_the_controller_and_shows_confirmed(
    page: Page, running: Running
) -> None:
    sim = running.sim
    serial = BUTTON_CHARGER.serial
    card = f"#charger-{serial}"
    command = f"/api/chargers/{serial}/commands/pause_charging"
    assert sim.requests.count(path=command, method="POST") == 0
    await load(page, running.url)
    forget = "document.getElementById('forget-token')"
    assert await page.evaluate(f"getComputedStyle({forget}).visibility") == "hidden"
    footer = "document.querySelector('footer').getBoundingClientRect().height"
    footer_before = await page.evaluate(footer)

    await page.click(f'{card} button[data-action="pause"]')
    await page.wait_for("document.getElementById('token-dialog').open")
    assert await page.evaluate("document.activeElement.id") == "token-input"
    await page.type_text(TOKEN)
    await page.press_enter()

    outcome = await page.wait_for(
        f"""(o => o.dataset.kind === 'ok' && o.textContent)(
            document.querySelector('{card} .outcome'))""",
        within=30,
    )
    assert outcome == "Pause: confirmed"
    assert sim.requests.count(path=command, method="POST") == 1
    # The card was refreshed from the page: the charger is paused and offers to resume.
    await page.wait_for(f"!!document.querySelector('{card} button[data-action=\"resume\"]')")
    # (The op mode follows the pause a moment later; the paused flag comes with the
    # confirmation.)
    state = await page.evaluate(f"document.querySelector('{card} .state-label').textContent")
    assert state.endswith(" (paused)")
    # The token is kept for this tab, and nowhere a page, a URL or a cookie would show it.
    stored = await page.evaluate("sessionStorage.getItem('easee-exporter.controller-token')")
    assert stored == TOKEN
    assert TOKEN not in await page.evaluate("document.documentElement.outerHTML")
    assert TOKEN not in await page.evaluate("location.href")
    assert await page.evaluate("document.cookie") == ""
    assert await page.evaluate(f"getComputedStyle({forget}).visibility") == "visible"
    # Showing the control moved nothing.
    assert await page.evaluate(footer) == footer_before


async def test_a_wrong_token_shows_the_problem_detail_and_sends_no_command(
    page: Page, running: Running
) -> None:
    sim = running.sim
    serial = BUTTON_CHARGER.serial
    card = f"#charger-{serial}"
    wrong = "not-the-token-0123456789abcdef"
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{running.url}/api/v1/chargers/{serial}/pause",
            headers={"Authorization": f"Bearer {wrong}"},
        ) as answer,
    ):
        assert answer.status == 401
        assert answer.content_type == "application/problem+json"
        detail = (await answer.json())["detail"]

    def commands() -> list[str]:
        return [e.path for e in sim.requests.entries if "/commands/" in e.path]

    sent_before = commands()
    await load(page, running.url)
    await page.click(f"{card} .actions button")
    await page.wait_for("document.getElementById('token-dialog').open")
    await page.type_text(wrong)
    await page.press_enter()
    outcome = await page.wait_for(
        f"""(o => o.dataset.kind === 'error' && o.textContent)(
            document.querySelector('{card} .outcome'))"""
    )
    assert outcome.endswith(f" refused (401): {detail}")
    assert commands() == sent_before
    # A refused token is forgotten: the next click asks again.
    assert await page.evaluate("sessionStorage.getItem('easee-exporter.controller-token')") is None
    assert wrong not in await page.evaluate("document.documentElement.outerHTML")
    # The browser reports the refused request itself; that one report is expected here.
    assert len(page.problems) == 1
    assert "status of 401" in page.problems[0]
    assert f"/api/v1/chargers/{serial}/" in page.problems[0]
    page.problems.clear()


async def test_cancelling_the_token_dialog_sends_nothing(page: Page, running: Running) -> None:
    serial = BUTTON_CHARGER.serial
    card = f"#charger-{serial}"
    sent_before = [e.path for e in running.sim.requests.entries if "/commands/" in e.path]
    await load(page, running.url)
    await page.click(f"{card} .actions button + button")
    await page.wait_for("document.getElementById('token-dialog').open")
    await page.click("#token-cancel")
    outcome = await page.wait_for(f"document.querySelector('{card} .outcome').textContent")
    assert outcome.endswith(": cancelled, no token given")
    assert not await page.evaluate("document.getElementById('token-dialog').open")
    assert [e.path for e in running.sim.requests.entries if "/commands/" in e.path] == sent_before


DISCONNECTED_SERIAL = picture_serial(1)  # op mode 1: no car
OFFLINE_SERIAL = picture_serial(0)
ERROR_SERIAL = picture_serial(5)  # op mode 5


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_every_state_picture_has_its_label_in_the_pages_language(
    page: Page, pictured: Running, lang: str
) -> None:
    words = CATALOGUE[lang]
    await load(page, pictured.url, f"?lang={lang}")
    assert await page.evaluate("document.documentElement.lang") == lang
    cards = await page.evaluate(
        """Object.fromEntries([...document.querySelectorAll('article.charger')].map(c => [
            c.dataset.charger, {
                state: c.querySelector('.state-label').textContent,
                stateAlt: c.querySelector('img.state').alt,
                lock: c.querySelector('.lock-label').textContent,
                lockAlt: c.querySelector('img.lock').alt,
            }]))"""
    )
    for serial, (state_key, lock_key) in expected_pictures().items():
        label = words[f"state.{state_key}"]
        lock = words[f"lock.{lock_key}"]
        assert cards[serial]["state"] == label, serial
        assert cards[serial]["stateAlt"] == words["state.picture"].format(label=label)
        assert cards[serial]["lock"] == lock
        assert cards[serial]["lockAlt"] == words["lock.picture"].format(label=lock)
    # The plugin's own French words.
    if lang == "fr":
        shown = {c["state"] for c in cards.values()}
        assert {"Déconnecté", "En attente", "En charge", "Charge terminée", "Erreur", "Prêt"} <= (
            shown
        )
        assert await page.evaluate(
            "document.querySelector('#charger-EH000100 .actions button').textContent"
        ) in ("Pause", "Reprendre")


async def test_accept_language_chooses_and_lang_overrides(running: Running) -> None:
    async def fetch(query: str, accept: str | None) -> tuple[str, str]:
        headers = {} if accept is None else {"Accept-Language": accept}
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{running.url}/{query}", headers=headers) as answer,
        ):
            body = await answer.text()
            return answer.headers["Content-Language"], body

    assert (await fetch("", None))[0] == "en"
    lang, body = await fetch("", "fr-CH, fr;q=0.9, en;q=0.8")
    assert lang == "fr"
    assert '<html lang="fr">' in body
    assert CATALOGUE["fr"]["title"] in body
    assert (await fetch("", "de-DE, en;q=0.5, fr;q=0.4"))[0] == "en"
    assert (await fetch("?lang=en", "fr"))[0] == "en"
    assert (await fetch("?lang=fr", None))[0] == "fr"
    assert (await fetch("?lang=de", "fr"))[0] == "fr"


async def test_pause_and_resume_only_where_they_can_work(page: Page, pictured: Running) -> None:
    await load(page, pictured.url)
    cards = await page.evaluate(
        """Object.fromEntries([...document.querySelectorAll('article.charger')].map(c => [
            c.dataset.charger, {
                actions: [...c.querySelectorAll('button[data-action]')].map(b => b.dataset.action),
                disabled: [...c.querySelectorAll('button[aria-disabled=true]')].map(
                    b => [b.dataset.action, b.title]),
                why: c.querySelector('.why') && c.querySelector('.why').textContent,
            }]))"""
    )
    words = CATALOGUE["en"]
    for serial, why in (
        (DISCONNECTED_SERIAL, "why.no_car"),
        (OFFLINE_SERIAL, "why.offline"),
        (ERROR_SERIAL, "why.error"),
    ):
        card = cards[serial]
        assert not {"pause", "resume"} & set(card["actions"]), (serial, card)
        assert card["why"] == words[why], serial
        assert len(card["actions"]) == 1, "lock or unlock stays"
    # A car connected and online: a working pause (or resume, once paused).
    assert {"pause", "resume"} & set(cards[BUTTON_CHARGER.serial]["actions"])
    assert cards[BUTTON_CHARGER.serial]["disabled"] == []
    # Offline, the lock cannot work either: it stays, disabled, and says why on focus.
    (lock_action, title) = cards[OFFLINE_SERIAL]["disabled"][0]
    assert title == words["why.offline"]
    selector = f"#charger-{OFFLINE_SERIAL} button[data-action={lock_action}]"
    await page.evaluate(f"document.querySelector('{selector}').focus()")
    await page.send(
        "Input.dispatchKeyEvent", type="keyDown", key="Shift", code="ShiftLeft"
    )  # keyboard modality, so :focus-visible applies
    tip = await page.evaluate(
        f"getComputedStyle(document.querySelector('{selector}'), '::after').content"
    )
    assert tip == json.dumps(words["why.offline"])
    sent_before = pictured.sim.requests.count(method="POST")
    await page.click(selector)
    outcome = await page.wait_for(
        f"document.querySelector('#charger-{OFFLINE_SERIAL} .outcome').textContent"
    )
    assert outcome == words["why.offline"]
    assert pictured.sim.requests.count(method="POST") == sent_before


async def test_values_refresh_without_a_reload(page: Page, running: Running) -> None:
    serial = BUTTON_CHARGER.serial
    await load(page, running.url)
    await page.evaluate("window.notReloaded = true")
    running.sim.set_observation(serial, TOTAL_POWER, 3.21)
    shown = await page.wait_for(
        f"""(v => v === '3.21' && v)(
            document.querySelector('#charger-{serial} .power-value').textContent)"""
    )
    assert shown == "3.21"
    assert await page.evaluate("window.notReloaded") is True
    # The sparkline follows the history the service keeps.
    await page.wait_for(f"!!document.querySelector('#charger-{serial} .spark-line')")


async def test_a_refused_login_shows_a_banner_without_the_password(
    browser: Browser, running: Running
) -> None:
    wrong = "not-the-password-42"
    env = {
        "EASEE_API_URL": running.sim.base_url,
        "EASEE_STREAM_URL": running.sim.hub_url,
        "EASEE_USERNAME": "demo",
        "EASEE_PASSWORD": wrong,
    }
    app = create_app(load_settings(CommandLine(), env))
    service = app[SERVICE]
    async with serve(app) as url:
        page = await browser.new_page()
        try:

            def refused() -> bool:
                fleet = service.fleet
                return fleet is not None and any(
                    a.status.issue is AccountIssue.LOGIN_REFUSED for a in fleet.accounts.values()
                )

            await eventually(refused)
            await page.set_viewport(1280, 900)
            for lang in ("en", "fr"):
                await load(page, url, f"?lang={lang}")
                banner = await page.evaluate(
                    """(n => n && {kind: n.dataset.notice, account: n.dataset.account,
                        text: n.textContent, time: n.querySelector('time') !== null})(
                        document.querySelector('#notices .notice'))"""
                )
                words = CATALOGUE[lang]
                assert banner["kind"] == "login_refused"
                assert banner["account"] == "default"
                assert words["notice.login_refused"].format(account="default") in banner["text"]
                assert banner["time"], "when the service tries again"
                health = await page.evaluate("document.querySelector('.health').dataset.health")
                assert health == "degraded"
                assert (
                    await page.evaluate("document.querySelector('.empty').textContent")
                    == (words["empty.problem"])
                )
                assert wrong not in await page.evaluate("document.documentElement.outerHTML")
            assert page.problems == []
        finally:
            await page.close()
