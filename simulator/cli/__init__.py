"""The ``remnant`` command line (``simulator.cli.app``); no library module imports it."""
