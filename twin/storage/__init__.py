"""Storage of run state (SQLite)."""
