"""The edge: the bess-twin CLI (composition root) and, later, the REST API."""
