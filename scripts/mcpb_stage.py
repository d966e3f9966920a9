"""Lay out the Claude Desktop bundle's files in a clean directory, for `mcpb pack`
(scripts/build-mcpb). Only what the bundle needs, from an allow-list, never from the work tree
at large (no .venv, tests, bench, .node):

    manifest.json, icon.png   from packaging/mcpb/
    pyproject.toml            ours, less the optional dependencies and the tools' settings: uv
                              installs the base dependencies only, so the GPL Radicale (the
                              caldav extra) can never be in it, and has nothing else to resolve
    README.md, LICENSE*       the package metadata points at them
    src/mcp_server_todo/      the package, without caches

The manifest's version must be the package's (pyproject.toml is the one source; a test and this
script check it). Standard library only.

    python scripts/mcpb_stage.py DEST       (DEST must not exist or be empty)
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGING = REPO / "packaging" / "mcpb"
_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEPT_TOOL_TABLES = ("tool.setuptools",)  # what building the package needs


class StageError(Exception):
    """A problem with the repository's files that stops the bundle being built."""


def bundle_pyproject(text: str) -> str:
    """`text` (a pyproject.toml) without [project.optional-dependencies] and without [tool.*]
    tables other than setuptools'. Line-based: a TOML table runs from its header to the next."""
    kept: list[str] = []
    keep = True
    for line in text.splitlines():
        header = _TABLE.match(line)
        if header:
            name = header.group(1)
            dropped_tool = name.startswith("tool.") and not name.startswith(_KEPT_TOOL_TABLES)
            keep = name != "project.optional-dependencies" and not dropped_tool
        if keep:
            kept.append(line)
    result = "\n".join(kept).rstrip() + "\n"
    tomllib.loads(result)  # still TOML
    return result


def check_versions(repo: Path = REPO) -> str:
    """The package version, when the manifest carries the same one; else a StageError."""
    package = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    manifest = json.loads((repo / "packaging" / "mcpb" / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("version") != package:
        raise StageError(
            f"packaging/mcpb/manifest.json has version {manifest.get('version')!r} but pyproject.toml has "
            f"{package!r}: set the manifest's (and server.json's) version to {package!r}"
        )
    return str(package)


def stage(dest: Path, repo: Path = REPO) -> list[Path]:
    """Copy the bundle's files into `dest`; the files written, relative to it."""
    check_versions(repo)
    if dest.exists() and any(dest.iterdir()):
        raise StageError(f"{dest} is not empty: stage into a new directory")
    dest.mkdir(parents=True, exist_ok=True)
    packaging = repo / "packaging" / "mcpb"
    for name in ("manifest.json", "icon.png"):
        shutil.copy2(packaging / name, dest / name)
    pyproject = bundle_pyproject((repo / "pyproject.toml").read_text(encoding="utf-8"))
    (dest / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    for path in [repo / "README.md", *sorted(repo.glob("LICENSE*"))]:
        if path.is_file():
            shutil.copy2(path, dest / path.name)
    shutil.copytree(
        repo / "src" / "mcp_server_todo",
        dest / "src" / "mcp_server_todo",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"),
    )
    return sorted(path.relative_to(dest) for path in dest.rglob("*") if path.is_file())


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: mcpb_stage.py DEST", file=sys.stderr)
        return 2
    try:
        files = stage(Path(argv[0]))
    except (StageError, OSError, KeyError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        print(f"mcpb_stage: error: {exc}", file=sys.stderr)
        return 1
    print(f"mcpb_stage: {len(files)} files in {argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
