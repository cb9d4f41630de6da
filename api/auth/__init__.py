"""Authentication: users and device keys (argon2 hashes in SQLite), access tokens (JWT)."""
