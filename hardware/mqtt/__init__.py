"""MQTT: the device client, the JSON envelope and topics, a simulated battery, and brokers."""
