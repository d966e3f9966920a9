"""The start-up snapshot: the SDK's own answers to the list calls, replayed at the next start.

Standard library only (the stdio front end, `stdio_front.py`, reads it before the SDK is
imported). While the real server runs, `Recorder` watches the stdio transport: for each
request of `SNAPSHOT_METHODS` the SDK answers with a result, it keeps the exact bytes of the
answer after the id, under a key made of the method, its params and what the answer may
depend on in the session (the client's whole `initialize` params on a handshake connection).
The file is keyed by everything else the answers may depend on (`snapshot_key`: our version
and source files, the installed distributions beside the SDK, Python, the command line's
store, zone and tool groups, the TODO_* environment) and written atomically to the user
cache dir, one file per key. Anything unexpected (unreadable file, key mismatch, an id that
is not a plain number or string) means: not used, the SDK answers.

resources/list is not in it: it lists the pending tasks (the store's content).
`TODO_SNAPSHOT=0` turns the whole mechanism off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from typing import Any

SNAPSHOT_METHODS = frozenset(
    {"initialize", "tools/list", "resources/templates/list", "prompts/list", "server/discover"}
)
"""The requests answered from the snapshot: their answers depend on nothing but the key."""
MODERN_KEY = "io.modelcontextprotocol/protocolVersion"
"""The `_meta` key that marks a 2026-07-28 request (the SDK's `_has_modern_envelope`)."""
FORMAT = 1
MAX_ANSWERS = 64
"""Answers kept per file (each client version's `initialize` params make new ones): the oldest go."""
MAX_FILES = 16
"""Snapshot files kept in the cache dir (every edit of a checkout makes a new key): the oldest go."""
LINE_START = b'{"jsonrpc":"2.0","id":'


def enabled(environ: dict[str, str] | os._Environ[str]) -> bool:
    """Whether the snapshot is used and written (`TODO_SNAPSHOT=0` turns it off; Windows never)."""
    return sys.platform != "win32" and environ.get("TODO_SNAPSHOT", "1").strip().lower() not in (
        "0",
        "false",
        "no",
        "off",
    )


def cache_dir(environ: dict[str, str] | os._Environ[str]) -> str:
    """The user cache dir of mcp-server-todo, as platformdirs computes it (without its import cost)."""
    home = os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "mcp-server-todo")
    base = environ.get("XDG_CACHE_HOME", "").strip()
    return os.path.join(base if os.path.isabs(base) else os.path.join(home, ".cache"), "mcp-server-todo")


