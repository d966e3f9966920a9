"""CalDAV (RFC 4791) for task lists, served by Radicale as a library (the `caldav` extra):
app.py mounts it at /dav; storage.py and auth.py are its plugins over the service and the
tokens. Only this package imports radicale and a2wsgi (an import-linter contract)."""
