"""A real browser for the tests: headless Chromium (Debian's ``chromium``) driven over the DevTools protocol.

``chromium-check`` uses virtual time, which does not wait for a Streamlit page's
WebSocket; this waits in real time until the page's plots are drawn, then takes
the screenshot and the rendered DOM and reports JavaScript errors, Streamlit
exception boxes and plots without data.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

EMPTY_PLOTS_JS = """(() => { const has = v => !!v && (v.length > 0 || (!!v.bdata && v.bdata.length > 0));
  return Array.from(document.querySelectorAll('.js-plotly-plot')).filter(d => !d.data || d.data.length === 0 ||
    d.data.every(t => t.type !== 'indicator' && !(has(t.x) || has(t.y) || has(t.values)))).length; })()"""
"""Plots none of whose traces has data (numpy arrays arrive base64-encoded as ``{dtype, bdata}``)."""


@dataclass
class PageCheck:
    """What the browser saw."""

    plots: int
    empty_plots: int
    exceptions: int
    js_errors: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    ready_s: float = float("nan")
    """Time from navigation until the plots were drawn and nothing was loading. [s]"""


class Chromium:
    """One headless Chromium for a test; :meth:`check` loads a page in its one tab, as a person going from page to page."""

    def __init__(self) -> None:
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if binary is None:
            raise RuntimeError("no chromium on PATH: apt-get install -y chromium (.ci/run does)")
        self.profile = tempfile.mkdtemp(prefix="chromium-")
        self._ws_url: str | None = None
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={self.profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        assert self.proc.stderr is not None
        while True:
            line = self.proc.stderr.readline()
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                self.port = int(found.group(1).split(":")[2].split("/")[0])
                break
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")

    def _tab(self) -> str:
        """The DevTools WebSocket of the browser's one tab (opened on first use; pages load in it one after another)."""
        if self._ws_url is None:
            import urllib.request

            req = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
            self._ws_url = json.loads(urllib.request.urlopen(req, timeout=10).read())["webSocketDebuggerUrl"]
        return self._ws_url

    def switch(self, url_path: str, title: str, min_plots: int, timeout_s: float = 60.0) -> float:
        """Click the sidebar link to ``url_path`` in the loaded app, as a person does; seconds until its plots are drawn.

        Waits until the page's title is ``title``, ``min_plots`` plots are drawn and nothing is loading or stale.
        """
        with connect(self._tab(), max_size=2**28, open_timeout=10) as ws:
            ids = iter(range(1, 10**9))

            def evaluate(expression: str) -> Any:
                my = next(ids)
                ws.send(json.dumps({"id": my, "method": "Runtime.evaluate", "params": {"expression": expression, "returnByValue": True}}))
                while True:
                    msg = json.loads(ws.recv(timeout=30))
                    if msg.get("id") == my:
                        return msg.get("result", {}).get("result", {}).get("value")

            started = time.monotonic()
            evaluate(f"document.querySelector('[data-testid=\"stSidebarNav\"] a[href$=\"/{url_path}\"]').click()")
            ready = (f"(() => {{ const h = document.querySelector('h1'); return !!h && h.innerText.trim() === {json.dumps(title)} &&"
                     f" document.querySelectorAll('.js-plotly-plot .main-svg').length >= {min_plots} &&"
                     " document.querySelectorAll('[data-stale=\"true\"], [data-testid=\"stSkeleton\"]').length === 0; })()")  # fmt: skip
            while time.monotonic() - started < timeout_s:
                if evaluate(ready):
                    return time.monotonic() - started
                time.sleep(0.02)
            raise TimeoutError(f"{url_path}: not drawn within {timeout_s} s")

    def close(self) -> None:
        """Stop the browser."""
        self.proc.kill()
        self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self, url: str, out: Path, min_plots: int, timeout_s: float = 60.0, size: tuple[int, int] = (1400, 1800)) -> PageCheck:
        """Open ``url``, wait until ``min_plots`` plots are drawn (or the timeout), save ``out``.png/.html.

        Returns
        -------
        PageCheck
            Plots drawn, plots without data, Streamlit exception boxes, JavaScript errors, the page's text.
        """
        errors: list[str] = []
        with connect(self._tab(), max_size=2**28, open_timeout=10) as ws:
            ids = iter(range(1, 10**9))

            def call(method: str, **params: Any) -> dict[str, Any]:
                my = next(ids)
                ws.send(json.dumps({"id": my, "method": method, "params": params}))
                while True:
                    msg = json.loads(ws.recv(timeout=30))
                    if msg.get("method") == "Runtime.exceptionThrown":
                        errors.append(msg["params"]["exceptionDetails"].get("text", "") + " " + str(msg["params"]["exceptionDetails"].get("exception", {}).get("description", ""))[:300])
                    elif msg.get("method") == "Runtime.consoleAPICalled" and msg["params"]["type"] == "error":
                        errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in msg["params"]["args"])[:300])
                    if msg.get("id") == my:
                        return msg.get("result", {})

            def evaluate(expression: str) -> Any:
                return call("Runtime.evaluate", expression=expression, returnByValue=True).get("result", {}).get("value")

            call("Runtime.enable")
            call("Page.enable")
            call("Emulation.setDeviceMetricsOverride", width=size[0], height=size[1], deviceScaleFactor=1, mobile=False)
            call("Page.navigate", url="about:blank")  # the previous page's plots must not count for this one
            while evaluate("location.href") != "about:blank":
                time.sleep(0.02)
            started = time.monotonic()
            call("Page.navigate", url=url)
            deadline = started + timeout_s
            plots = 0
            while time.monotonic() < deadline:
                plots = evaluate("document.querySelectorAll('.js-plotly-plot .main-svg').length ? document.querySelectorAll('.js-plotly-plot').length : 0") or 0
                busy = evaluate("document.querySelectorAll('[data-testid=\"stSkeleton\"], [data-testid=\"stStatusWidget\"]').length") or 0
                if plots >= min_plots and not busy:
                    break
                time.sleep(0.05)
            ready = time.monotonic() - started
            time.sleep(1.5)  # the last plots finish drawing
            plots = evaluate("document.querySelectorAll('.js-plotly-plot').length") or 0
            empty = evaluate(EMPTY_PLOTS_JS) or 0
            exceptions = evaluate("document.querySelectorAll('[data-testid=\"stException\"]').length") or 0
            text = evaluate("document.body.innerText") or ""
            html = evaluate("document.documentElement.outerHTML") or ""
            shot = call("Page.captureScreenshot", format="png")
            out.with_suffix(".png").write_bytes(base64.b64decode(shot["data"]))
            out.with_suffix(".html").write_text(html)
        return PageCheck(plots=plots, empty_plots=empty, exceptions=exceptions, js_errors=errors, text=text, html=html, ready_s=ready)
