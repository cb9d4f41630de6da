"""Modbus register profiles: one YAML file per device type (see ``hardware.register_map``)."""
