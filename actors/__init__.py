"""Ray actors (site, market, forecast) around plain service classes, and the runtimes that drive them."""
