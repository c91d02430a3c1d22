"""``python -m simulator`` is the ``remnant`` command."""

from simulator.cli.app import main

main()
