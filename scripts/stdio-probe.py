"""A tiny MCP client over stdio, standard library only, for scripts/check-package: start the
command given after `--`, do the handshake, tools/list, one new_item call and (with --tools view
in its env) read the ui:// resource of the task view, then close its stdin. Exit 0 when every
answer is right, 1 with the reason on stderr otherwise.

    python3 scripts/stdio-probe.py [--view] -- COMMAND [ARGS...]

The server's settings come from the environment (TODO_DB, TODO_TOOLS), as a client's entry gives
them. Used on an installed wheel, a pipx install and a uvx-written entry: proof that the package
works outside the repository, its data files (ui/*.html) included.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

TIMEOUT_SECONDS = 60.0
CORE_TOOLS = {"list_items", "new_item", "complete_item", "update_item", "delete_item", "undo"}


class Probe:
    """One server process; `ask` sends a request and waits for its answer (notifications skipped)."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.next_id = 0

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def _read_reply(self, wanted: int, box: list[dict[str, Any]]) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            message = json.loads(line)
            if message.get("id") == wanted:
                box.append(message)
                return

    def ask(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}})
        box: list[dict[str, Any]] = []
        reader = threading.Thread(target=self._read_reply, args=(self.next_id, box), daemon=True)
        reader.start()
        reader.join(TIMEOUT_SECONDS)
        if not box:
            if not reader.is_alive():  # its stdout closed: it exited
                self.process.wait(TIMEOUT_SECONDS)
            raise SystemExit(f"stdio-probe: no answer to {method}{self._stderr()}")
        reply = box[0]
        if "error" in reply:
            raise SystemExit(f"stdio-probe: {method} failed: {reply['error']}")
        result: dict[str, Any] = reply["result"]
        return result

    def _stderr(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return f"; the server exited {self.process.returncode}: {self.process.stderr.read()[-2000:]}"

    def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            return self.process.wait(TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return -9


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        print(__doc__, file=sys.stderr)
        return 2
    view = "--view" in argv[: argv.index("--")]
    probe = Probe(argv[argv.index("--") + 1 :])
    hello = probe.ask(
        "initialize",
        {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "stdio-probe", "version": "0"}},
    )
    probe.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    names = {tool["name"] for tool in probe.ask("tools/list")["tools"]}
    missing = CORE_TOOLS - names
    if missing or (view and "show_tasks" not in names):
        raise SystemExit(f"stdio-probe: tools/list lacks {sorted(missing) or ['show_tasks']}: {sorted(names)}")
    made = probe.ask("tools/call", {"name": "new_item", "arguments": {"title": "probe the package"}})
    if made.get("isError") or "probe the package" not in json.dumps(made):
        raise SystemExit(f"stdio-probe: new_item failed: {made}")
    if view:
        page = probe.ask("resources/read", {"uri": "ui://todo/tasks.html"})["contents"][0]["text"]
        if "<html" not in page.lower():
            raise SystemExit("stdio-probe: the ui:// resource is not the task view's HTML")
    code = probe.close()
    if code != 0:
        raise SystemExit(f"stdio-probe: the server exited {code} when its stdin closed")
    server = hello["serverInfo"]
    print(f"stdio-probe: {server['name']} {server['version']}: handshake, {len(names)} tools, new_item ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
