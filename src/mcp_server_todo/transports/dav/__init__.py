"""CalDAV (RFC 4791) for task lists, served by Radicale as a library (the `caldav` extra).

app.py mounts it at /dav; storage.py (the storage plugin), collection.py (principals and one
VTODO-only collection per project), vtodo.py (task <-> VTODO resource), names.py (paths and
hrefs) and auth.py (Basic auth with tokens) are its plugins over the service and the tokens.
logins.py delays and bounds failed logins; feed.py serves the read-only calendar feeds.
Only this package imports radicale and a2wsgi (an import-linter contract)."""
