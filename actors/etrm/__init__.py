"""ETRM services as actors: risk, credit, billing and grid, each a plain domain service behind a Ray actor."""
