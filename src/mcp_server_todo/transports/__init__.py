"""The transports that carry MCP to the server: `stdio.py` (newline-delimited JSON-RPC on
stdin/stdout) and `http/` (Streamable HTTP under uvicorn). Each calls the server (server/),
never the store; the CLI (`serve`) picks one.
"""
