"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

No port is opened and no client library is needed: the browser reads commands on file
descriptor 3 and writes replies and events on 4, each a JSON message ended by a NUL byte.
We record every request the page makes, every console message and uncaught exception, and
take a screenshot of the viewport.

Run as ``python -m tests.headless PAGE.html SHOT.png`` to take a screenshot of a page.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
WAIT_S = 60.0
"""Longest wait for one reply: a guard against a hung browser, not a timing assertion."""

FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--no-default-browser-check", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
    "--remote-debugging-pipe",
)


@dataclass
class PageLoad:
    """What loading a page did: request URLs, console messages (level, text), exceptions, screenshot."""

    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    layout_width: int = 0


class Browser:
    """One headless Chromium process with a page session."""

    def __init__(self, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # the child's fds 3 (commands in) and 4 (replies out), from copies above 9 so neither dup2 clobbers the other
        child_in = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_browser_r)
        os.close(from_browser_w)
        to_browser_r, from_browser_w = child_in, child_out
        self._log = open(profile / "chromium.log", "w+b")  # a file, not a pipe: nobody blocks on a full pipe
        self._proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log, pass_fds=(3, 4),
            preexec_fn=lambda: (os.dup2(child_in, 3), os.dup2(child_out, 4)),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command and return its result, keeping the events that arrive meanwhile."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        """Events until ``method`` arrives (the events before it are kept)."""
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read()
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], WAIT_S)
            if not ready:
                raise TimeoutError(f"no reply from Chromium within {WAIT_S} s")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                self._log.seek(0)
                raise RuntimeError(f"Chromium exited: {self._log.read().decode(errors='replace')[-2000:]}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError, TimeoutError):
            pass
        try:
            self._proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self._log.close()


def load(page: Path, width: int = 1200, height: int = 900) -> PageLoad:
    """Open ``page`` (a file) in a fresh headless Chromium at ``width`` x ``height`` CSS pixels and
    report what it did."""
    with tempfile.TemporaryDirectory(prefix="remnant-chromium-") as profile:
        browser = Browser(Path(profile))
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Network", "Runtime", "Log", "Page"):
                browser.send(f"{domain}.enable", session=session)
            browser.send("Emulation.setDeviceMetricsOverride",
                         {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
            browser.events.clear()
            browser.send("Page.navigate", {"url": page.resolve().as_uri()}, session)
            browser.wait_for("Page.loadEventFired")
            width_px = browser.send("Runtime.evaluate", {"expression": "document.documentElement.scrollWidth",
                                                         "returnByValue": True}, session)["result"]["value"]
            shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)["data"]
            result = PageLoad(screenshot=base64.b64decode(shot), layout_width=int(width_px))
            for event in browser.events:
                method, params = event.get("method"), event.get("params", {})
                if method == "Network.requestWillBeSent":
                    result.requests.append(params["request"]["url"])
                elif method == "Runtime.consoleAPICalled":
                    text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                    result.console.append((params.get("type", ""), text))
                elif method == "Log.entryAdded":
                    entry = params["entry"]
                    result.console.append((entry.get("level", ""), entry.get("text", "")))
                elif method == "Runtime.exceptionThrown":
                    result.exceptions.append(json.dumps(params.get("exceptionDetails", {}))[:500])
            return result
        finally:
            browser.close()


if __name__ == "__main__":
    loaded = load(Path(sys.argv[1]))
    Path(sys.argv[2]).write_bytes(loaded.screenshot)
    print(json.dumps({"requests": loaded.requests, "console": loaded.console, "exceptions": loaded.exceptions}))
