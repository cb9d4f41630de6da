"""The internal exchange: orders, order book, matching engine, pre-trade checks, session, journal.

Pure: the journal's storage is injected (``twin.io.journal.SqliteJournal`` or
none, in memory), so nothing here touches a file.
"""
