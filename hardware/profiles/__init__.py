"""Modbus register profiles: one YAML file per device type (see ``hardware.modbus.register_map``)."""
