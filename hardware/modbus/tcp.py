"""The Modbus TCP listener of the simulator: pymodbus's server, answering pipelined requests in order.

pymodbus 3.16's request handler parses one frame per ``data_received`` and
keeps the rest of the buffer until more bytes arrive, so a client that sends
several requests in one TCP segment (allowed by the Modbus TCP spec, which
lets a client keep several transactions outstanding) gets only the first
answered. :class:`PipelinedHandler` parses every complete frame of a segment
and answers them one at a time, in order. It also answers a request for
another unit id with exception 0x0B (gateway target device failed to respond,
Modbus Application Protocol v1.1b3 §7), and a frame it cannot decode with the
request's own function code + 0x80, instead of logging a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import ModbusIOException
from pymodbus.pdu import ExceptionResponse
from pymodbus.server import ModbusTcpServer
from pymodbus.server.requesthandler import ServerRequestHandler

log = logging.getLogger(__name__)

_MBAP_BYTES = 7
"""Length of the Modbus TCP header (transaction, protocol, length, unit id). [bytes]"""


class PipelinedHandler(ServerRequestHandler):
    """One client connection: every complete frame is answered, in the order received."""

    def __init__(self, owner: Any, *args: Any) -> None:
        super().__init__(owner, *args)
        self._queue: asyncio.Queue[tuple[Any, Any]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    def callback_data(self, data: bytes, addr: tuple[Any, ...] | None = None) -> int:
        """Parse every complete frame in ``data``; queue each request for an answer in order."""
        used = 0
        while used < len(data):
            chunk = data[used:]
            try:
                n = super(ServerRequestHandler, self).callback_data(chunk, addr)
            except ModbusIOException as exc:
                fc = exc.fcode if exc.fcode is not None else _function_code(chunk)
                response = ExceptionResponse(
                    fc & 0x7F, exception_code=ExcCodes.ILLEGAL_FUNCTION,
                    device_id=exc.dev_id, transaction=exc.transaction_id,
                )
                self.server_send(response, addr)
                return len(data)
            if n <= 0:
                break
            used += n
            if self.last_pdu:
                self._queue.put_nowait((self.last_pdu, self.last_addr))
        if not self._queue.empty() and (self._worker is None or self._worker.done()):
            self._worker = asyncio.get_running_loop().create_task(self._answer_all())
        return used

    async def _answer_all(self) -> None:
        while not self._queue.empty():
            pdu, addr = self._queue.get_nowait()
            self.last_pdu, self.last_addr = pdu, addr
            unit = self.server.unit_id
            if pdu.dev_id not in (unit, 0):  # not ours: a gateway's "target failed to respond"
                response = ExceptionResponse(pdu.function_code, ExcCodes.GATEWAY_NO_RESPONSE)
                response.transaction_id, response.dev_id = pdu.transaction_id, pdu.dev_id
                self.server_send(response, addr)
                continue
            await self.handle_request()

    def callback_disconnected(self, exc: Exception | None) -> None:
        """Drop what is still queued: the client is gone."""
        if self._worker is not None:
            self._worker.cancel()
        super().callback_disconnected(exc)


def _function_code(frame: bytes) -> int:
    return frame[_MBAP_BYTES] if len(frame) > _MBAP_BYTES else 0


class PipelinedTcpServer(ModbusTcpServer):
    """``ModbusTcpServer`` whose connections use :class:`PipelinedHandler`.

    Parameters
    ----------
    context : pymodbus device or context
        As for ``ModbusTcpServer``.
    unit_id : int
        The only unit id answered; others get exception 0x0B.
    **kwargs
        Passed to ``ModbusTcpServer`` (``address``...).
    """

    def __init__(self, context: Any, *, unit_id: int, **kwargs: Any) -> None:
        super().__init__(context, **kwargs)
        self.unit_id = unit_id

    def callback_new_connection(self) -> PipelinedHandler:
        """A handler per connection."""
        return PipelinedHandler(self, self.trace_packet, self.trace_pdu, self.trace_connect)
