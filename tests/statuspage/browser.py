"""Headless Chromium driven over the Chrome DevTools Protocol, with aiohttp's WebSocket client.

Just what the status page tests need: open a tab, load a page, run JavaScript, click and type
with real input events, take screenshots, and collect what the page complains about (script
errors, Content-Security-Policy violations, failed loads). Debian's ``chromium`` package is
the browser; the machine has no network, so everything that would phone home is off.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import itertools
import json
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp
from PIL import Image

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


class BrowserError(AssertionError):
    """The browser or a page did not do what the test asked."""


class Connection:
    """One DevTools WebSocket: numbered commands, answers matched by id, events by session."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: dict[str, list[asyncio.Queue[dict[str, Any]]]] = {}
        self._reader = asyncio.create_task(self._read(), name="cdp-reader")

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
            else:
                for queue in self._listeners.get(data.get("sessionId", ""), []):
                    queue.put_nowait(data)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(BrowserError("the browser closed the DevTools connection"))

    def listen(self, session_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._listeners.setdefault(session_id, []).append(queue)
        return queue

    async def send(
        self, method: str, session_id: str | None = None, **params: Any
    ) -> dict[str, Any]:
        message_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if session_id is not None:
            message["sessionId"] = session_id
        await self._ws.send_json(message)
        answer = await asyncio.wait_for(future, 30)
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def close(self) -> None:
        await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class Page:
    """One tab, attached with a flat session."""

    def __init__(self, connection: Connection, target_id: str, session_id: str) -> None:
        self._connection = connection
        self.target_id = target_id
        self.session_id = session_id
        self._events = connection.listen(session_id)
        self._loads = 0
        #: script exceptions, console errors, CSP violations and failed loads, in order
        self.problems: list[str] = []
        self._watcher = asyncio.create_task(self._watch(), name="cdp-page-events")

    async def _watch(self) -> None:
        while True:
            event = await self._events.get()
            method, params = event.get("method"), event.get("params", {})
            if method == "Page.loadEventFired":
                self._loads += 1
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                exception = details.get("exception", {})
                self.problems.append(f"exception: {exception.get('description') or details}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                entry = params["entry"]
                self.problems.append(f"log: {entry.get('text')} {entry.get('url', '')}".strip())
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                self.problems.append(f"console: {params.get('args')}")

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        return await self._connection.send(method, self.session_id, **params)

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (promises awaited), JSON-converted."""
        answer = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in answer:
            raise BrowserError(f"{expression!r} threw {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def wait_for(self, expression: str, within: float = 15.0) -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + within
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"{expression!r} still {value!r} after {within} s")
            await asyncio.sleep(0.05)

    async def goto(self, url: str, within: float = 15.0) -> None:
        """Navigate and wait for the load event."""
        loads = self._loads
        answer = await self.send("Page.navigate", url=url)
        if answer.get("errorText"):
            raise BrowserError(f"cannot load {url}: {answer['errorText']}")
        deadline = time.monotonic() + within
        while self._loads == loads:
            if time.monotonic() > deadline:
                raise BrowserError(f"{url} did not finish loading within {within} s")
            await asyncio.sleep(0.02)

    async def set_viewport(self, width: int, height: int, *, dark: bool = False) -> None:
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        await self.send(
            "Emulation.setEmulatedMedia",
            features=[{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}],
        )

    async def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element."""
        box = await self.evaluate(
            f"""(() => {{
                const element = document.querySelector({json.dumps(selector)});
                if (!element) return null;
                element.scrollIntoView({{block: "center"}});
                const r = element.getBoundingClientRect();
                return {{x: r.x + r.width / 2, y: r.y + r.height / 2}};
            }})()"""
        )
        if box is None:
            raise BrowserError(f"nothing matches {selector}")
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box["x"],
                y=box["y"],
                button="left",
                clickCount=1,
            )

    async def type_text(self, text: str) -> None:
        """Text typed into the focused element."""
        await self.send("Input.insertText", text=text)

    async def press_enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            await self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key="Enter",
                code="Enter",
                windowsVirtualKeyCode=13,
                nativeVirtualKeyCode=13,
                **({"text": "\r"} if kind == "keyDown" else {}),
            )

    async def screenshot(self, clip: dict[str, float] | None = None) -> Image.Image:
        params: dict[str, Any] = {"format": "png"}
        if clip is not None:
            params["clip"] = {"scale": 1, **clip}
        answer = await self.send("Page.captureScreenshot", **params)
        image = Image.open(io.BytesIO(base64.b64decode(answer["data"])))
        return image.convert("RGB")

    async def close(self) -> None:
        self._watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._watcher
        await self._connection.send("Target.closeTarget", targetId=self.target_id)


class Browser:
    """A headless Chromium process with a fresh profile, and its DevTools connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def new_page(self) -> Page:
        """A fresh tab (its own sessionStorage), with the events the tests read enabled."""
        target = await self._connection.send("Target.createTarget", url="about:blank")
        attached = await self._connection.send(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        page = Page(self._connection, target["targetId"], attached["sessionId"])
        for domain in ("Page", "Runtime", "Log"):
            await page.send(f"{domain}.enable")
        return page


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise BrowserError("no Chromium: install the Debian package 'chromium' (.ci/run does)")


def _open_log(profile: Path) -> BinaryIO:
    profile.mkdir(parents=True, exist_ok=True)
    return (profile.parent / "chromium.log").open("wb")


def _devtools_endpoint(profile: Path) -> tuple[str, str] | None:
    """Port and browser path, from the file Chromium writes once it listens."""
    port_file = profile / "DevToolsActivePort"
    lines = port_file.read_text().splitlines() if port_file.exists() else []
    return (lines[0], lines[1]) if len(lines) >= 2 else None


@contextlib.asynccontextmanager
async def run_browser(profile: Path, within: float = 30.0) -> AsyncIterator[Browser]:
    """Start Chromium with a fresh profile in ``profile``; stop it on exit."""
    log = _open_log(profile)
    process = await asyncio.create_subprocess_exec(
        chromium_binary(),
        *FLAGS,
        f"--user-data-dir={profile}",
        "about:blank",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + within
        while (endpoint := _devtools_endpoint(profile)) is None:
            if process.returncode is not None or time.monotonic() > deadline:
                raise BrowserError(f"Chromium did not start; see {log.name}")
            await asyncio.sleep(0.05)
        port, path = endpoint
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0)
            connection = Connection(ws)
            try:
                yield Browser(connection)
            finally:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(5):
                        await connection.send("Browser.close")
                await connection.close()
    finally:
        if process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()
