"""Titles in the line-based formats (todo.txt, Markdown). A title may hold line breaks
(model.clean_title), which one line of such a file cannot: they are written as backslash
escapes, `\\n` for LF and `\\r` for CR, and read back the same way.

Only what would be misread is escaped, so most titles are written exactly as stored: a
backslash is doubled only before `n`, `r`, another backslash or a line break (`C:\\new`
becomes `C:\\\\new`, `C:\\path` stays). `unescape` reverses `escape` exactly; the readers
apply it only to lines this server wrote (they carry a uid), so a `C:\\new` typed in someone
else's file stays as typed. Tabs fit on a line and are kept as they are.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\(?=[\\nr\n\r])|[\n\r]")
_UNESCAPE = re.compile(r"\\([\\nr])")
_ENCODED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r"}
_DECODED = {"\\": "\\", "n": "\n", "r": "\r"}


def escape(title: str) -> str:
    """`title` on one line, reversibly."""
    if "\\" not in title and "\n" not in title and "\r" not in title:
        return title
    return _ESCAPE.sub(lambda m: _ENCODED[m.group()], title)


def unescape(text: str) -> str:
    """The title that `escape` wrote as `text`."""
    if "\\" not in text:
        return text
    return _UNESCAPE.sub(lambda m: _DECODED[m.group(1)], text)
