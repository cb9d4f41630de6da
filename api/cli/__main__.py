"""``python -m api.cli``: the bess-twin command line (used to start live-mode children)."""

from api.cli import main

main()
