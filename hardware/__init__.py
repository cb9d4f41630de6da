"""The swappable device layer (simulated, Modbus TCP, MQTT batteries)."""
