"""Live-mode services (site, market, market feed) and the loop that drives them on the wall clock."""
