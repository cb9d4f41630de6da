"""Errors of the hardware layer."""

from __future__ import annotations

from twin.errors import TwinError


class DeviceError(TwinError):
    """A device could not be reached, or refused a command."""


class ProfileError(TwinError, ValueError):
    """A Modbus register profile is malformed; the message names the key and the fix."""


class DeviceConnectionError(DeviceError):
    """The device did not answer (refused, reset, unreachable)."""

