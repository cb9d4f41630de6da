"""MQTT brokers for tests and the live demo: embedded amqtt, or Debian's Mosquitto.

:class:`EmbeddedBroker` runs amqtt in a thread of its own (no extra binary);
:class:`MosquittoBroker` runs the real ``mosquitto`` as a child process, bound to
loopback with anonymous access, when the binary is on PATH.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Protocol

_PORT_RANGE = (20000, 32768)
"""Where :func:`free_port` looks: above Ray's worker ports (10002-19999), below Linux's ephemeral range."""


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _PORT_RANGE[1]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now, outside the kernel's ephemeral range.

    A port the OS hands out for ``bind(0)`` lies in the ephemeral range, where
    any outgoing connection may take it while a test has its server stopped
    (and then the server cannot come back on it). Ports are drawn at random
    below that range instead; the OS's choice is the fallback.
    """
    high = min(_PORT_RANGE[1], _ephemeral_low())
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(_PORT_RANGE[0], high) if high > _PORT_RANGE[0] else 0
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float = 10.0) -> None:
    """Block until ``host:port`` accepts TCP connections.

    Raises
    ------
    TimeoutError
        If nothing listens within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s} s")


class Broker(Protocol):
    """A broker that can be started and stopped (and started again on the same port)."""

    host: str
    port: int

    def start(self) -> None:
        """Start listening; return once connections are accepted."""
        ...

    def stop(self) -> None:
        """Stop listening and drop every client."""
        ...


class EmbeddedBroker:
    """amqtt's broker in a background thread with its own event loop.

    Parameters
    ----------
    port : int, optional
        TCP port; default a free one.
    host : str
        Interface to bind.
    """

    kind = "amqtt"

    def __init__(self, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port or free_port(host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker = None

    def start(self) -> None:
        """Start listening; returns once the port accepts connections."""
        from amqtt.broker import Broker as AmqttBroker

        ready = threading.Event()
        errors: list[BaseException] = []

        def _serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)

            async def _start() -> None:
                config = {
                    "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
                    "plugins": {
                        "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
                    },
                }
                broker = AmqttBroker(config)
                self._broker = broker
                await broker.start()

            try:
                loop.run_until_complete(_start())
            except BaseException as err:  # noqa: BLE001 - reported to the caller
                errors.append(err)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=_serve, name=f"amqtt-{self.port}", daemon=True)
        self._thread.start()
        ready.wait(15)
        if errors:
            raise OSError(f"amqtt broker could not start on {self.host}:{self.port}: {errors[0]}")
        wait_for_port(self.host, self.port)

    def stop(self) -> None:
        """Shut the broker down and join its thread."""
        if self._loop is None or self._broker is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
        with contextlib.suppress(Exception):
            future.result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = self._broker = self._thread = None


def mosquitto_command(host: str, port: int, folder: Path) -> list[str]:
    """Command line that runs ``mosquitto`` on ``host:port`` with anonymous access, no persistence.

    Writes its configuration file into ``folder``.

    Raises
    ------
    FileNotFoundError
        When ``mosquitto`` is not on PATH.
    """
    binary = shutil.which("mosquitto")
    if binary is None:
        raise FileNotFoundError("mosquitto is not on PATH; apt-get install -y mosquitto")
    conf = folder / f"mosquitto-{port}.conf"
    conf.write_text(f"listener {port} {host}\nallow_anonymous true\npersistence false\n", encoding="utf-8")
    return [binary, "-c", str(conf)]


class MosquittoBroker:
    """Debian's ``mosquitto`` as a child process on loopback.

    Raises
    ------
    FileNotFoundError
        From :meth:`start` when ``mosquitto`` is not on PATH.
    """

    kind = "mosquitto"

    def __init__(self, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port or free_port(host)
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="bess-twin-mosquitto-")

    @staticmethod
    def available() -> bool:
        """True when a ``mosquitto`` binary is on PATH."""
        return shutil.which("mosquitto") is not None

    def start(self) -> None:
        """Start mosquitto and wait until it accepts connections."""
        command = mosquitto_command(self.host, self.port, Path(self._dir.name))
        self._proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.host, self.port)

    def stop(self) -> None:
        """Terminate mosquitto."""
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None


def make_broker(kind: str = "auto", port: int | None = None, host: str = "127.0.0.1") -> Broker:
    """A broker by kind: ``mosquitto``, ``amqtt`` or ``auto`` (mosquitto when installed)."""
    kinds: dict[str, type[MosquittoBroker] | type[EmbeddedBroker]] = {
        "mosquitto": MosquittoBroker,
        "amqtt": EmbeddedBroker,
    }
    if kind == "auto":
        kind = "mosquitto" if MosquittoBroker.available() else "amqtt"
    if kind not in kinds:
        raise ValueError(f"unknown broker kind {kind!r}; choose auto, mosquitto or amqtt")
    return kinds[kind](port=port, host=host)
