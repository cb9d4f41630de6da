"""The one HTTP session: retries with back-off against a real server on loopback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from twin.errors import DataError
from twin.io.http import get_json, make_session


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503 (then 429 with Retry-After: 0) until ``fail`` runs out, then JSON."""

    fail = 0
    hits = 0

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).hits += 1
        if type(self).fail > 0:
            type(self).fail -= 1
            self.send_response(503 if type(self).fail % 2 else 429)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_transient_errors_are_retried(server):
    _Flaky.fail, _Flaky.hits = 3, 0
    got = get_json(make_session(retries=4, backoff_factor=0.0), "test", f"{server}/price", {"bzn": "DE-LU"})
    assert got == {"path": "/price?bzn=DE-LU"}
    assert _Flaky.hits == 4  # three failures, then the answer


def test_persistent_errors_become_one_data_error(server):
    _Flaky.fail, _Flaky.hits = 100, 0
    with pytest.raises(DataError, match=r"energy_charts: request http://127\.0\.0\.1:\d+/price .* failed"):
        get_json(make_session(retries=2, backoff_factor=0.0), "energy_charts", f"{server}/price", {})
    assert _Flaky.hits == 3  # the first try and two retries


def test_connection_refused_is_a_data_error():
    with pytest.raises(DataError, match="failed"):
        get_json(make_session(retries=1, backoff_factor=0.0), "awattar", "http://127.0.0.1:9/x", {})
