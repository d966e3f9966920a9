"""Client setup: `install CLIENT` and `doctor` (being written)."""

from __future__ import annotations


def install_command(client: str, *, config: str | None, name: str, db: str | None, print_only: bool) -> int:
    raise NotImplementedError


def doctor_command(*, db: str | None, configs: list[str]) -> int:
    raise NotImplementedError
