"""The two consoles every command prints to: results on stdout, progress and notices on stderr."""

from rich.console import Console
from rich.progress import ProgressColumn
from rich.text import Text

out = Console()
err = Console(stderr=True)


class Count(ProgressColumn):
    """``done/total`` with thousands separators, then the task's ``unit`` field (blank for a task of unknown length)."""

    def render(self, task) -> Text:
        if task.total is None:
            return Text("")
        return Text(f"{task.completed:,.0f}/{task.total:,.0f} {task.fields.get('unit', '')}".rstrip(),
                    style="progress.download")
