"""Progress bars for the long commands (import, export, backup, restore, the undo of an import),
on stderr, only when stderr is a terminal; `--quiet` hides them. Rich is imported only when a
bar is drawn.

The API, for the command modules::

    from .progress import progress_bar, reading

    with progress_bar("Undoing", quiet=quiet) as report:
        undone = service.undo(steps, progress=report)           # service/tasks.py

    with progress_bar("Exporting", quiet=quiet) as report:
        transfer.export(fmt, out, project=project, progress=report)   # service/transfer.py

    with progress_bar("Backing up", quiet=quiet) as report:
        manual(db, path, progress=report)                        # store/backup.py (restore too)

    with progress_bar("Importing", quiet=quiet) as report, open(path, encoding="utf-8") as file:
        transfer.import_lines(reading(file, os.fstat(file.fileno()).st_size, report), fmt, ...)

`report(done, total)` is a `Callable[[int, int], None]`; a total of 0 means "not known yet"
(the bar then pulses). The bar appears with the first report (an undo of a few tasks reports
nothing, shows nothing and loads no Rich), and it is transient: it is gone when the block
ends, and the command prints its one summary line ("Undid the import of 200,000 tasks") on
stdout as usual. Where no bar is
drawn (`quiet`, stderr piped or redirected to a file), `report` does nothing and nothing at
all is written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

Report = Callable[[int, int], None]
"""`report(done, total)`: how far the work is; total 0 when it is not known yet."""

READ_EVERY = 512
"""`reading` reports once every this many lines (a bar redraws ten times a second anyway)."""


def _ignore(done: int, total: int) -> None:
    """The report where no bar is drawn."""


def shown(quiet: bool = False, stream: IO[str] | None = None) -> bool:
    """Whether a bar is drawn: not `quiet`, and `stream` (stderr) is a terminal."""
    target = sys.stderr if stream is None else stream
    try:
        return not quiet and target.isatty()
    except (AttributeError, ValueError):  # closed, or not a real file
        return False


@contextmanager
def progress_bar(label: str, *, quiet: bool = False, stream: IO[str] | None = None) -> Iterator[Report]:
    """A transient progress bar on `stream` (stderr) labelled `label`, when `shown`; yields
    the `report(done, total)` to hand to the service. The bar (and Rich) starts with the first
    report: work that reports nothing (a small undo) draws nothing."""
    if not shown(quiet, stream):
        yield _ignore
        return
    bar = _LazyBar(label, sys.stderr if stream is None else stream)
    try:
        yield bar.report
    finally:
        bar.close()


class _LazyBar:
    """A Rich progress bar started by its first report."""

    def __init__(self, label: str, stream: IO[str]) -> None:
        self.label = label
        self.stream = stream
        self.progress: Any = None
        self.job: Any = None

    def report(self, done: int, total: int) -> None:
        if self.progress is None:
            self.progress, self.job = self._start()
        self.progress.update(self.job, completed=done, total=total or None)

    def _start(self) -> tuple[Any, Any]:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(file=self.stream, highlight=False)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        progress = Progress(*columns, console=console, transient=True)
        progress.start()
        return progress, progress.add_task(self.label, total=None)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def reading(lines: Iterable[str], size: int, report: Report) -> Iterator[str]:
    """`lines` (of a file of `size` bytes) passed through, `report`ing how much was read:
    characters against bytes, exact for ASCII (the last report says all was read)."""
    read = 0
    for count, line in enumerate(lines, 1):
        read += len(line)
        if count % READ_EVERY == 0:
            report(min(read, size), size)
        yield line
    report(size, size)
