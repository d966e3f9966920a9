"""The command line. `main.py` is the console script: no command (or `serve`) is the MCP
server, parsed with argparse on a fast path that loads neither click nor rich
(`serve_args.py`, `serve.py`); any other command goes to the click tree of `app.py`, whose
command modules (`tasks`, `bulk`, `views`, `sharing`, `admin`, `completion`) share
`context.py` (settings, the service, reports) and `exits.py` (exit codes, one-line errors),
and show tasks through `display.py`. The handlers of `transfer`, `backup`, `install`,
`doctor` and `tokens` do the work behind `admin`'s commands.

The service, the store and rich are imported only when a command runs, so `--help` loads
neither pydantic nor the MCP SDK, and `list` never loads the SDK.
"""
