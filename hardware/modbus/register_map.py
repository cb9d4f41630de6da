"""Modbus register maps as data: one YAML profile per device type.

A profile names, for each canonical quantity (``soc``, ``power``,
``temperature``, ``setpoint`` and optionally ``heartbeat``), the register that
holds it: address, type (``u16``, ``s16``, ``u32``, ``s32``, ``f32``), scale,
word order, unit and access. Vendor units and signs are translated here and
nowhere else: inside the product SoC is a fraction, power is in kW and positive
discharges.

``physical = raw * scale`` in the register's unit; then the unit is converted
(``%`` to fraction, ``W``/``MW`` to kW) and, for profiles that count charging
positive, the sign flipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator
from pymodbus.client import ModbusTcpClient

from hardware.errors import ProfileError
from hardware.units import UNITS, Quantity, from_canonical, to_canonical
from twin.config.base import FrozenModel

RegisterType = Literal["u16", "s16", "u32", "s32", "f32"]

_DATATYPE = {
    "u16": ModbusTcpClient.DATATYPE.UINT16,
    "s16": ModbusTcpClient.DATATYPE.INT16,
    "u32": ModbusTcpClient.DATATYPE.UINT32,
    "s32": ModbusTcpClient.DATATYPE.INT32,
    "f32": ModbusTcpClient.DATATYPE.FLOAT32,
}
_RANGE = {"u16": (0, 2**16 - 1), "s16": (-(2**15), 2**15 - 1), "u32": (0, 2**32 - 1),
          "s32": (-(2**31), 2**31 - 1)}

_REQUIRED: tuple[Quantity, ...] = ("soc", "power", "temperature", "setpoint")


class RegisterSpec(FrozenModel):
    """One quantity's register(s)."""

    address: int = Field(ge=0, le=65535)
    type: RegisterType
    scale: float = Field(1.0, description="physical = raw * scale, in `unit`")
    unit: str
    word_order: Literal["big", "little"] = "big"
    access: Literal["r", "rw"] = "r"

    @property
    def words(self) -> int:
        """Number of 16-bit registers."""
        return 1 if self.type in ("u16", "s16") else 2

    @model_validator(mode="after")
    def _check_scale(self) -> RegisterSpec:
        if self.scale == 0 or not math.isfinite(self.scale):
            raise ValueError(f"scale must be a finite non-zero number, got {self.scale}")
        return self


class DeviceProfile(FrozenModel):
    """A device type's register map.

    Attributes
    ----------
    name : str
    description : str
    function : {"holding", "input"}
        Register table the readable quantities are read from.
    discharge_positive : bool
        The device counts discharge as positive power (else charge is positive).
    registers : dict of quantity to RegisterSpec
    """

    name: str
    description: str = ""
    function: Literal["holding", "input"] = "holding"
    discharge_positive: bool = True
    registers: dict[Quantity, RegisterSpec]

    @model_validator(mode="after")
    def _check_map(self) -> DeviceProfile:
        missing = [q for q in _REQUIRED if q not in self.registers]
        if missing:
            raise ValueError(f"registers: missing {', '.join(missing)}; every profile needs "
                             f"{', '.join(_REQUIRED)}")
        for quantity, reg in self.registers.items():
            if reg.unit not in UNITS[quantity]:
                raise ValueError(f"registers.{quantity}.unit = {reg.unit!r}; allowed: "
                                 f"{', '.join(UNITS[quantity])}")
        if self.registers["setpoint"].access != "rw":
            raise ValueError("registers.setpoint.access must be 'rw' (the EMS writes it)")
        taken: dict[int, str] = {}
        for quantity, reg in self.registers.items():
            for address in range(reg.address, reg.address + reg.words):
                if address in taken:
                    raise ValueError(f"registers.{quantity} overlaps registers.{taken[address]} "
                                     f"at address {address}")
                taken[address] = quantity
        return self

    def read_span(self) -> tuple[int, int]:
        """First address and count of one read that covers every quantity."""
        first = min(r.address for r in self.registers.values())
        last = max(r.address + r.words for r in self.registers.values())
        return first, last - first

    def _sign(self, quantity: str) -> float:
        return -1.0 if quantity in ("power", "setpoint") and not self.discharge_positive else 1.0

    def decode(self, quantity: Quantity, words: Sequence[int]) -> float:
        """Canonical value (fraction, kW, °C, count) of a quantity from its registers.

        Parameters
        ----------
        quantity : str
        words : list of int
            Exactly ``registers[quantity].words`` 16-bit values.
        """
        reg = self.registers[quantity]
        raw = ModbusTcpClient.convert_from_registers(
            list(words), _DATATYPE[reg.type], word_order=reg.word_order
        )
        return to_canonical(quantity, float(raw) * reg.scale, reg.unit) * self._sign(quantity)  # type: ignore[arg-type]

    def decode_block(self, first: int, words: Sequence[int]) -> dict[str, float]:
        """Decode every quantity from a block of registers read from ``first``."""
        out: dict[str, float] = {}
        for quantity, reg in self.registers.items():
            offset = reg.address - first
            out[quantity] = self.decode(quantity, words[offset : offset + reg.words])
        return out

    def encode(self, quantity: Quantity, value: float) -> list[int]:
        """Registers that hold the canonical ``value`` of a quantity.

        Raises
        ------
        ValueError
            If ``value`` is not finite or does not fit the register type; the
            message names the quantity, the value and the register's range.
        """
        if not math.isfinite(value):
            raise ValueError(f"{quantity}: cannot encode {value}")
        reg = self.registers[quantity]
        raw = from_canonical(quantity, value * self._sign(quantity), reg.unit) / reg.scale
        if reg.type == "f32":
            return ModbusTcpClient.convert_to_registers(
                float(raw), _DATATYPE[reg.type], word_order=reg.word_order
            )
        low, high = _RANGE[reg.type]
        as_int = round(raw)
        if not low <= as_int <= high:
            raise ValueError(
                f"{quantity} = {value} needs raw value {as_int}, outside the {reg.type} range "
                f"[{low}, {high}] of register {reg.address}"
            )
        return ModbusTcpClient.convert_to_registers(
            as_int, _DATATYPE[reg.type], word_order=reg.word_order
        )


def profile_names() -> list[str]:
    """Names of the profiles shipped under ``hardware/profiles/``."""
    folder = resources.files("hardware.profiles")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_profile(name_or_path: str | Path) -> DeviceProfile:
    """Load a shipped profile by name, or any profile YAML by path.

    Raises
    ------
    ProfileError
        If the profile does not exist or is malformed (naming the key and the fix).
    """
    text_path = Path(name_or_path)
    if text_path.suffix in (".yaml", ".yml") or text_path.is_file():
        if not text_path.is_file():
            raise ProfileError(f"Modbus profile file not found: {text_path}")
        text, source = text_path.read_text(encoding="utf-8"), str(text_path)
    else:
        resource = resources.files("hardware.profiles") / f"{name_or_path}.yaml"
        if not resource.is_file():
            raise ProfileError(
                f"unknown Modbus profile {name_or_path!r}; shipped: {', '.join(profile_names())}, "
                "or give a path to a YAML file"
            )
        text, source = resource.read_text(encoding="utf-8"), f"profile {name_or_path}"
    try:
        return DeviceProfile.model_validate(yaml.safe_load(text))
    except ValidationError as err:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in err.errors(include_url=False)
        )
        raise ProfileError(f"{source}: {details}") from None
    except yaml.YAMLError as err:
        raise ProfileError(f"{source}: not valid YAML: {err}") from None
