"""Markets: orders, pre-trade checks, matching engine, journal, auction, feeds, venues."""
