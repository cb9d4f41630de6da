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

EMPTY_PLOTS_JS = """Array.from(document.querySelectorAll('.js-plotly-plot')).filter(d => !d.data || d.data.length === 0 ||
  d.data.every(t => t.type !== 'indicator' && !((t.x && t.x.length) || (t.y && t.y.length) || (t.values && t.values.length)))).length"""


@dataclass
class PageCheck:
    """What the browser saw."""

    plots: int
    empty_plots: int
    exceptions: int
    js_errors: list[str] = field(default_factory=list)
    text: str = ""


class Chromium:
    """One headless Chromium for a test; :meth:`check` opens a page in a fresh tab."""

    def __init__(self) -> None:
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if binary is None:
            raise RuntimeError("no chromium on PATH: apt-get install -y chromium (.ci/run does)")
        self.profile = tempfile.mkdtemp(prefix="chromium-")
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
        import urllib.request

        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        target = json.loads(urllib.request.urlopen(req, timeout=10).read())
        errors: list[str] = []
        with connect(target["webSocketDebuggerUrl"], max_size=2**28, open_timeout=10) as ws:
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
            call("Page.navigate", url=url)
            deadline = time.monotonic() + timeout_s
            plots = 0
            while time.monotonic() < deadline:
                plots = evaluate("document.querySelectorAll('.js-plotly-plot .main-svg').length ? document.querySelectorAll('.js-plotly-plot').length : 0") or 0
                busy = evaluate("document.querySelectorAll('[data-testid=\"stSkeleton\"], [data-testid=\"stStatusWidget\"]').length") or 0
                if plots >= min_plots and not busy:
                    break
                time.sleep(0.5)
            time.sleep(1.5)  # the last plots finish drawing
            plots = evaluate("document.querySelectorAll('.js-plotly-plot').length") or 0
            empty = evaluate(EMPTY_PLOTS_JS) or 0
            exceptions = evaluate("document.querySelectorAll('[data-testid=\"stException\"]').length") or 0
            text = evaluate("document.body.innerText") or ""
            html = evaluate("document.documentElement.outerHTML") or ""
            shot = call("Page.captureScreenshot", format="png")
            out.with_suffix(".png").write_bytes(base64.b64decode(shot["data"]))
            out.with_suffix(".html").write_text(html)
        urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/close/{target['id']}", timeout=10).read()
        return PageCheck(plots=plots, empty_plots=empty, exceptions=exceptions, js_errors=errors, text=text)
