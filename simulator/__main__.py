"""``python -m simulator`` is the ``remnant`` command."""

from simulator.cli import main

main()
