"""Markets: day-ahead auction clearing."""
