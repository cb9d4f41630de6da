"""Modbus TCP: the device client, the register maps (YAML profiles) and a simulated-battery server."""
