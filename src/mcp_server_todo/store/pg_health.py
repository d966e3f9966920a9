"""The health of a PostgreSQL store for `doctor`: it opens (the password never printed), its
schema version against this release's migrations, the task counts, and backup advice
(pg_dump). The driver is not imported here: `open_store` does that, politely."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import TodoError
from .health import FAIL, OK, WARN, Check, task_counts

if TYPE_CHECKING:
    from .postgres import PostgresStore


def check_url(url: str) -> list[Check]:
    """Open (and migrate) a PostgreSQL store: reachable, role without bypass, schema, counts."""
    from . import open_store

    shown = url.split("@")[-1]  # never print a password
    try:
        store = open_store(url)
    except TodoError as exc:
        hint = "check the URL, that the server runs, and that the role may connect (install mcp-server-todo[postgres])"
        return [Check(FAIL, "store opens", str(exc), hint)]
    checks = [Check(OK, "store", f"postgresql://...@{shown}"), Check(OK, "store opens", "yes")]
    try:
        checks += store.health()
    finally:
        store.close()
    return checks


def health(store: PostgresStore) -> list[Check]:
    """Schema, task counts and backups of an open PostgreSQL store; a failure is the last check."""
    from .pg_migrations import PG_MIGRATIONS

    checks: list[Check] = []
    try:
        version = store.schema_version()
        latest = PG_MIGRATIONS[-1][0]
        state = "current" if version == latest else f"this release knows up to {latest}"
        checks += [Check(OK if version <= latest else WARN, "store schema", f"version {version} ({state})")]
        checks.append(task_counts(store))
        checks.append(backup_check())
    except TodoError as exc:
        checks.append(Check(FAIL, "store", f"cannot be read: {exc}"))
    return checks


def backup_check() -> Check:
    return Check(OK, "backups", "PostgreSQL: take them with pg_dump -Fc, restore with pg_restore (docs/deploy.md)")
