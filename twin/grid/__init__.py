"""Grid services: frequency monitoring, the FCR droop, connection constraints."""
