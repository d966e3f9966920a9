"""Make a packed .mcpb reproducible (scripts/build-mcpb runs it after `mcpb pack`).

`mcpb pack` stamps every zip entry with the time of the build (fflate's `mtime: new Date()`, in
@anthropic-ai/mcpb 2.1.2's src/cli/pack.ts), so two builds of one commit differ and a published
sha256 (the MCP Registry's `fileSha256`) cannot be checked by rebuilding. This rewrites the
archive with the same entries in the same order and contents, one fixed time ($SOURCE_DATE_EPOCH
when set, as reproducible-builds.org has it, else 1980-01-01 00:00 UTC) and the permissions a
checkout's umask does not change (0755 for an executable, else 0644).
Standard library only.

    python scripts/mcpb_normalize.py dist/mcp-server-todo.mcpb
"""

from __future__ import annotations

import os
import sys
import time
import zipfile
from pathlib import Path

DOS_EPOCH = 315532800
"""1980-01-01 00:00:00 UTC: the earliest time a zip entry can hold."""


def fixed_time(environ: dict[str, str] | os._Environ[str] = os.environ) -> tuple[int, int, int, int, int, int]:
    """The entries' time: SOURCE_DATE_EPOCH (UTC, not before 1980), else 1980-01-01 00:00."""
    text = environ.get("SOURCE_DATE_EPOCH", "").strip()
    epoch = max(int(text), DOS_EPOCH) if text.isdigit() else DOS_EPOCH
    return time.gmtime(epoch)[:6]


def normalize(bundle: Path, stamp: tuple[int, int, int, int, int, int] | None = None) -> None:
    """Rewrite `bundle` in place (a temp file, then replace) with every entry at `stamp`."""
    stamp = stamp or fixed_time()
    out = bundle.with_name(bundle.name + ".tmp")
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.create_system = 3  # Unix: external_attr's upper 16 bits are the file's mode
            mode = entry.external_attr >> 16
            info.external_attr = ((mode & ~0o777) | (0o755 if mode & 0o111 else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(entry), compresslevel=9)
    out.replace(bundle)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: mcpb_normalize.py BUNDLE.mcpb", file=sys.stderr)
        return 2
    try:
        normalize(Path(argv[0]))
    except (OSError, zipfile.BadZipFile) as exc:
        print(f"mcpb_normalize: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