def snapshot_key(settings: dict[str, Any], environ: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    """Everything outside the session the answers may depend on; `settings` are the serve options."""
    from .. import __version__

    return {
        "format": FORMAT,
        "package": __version__,
        "source": _source_stamp(),
        "distributions": _distributions(),
        "python": sys.version,
        "settings": settings,
        "env": {name: value for name, value in sorted(environ.items()) if name.startswith("TODO_")},
    }


def _source_stamp() -> str:
    """A hash of our package's .py files (path, mtime, size): an edited checkout never serves old lists."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}:{info.st_mtime_ns}:{info.st_size}\n".encode())
    return digest.hexdigest()


def _distributions() -> list[str]:
    """The .dist-info names where the SDK is installed: their versions (mcp, pydantic, ...) in one listdir."""
    import importlib.util

    spec = importlib.util.find_spec("mcp")
    if spec is None or not spec.submodule_search_locations:
        return []
    site = os.path.dirname(next(iter(spec.submodule_search_locations)))
    return sorted(name for name in os.listdir(site) if name.endswith(".dist-info"))


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def plain_id(request_id: Any) -> bytes | None:
    """The id as the SDK writes it, for the ids whose spelling is sure (numbers, plain ASCII text)."""
    if isinstance(request_id, int) and not isinstance(request_id, bool):
        return str(request_id).encode()
    if isinstance(request_id, str) and all(" " <= c <= "~" and c not in '"\\' for c in request_id):
        return f'"{request_id}"'.encode()
    return None


class Session:
    """What a request's answer may depend on in this connection: its era and, on a handshake
    connection, the client's `initialize` params. The first request decides, as in the SDK."""

    def __init__(self) -> None:
        self.era: str | None = None  # "legacy", "modern", or "none" (nothing is keyed)
        self.init_params: str = ""

    def key_of(self, message: dict[str, Any]) -> str | None:
        """The snapshot key of a request (None: not a snapshot request, or in doubt); notes the era."""
        method, params = message.get("method"), message.get("params")
        if "id" not in message or not isinstance(method, str):
            return None
        modern = isinstance(params, dict) and isinstance(params.get("_meta"), dict) and MODERN_KEY in params["_meta"]
        if self.era is None:
            if method == "initialize":
                self.era, self.init_params = "legacy", canonical(params)
            else:
                self.era = "modern" if modern else "none"
        elif method == "initialize":
            return None
        if method not in SNAPSHOT_METHODS or self.era == "none" or modern != (self.era == "modern"):
            return None
        return canonical([self.era, self.init_params, method, params])


class Snapshot:
    """The answers of one key: request key -> the bytes of the answer line after its id."""

    def __init__(self, key: dict[str, Any], environ: dict[str, str] | os._Environ[str]) -> None:
        self.key = key
        self.path = os.path.join(
            cache_dir(environ), "snapshot-" + hashlib.sha256(canonical(key).encode()).hexdigest()[:24] + ".json"
        )
        self.answers: dict[str, str] = {}

    def load(self) -> Snapshot:
        """Read the file; anything unexpected leaves it empty (the SDK answers, the file is rewritten)."""
        try:
            with open(self.path, encoding="utf-8") as file:
                data = json.load(file)
        except (OSError, ValueError):
            return self
        if isinstance(data, dict) and data.get("key") == self.key and isinstance(data.get("answers"), dict):
            self.answers = {k: v for k, v in data["answers"].items() if isinstance(v, str)}
        return self

    def answer(self, request_key: str, request_id: Any) -> bytes | None:
        """The whole answer line (no newline) for this request, or None."""
        tail = self.answers.get(request_key)
        spelled = plain_id(request_id)
        if tail is None or spelled is None:
            return None
        return LINE_START + spelled + tail.encode("utf-8")

    def save(self) -> None:
        """Write the file atomically (a temporary file renamed over it); a failure only loses the speed-up."""
        folder = os.path.dirname(self.path)
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(folder, exist_ok=True)
            with open(temporary, "w", encoding="utf-8") as file:
                json.dump({"key": self.key, "answers": self.answers}, file, ensure_ascii=True)
            os.replace(temporary, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            return
        _prune(folder, self.path)


def _prune(folder: str, kept: str) -> None:
    """Remove the oldest snapshot files beyond `MAX_FILES` (never `kept`)."""
    with contextlib.suppress(OSError):
        names = [os.path.join(folder, n) for n in os.listdir(folder) if n.startswith("snapshot-")]
        if len(names) <= MAX_FILES:
            return
        aged = sorted((os.stat(path).st_mtime_ns, path) for path in names if path != kept)
        for _, path in aged[: len(names) - MAX_FILES]:
            with contextlib.suppress(OSError):
                os.unlink(path)


class Recorder:
    """Keeps the SDK's answers to snapshot requests as the stdio transport sees them go by."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.session = Session()
        self._asked: dict[Any, str | None] = {}

    def asked(self, message: dict[str, Any]) -> None:
        """A message read from the client (call for every valid one, in order)."""
        if "id" not in message or "method" not in message:
            return
        key = self.session.key_of(message)
        request_id = message["id"]
        if plain_id(request_id) is None:
            return
        # an id asked twice before its answer: keep neither (in doubt)
        self._asked[request_id] = None if request_id in self._asked else key

    def answered(self, request_id: Any, line: bytes) -> None:
        """A result line written to the client (without its newline); saves the file when it learns something."""
        if request_id not in self._asked:
            return
        key = self._asked.pop(request_id)
        spelled = plain_id(request_id)
        start = LINE_START + (spelled or b"")
        if key is None or spelled is None or not line.startswith(start + b',"result":'):
            return
        tail = line[len(start) :].decode("utf-8")
        answers = self.snapshot.answers
        if answers.get(key) != tail:
            answers.pop(key, None)  # the newest last: the oldest are dropped first
            answers[key] = tail
            while len(answers) > MAX_ANSWERS:
                del answers[next(iter(answers))]
            self.snapshot.save()

    def drop(self, request_id: Any) -> None:
        """An error answer: nothing to keep."""
        self._asked.pop(request_id, None)
