"""The two consoles every command prints to: results on stdout, progress and notices on stderr."""

from rich.console import Console

out = Console()
err = Console(stderr=True)
