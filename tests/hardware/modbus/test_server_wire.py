"""The Modbus simulator on the wire: pipelined requests, exception codes, unit ids, setpoint writes.

Raw Modbus TCP frames on a real socket to a real server on loopback, as any
client (or attacker) could send them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import struct
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardware.clock import VirtualClock
from hardware.modbus.register_map import load_profile
from hardware.modbus.server import ModbusBatteryServer
from hardware.mqtt.broker import free_port
from hardware.simulated import SimulatedBattery
from tests.hardware.rigs import SPEC

START = dt.datetime(2023, 6, 1, tzinfo=dt.UTC)


def frame(tid: int, fc: int, payload: bytes, unit: int = 1) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(payload) + 2, unit) + bytes([fc]) + payload


def read(tid: int, address: int = 0, count: int = 2, unit: int = 1) -> bytes:
    return frame(tid, 3, struct.pack(">HH", address, count), unit)


class Served:
    """A battery behind the simulator server, on its own event loop thread."""

    def __init__(self, profile: str) -> None:
        self.port = free_port()
        self.battery = SimulatedBattery(SPEC, start_utc=START)
        self.server = ModbusBatteryServer(self.battery, load_profile(profile), VirtualClock(START, 60.0),
                                          port=self.port)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)

    def talk(self, data: bytes, expect: int, timeout_s: float = 5.0) -> list[bytes]:
        """Send ``data`` in one segment; return the first ``expect`` answers (MBAP framed)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout_s) as sock:
            sock.sendall(data)
            buffer, answers = b"", []
            while len(answers) < expect:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buffer += chunk
                while len(buffer) >= 6 and len(buffer) >= 6 + struct.unpack(">H", buffer[4:6])[0]:
                    n = 6 + struct.unpack(">H", buffer[4:6])[0]
                    answers.append(buffer[:n])
                    buffer = buffer[n:]
            return answers

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(params=["seed"])
def served(request):
    s = Served(request.param)
    yield s
    s.close()


def test_pipelined_requests_are_all_answered_in_order(served):
    answers = served.talk(b"".join(read(tid) for tid in (11, 12, 13, 14, 15)), expect=5)
    assert [struct.unpack(">H", a[:2])[0] for a in answers] == [11, 12, 13, 14, 15]
    assert all(a[7] == 3 for a in answers)


def test_exception_responses_carry_the_request_function_code_plus_0x80(served):
    (bad_address,) = served.talk(read(21, address=100), expect=1)
    assert bad_address[7:9] == bytes([0x83, 0x02])
    (bad_function,) = served.talk(frame(22, 0x41, b"\x00\x00"), expect=1)
    assert bad_function[7] == 0x41 | 0x80 and bad_function[8] == 0x01


def test_another_unit_id_gets_gateway_exception_0x0b(served, caplog):
    (answer,) = served.talk(read(31, unit=9), expect=1)
    assert answer[6] == 9 and answer[7:9] == bytes([0x83, 0x0B])
    assert "Traceback" not in caplog.text and "KeyError" not in caplog.text


def test_a_setpoint_beyond_the_rating_is_clipped_and_the_register_says_so(served):
    served.talk(frame(41, 6, struct.pack(">HH", 4, 32767)), expect=1)
    (answer,) = served.talk(read(42, address=4, count=1), expect=1)
    assert struct.unpack(">h", answer[9:11])[0] == 100  # the rating, not 32767
    assert served.battery.setpoint_kw == 100.0 and served.server.writes_clipped == 1


def test_half_a_float_setpoint_is_refused_with_exception_03():
    s = Served("float32_le")
    try:
        address = s.server.profile.registers["setpoint"].address
        (answer,) = s.talk(frame(51, 6, struct.pack(">HH", address, 0x4000)), expect=1)
        assert answer[7:9] == bytes([0x86, 0x03]) and s.server.writes_rejected == 1
        assert s.battery.setpoint_kw == 0.0
    finally:
        s.close()


@pytest.fixture(scope="module")
def fuzz_target():
    s = Served("seed")
    yield s
    s.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.one_of(
    st.binary(min_size=1, max_size=64),
    st.builds(frame, st.integers(0, 65535), st.integers(0, 255), st.binary(max_size=12), st.integers(0, 255)),
))
def test_random_frames_never_stop_the_server(fuzz_target, junk):
    with socket.create_connection(("127.0.0.1", fuzz_target.port), timeout=2) as sock:
        sock.sendall(junk)
        sock.settimeout(0.2)
        try:
            sock.recv(4096)
        except (TimeoutError, ConnectionError):
            pass
    (answer,) = fuzz_target.talk(read(61), expect=1)  # still serving
    assert answer[7] == 3
