"""The command line: `main.py` parses and looks the command up in its table; one module per
command family (serve, tasks, tokens, backup, install, doctor) holds the handlers.

Handlers are imported only when their command runs, so `mcp-server-todo list` never loads
the MCP SDK and `serve` loads only what serving needs.
"""
