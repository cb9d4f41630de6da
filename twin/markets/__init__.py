"""Markets: products, the publication calendar, day-ahead clearing, imbalance settlement, indicators.

The internal exchange (orders, book, matching, pre-trade checks, the intraday
session, the journal format) is :mod:`twin.markets.exchange`; external venues
(EPEX day-ahead, APG schedules) are :mod:`twin.markets.venues`.
"""
