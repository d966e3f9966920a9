"""What an import did, item by item: `Outcome` and `ImportReport` (see `transfer.py`), and
the lines a reader should see of it (the MCP tool and the command line both show them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..render import one_line

DETAIL_MAX = 1000
"""Per-item outcomes kept in a report; the counts cover everything."""
Action = Literal["added", "updated", "skipped", "problem"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one item of the file."""

    line: int
    action: Action
    title: str = ""
    id: int | None = None
    reason: str = ""


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do): counts, and item by item why."""

    format: str
    dry_run: bool
    added: int = 0
    updated: int = 0
    skipped: int = 0
    problems: int = 0
    items: list[Outcome] = field(default_factory=list)
    """The outcome of each item, in file order: the first `DETAIL_MAX` (problems, skips
    and warnings say why in `reason`)."""
    omitted: int = 0
    """Outcomes beyond `DETAIL_MAX`, counted only."""
    omitted_notable: int = 0
    """Of those, the ones a reader should have seen (`notable`): what "(and N more)" counts."""

    def note(self, outcome: Outcome) -> None:
        if outcome.action == "problem":
            self.problems += 1
        else:
            setattr(self, outcome.action, getattr(self, outcome.action) + 1)
        if len(self.items) < DETAIL_MAX:
            self.items.append(outcome)
        else:
            self.omitted += 1
            self.omitted_notable += notable(outcome)

    def summary(self) -> str:
        verb = "Would import" if self.dry_run else "Imported"
        counts = f"{self.added} added, {self.updated} updated, {self.skipped} skipped"
        problems = f", {self.problems} problem{'s' if self.problems != 1 else ''}" if self.problems else ""
        return f"{verb} ({self.format}): {counts}{problems}" + (
            " (dry run: nothing was changed)" if self.dry_run else ""
        )


def without_id(item: Outcome) -> Outcome:
    """A dry run's added task has no id (the ids it would take were given back)."""
    return Outcome(item.line, item.action, item.title, None, item.reason)


def report_lines(report: ImportReport, limit: int) -> list[str]:
    """The outcomes a reader should see: problems, skips other than "unchanged", warnings."""
    shown = [item for item in report.items if notable(item)]
    lines = [_outcome_line(item) for item in shown[:limit]]
    more = len(shown) - len(lines) + report.omitted_notable  # a quiet big import has none
    if more > 0:
        lines.append(f"(and {more} more)")
    return lines


def notable(item: Outcome) -> bool:
    """A problem, a skip other than "unchanged", or a warning: what a reader should see."""
    return item.action == "problem" or item.reason not in ("", "unchanged")


def _outcome_line(item: Outcome) -> str:
    what = item.action if item.id is None else f"{item.action} #{item.id}"
    title = f" {one_line(item.title)}" if item.title else ""
    return f"line {item.line}: {what}{title}: {item.reason}"
