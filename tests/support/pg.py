"""A throwaway PostgreSQL cluster for the tests: one per test session, started by the
session-scoped `postgres_url` fixture (conftest.py), stopped and removed at the end.

initdb and pg_ctl are found on PATH or in Debian's /usr/lib/postgresql/*/bin. The cluster
runs as an unprivileged user (as root, which CI is: the `postgres` user Debian's package
creates, else `nobody`), listens only on a Unix socket in its own temporary directory (no
TCP port, nothing shared with other clusters), and trusts local connections. The tests
connect as `todo_app`, an ordinary role (no superuser, no BYPASSRLS) that owns the `todo`
database, exactly as a deployment should; every test that needs a clean store gets its own
schema (`schema_url`).

No server that can be started means the PostgreSQL tests are skipped, loudly (the reason is
repeated in the terminal summary), unless TODO_REQUIRE_POSTGRES=1 (CI), which makes them fail.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

# read at import: the autouse `isolated_env` fixture removes TODO_* variables for each test
REQUIRED = os.environ.get("TODO_REQUIRE_POSTGRES") == "1"
BINDIR = os.environ.get("TODO_PG_BINDIR")
ADMIN = "todo_admin"
APP_ROLE = "todo_app"
DATABASE = "todo"
PORT = 5432  # only names the socket file inside our private directory

SKIPPED: list[str] = []
"""Why the PostgreSQL tests were skipped (reported in the terminal summary)."""
RUNNING: list[Cluster] = []
"""The session's cluster while it runs (tests that need its superuser or its version)."""


class Unavailable(Exception):
    """No PostgreSQL server can be started here."""


@dataclass
class Cluster:
    root: Path
    bindir: Path
    run_as: str | None
    version: str = ""
    started: bool = False

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, user: str = APP_ROLE, dbname: str = DATABASE) -> str:
        return f"postgresql://{user}@/{dbname}?host={quote(str(self.root), safe='/')}&port={PORT}"

    @property
    def app_url(self) -> str:
        return self.url()

    @property
    def admin_url(self) -> str:
        """A superuser (for tests that show such roles are refused)."""
        return self.url(ADMIN, "postgres")

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=timeout, check=False)

    def stop(self) -> None:
        if self.started:
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: TODO_PG_BINDIR, PATH, or the newest Debian version."""
    candidates: list[Path] = []
    if BINDIR:  # only there (also a way to see the skip: TODO_PG_BINDIR=/nonexistent)
        return Path(BINDIR) if (Path(BINDIR) / "pg_ctl").is_file() and (Path(BINDIR) / "initdb").is_file() else None
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = [p for p in debian.iterdir() if re.fullmatch(r"\d+(\.\d+)?", p.name)]
        candidates += [p / "bin" for p in sorted(versions, key=lambda p: float(p.name), reverse=True)]
    for candidate in candidates:
        if (candidate / "pg_ctl").is_file() and (candidate / "initdb").is_file():
            return candidate
    return None


def _unprivileged_user() -> str | None:
    """None when we are not root (the cluster runs as us), else a user that may run postgres."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd  # POSIX only, as is running as root

    if shutil.which("runuser") is None:
        raise Unavailable("running as root and runuser (util-linux) is missing, so initdb cannot run unprivileged")
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise Unavailable("running as root and there is neither a 'postgres' nor a 'nobody' user to run the server")


def start() -> Cluster:
    """initdb, start, create the app role and database; raises Unavailable with the reason."""
    try:
        import psycopg
    except ImportError as exc:
        raise Unavailable(f"psycopg is not installed ({exc}); pip install -e '.[postgres]'") from exc
    bindir = find_bindir()
    if bindir is None:
        raise Unavailable(
            "initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
        )
    run_as = _unprivileged_user()
    root = Path(tempfile.mkdtemp(prefix="todo-pg-", dir="/tmp" if Path("/tmp").is_dir() else None))
    cluster = Cluster(root=root, bindir=bindir, run_as=run_as)
    atexit.register(cluster.stop)
    try:
        if run_as is not None:
            import pwd

            entry = pwd.getpwnam(run_as)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        init = cluster.run(
            "initdb", "-D", str(cluster.data), "-U", ADMIN, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"
        )
        if init.returncode != 0:
            raise Unavailable(f"initdb failed ({bindir}): {(init.stderr or init.stdout).strip()[-800:]}")
        settings = {
            "listen_addresses": "''",
            "unix_socket_directories": f"'{root}'",
            "port": str(PORT),
            "max_connections": "200",
            "shared_buffers": "32MB",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "log_min_messages": "warning",
        }
        with (cluster.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("".join(f"{key} = {value}\n" for key, value in settings.items()))
        log = root / "server.log"
        started = cluster.run("pg_ctl", "-D", str(cluster.data), "-l", str(log), "-w", "-t", "60", "start")
        if started.returncode != 0:
            tail = log.read_text("utf-8", "replace")[-800:] if log.exists() else ""
            raise Unavailable(f"pg_ctl start failed: {(started.stderr or started.stdout).strip()[-400:]} {tail}")
        cluster.started = True
        with psycopg.connect(cluster.admin_url, autocommit=True) as admin:
            cluster.version = str(admin.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            admin.execute(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
            admin.execute(f"CREATE DATABASE {DATABASE} OWNER {APP_ROLE}")
        return cluster
    except BaseException:
        cluster.stop()
        raise


def session_cluster() -> Iterator[Cluster]:
    """For the session fixture: the cluster, or a loud skip (a failure when it is required)."""
    try:
        cluster = start()
    except (Unavailable, OSError, subprocess.SubprocessError) as exc:
        reason = f"no PostgreSQL server could be started: {exc}"
        if REQUIRED:
            pytest.fail(f"TODO_REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
        SKIPPED.append(reason)
        pytest.skip(f"PostgreSQL tests SKIPPED: {reason}")
    RUNNING.append(cluster)
    try:
        yield cluster
    finally:
        RUNNING.remove(cluster)
        cluster.stop()


def with_options(url: str, **settings: str) -> str:
    """`url` with server settings for every connection (libpq `options=-c name=value`)."""
    options = " ".join(f"-c {name}={value}" for name, value in settings.items())
    return f"{url}&options={quote(options, safe='')}"


@contextlib.contextmanager
def schema_url(base_url: str) -> Iterator[str]:
    """A URL whose connections work in a new, empty schema (dropped afterwards)."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    try:
        yield with_options(base_url, search_path=name)
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")
