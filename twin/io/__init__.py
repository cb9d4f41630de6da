"""The I/O edge: price files, downloads, market feeds, SQLite stores and the HTTP session.

Everything that reads or writes a file, a database or the network, translating
vendor formats into the domain's names and units (pvlib.iotools' pattern). The
domain topics (physics, forecast, ems, markets, backtest) never import this
package, nor ``requests``, ``sqlite3`` or ``yaml`` (import-linter contract).
"""
